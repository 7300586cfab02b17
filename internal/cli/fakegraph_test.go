package cli

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/graph"
)

// fakeGraph is a Graph-shaped server written for the tests, independent of
// entrawatch's own simulated tenant (internal/graphsim): it serves records
// read from the detection fixtures, pages them two at a time, answers
// every fifth request with 429 and Retry-After, hides "late" records from
// the first listings, repeats records inside and across pages, and switches
// the device-registration MFA setting off after a few policy reads.
type fakeGraph struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests int
	throttle int // every n-th Graph request gets 429 (0: never)
	signIns  []json.RawMessage
	audits   []json.RawMessage
	devices  []json.RawMessage
	ca       []json.RawMessage
	roles    []json.RawMessage
	// late ids appear only after lateAfter listings of their collection.
	late      map[string]bool
	listings  map[string]int
	lateAfter int
	// policyReads counts policy reads; after offAfter the MFA setting is
	// notRequired.
	policyReads, offAfter int
	secret                string
}

const fakeTenant = "00000000-0000-0000-0000-0000000000aa"

func newFakeGraph(t *testing.T) *fakeGraph {
	f := &fakeGraph{t: t, throttle: 5, late: map[string]bool{}, listings: map[string]int{}, lateAfter: 2, offAfter: 2, secret: "fake-client-secret-value"}
	load := func(pattern string) []json.RawMessage {
		files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "detections", pattern))
		sort.Strings(files)
		var out []json.RawMessage
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var page struct {
				Value []json.RawMessage `json:"value"`
			}
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			out = append(out, page.Value...)
		}
		return out
	}
	f.signIns = load("*/*/graph-beta-signins.json")
	f.audits = load("*/*/graph-directoryaudits.json")
	f.devices = load("stale-device/*/graph-v1-devices.json")
	// Every third record arrives late.
	for i, r := range append(append([]json.RawMessage{}, f.signIns...), f.audits...) {
		if i%3 == 1 {
			f.late[idOf(r)] = true
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(graph.OpenIDConfiguration(f.srv.URL, r.PathValue("tenant")))
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.Form.Get("client_secret") != f.secret {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
			return
		}
		fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"fake-access-token"}`)
	})
	mux.HandleFunc("GET /beta/auditLogs/signIns", func(w http.ResponseWriter, r *http.Request) { f.list(w, r, "signIns", f.signIns, "createdDateTime") })
	mux.HandleFunc("GET /v1.0/auditLogs/directoryAudits", func(w http.ResponseWriter, r *http.Request) {
		f.list(w, r, "audits", f.audits, "activityDateTime")
	})
	mux.HandleFunc("GET /v1.0/devices", func(w http.ResponseWriter, r *http.Request) { f.list(w, r, "devices", f.devices, "") })
	mux.HandleFunc("GET /v1.0/identity/conditionalAccess/policies", func(w http.ResponseWriter, r *http.Request) { f.list(w, r, "ca", f.ca, "") })
	mux.HandleFunc("GET /v1.0/roleManagement/directory/roleAssignments", func(w http.ResponseWriter, r *http.Request) { f.list(w, r, "roles", f.roles, "") })
	mux.HandleFunc("GET /beta/policies/deviceRegistrationPolicy", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(w, r) {
			return
		}
		f.mu.Lock()
		f.policyReads++
		setting := "required"
		if f.policyReads > f.offAfter {
			setting = "notRequired"
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#policies/deviceRegistrationPolicy/$entity","id":"deviceRegistrationPolicy","displayName":"Device Registration Policy","userDeviceQuota":50,"multiFactorAuthConfiguration":%q,"azureADJoin":{"isAdminConfigurable":true}}`, setting)
	})
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func idOf(r json.RawMessage) string {
	var x struct {
		ID string `json:"id"`
	}
	json.Unmarshal(r, &x)
	return x.ID
}

func (f *fakeGraph) authorized(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	f.requests++
	n := f.requests
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer fake-access-token" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}`)
		return false
	}
	if f.throttle > 0 && n%f.throttle == 0 {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"Too many requests."}}`)
		return false
	}
	return true
}

var filterTime = regexp.MustCompile(`(\w+) (ge|lt|le|gt) (\d{4}-\d\d-\d\dT[0-9:.]+Z)`)

// list serves a collection, two records a page, with the $filter time
// window applied and a record repeated at each page boundary.
func (f *fakeGraph) list(w http.ResponseWriter, r *http.Request, name string, all []json.RawMessage, timeField string) {
	if !f.authorized(w, r) {
		return
	}
	q := r.URL.Query()
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	f.mu.Lock()
	if skip == 0 {
		f.listings[name]++
	}
	listing := f.listings[name]
	f.mu.Unlock()
	var from, to time.Time
	for _, m := range filterTime.FindAllStringSubmatch(q.Get("$filter"), -1) {
		t, err := time.Parse(time.RFC3339Nano, m[3])
		if err != nil {
			http.Error(w, `{"error":{"code":"BadRequest","message":"bad time"}}`, 400)
			return
		}
		switch m[2] {
		case "ge", "gt":
			from = t
		case "lt", "le":
			to = t
		}
	}
	var sel []json.RawMessage
	for _, rec := range all {
		if f.late[idOf(rec)] && listing <= f.lateAfter {
			continue
		}
		if timeField != "" {
			var x map[string]any
			json.Unmarshal(rec, &x)
			s, _ := x[timeField].(string)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err == nil && ((!from.IsZero() && t.Before(from)) || (!to.IsZero() && !t.Before(to))) {
				continue
			}
		}
		sel = append(sel, rec)
	}
	const page = 2
	end := min(skip+page, len(sel))
	var items []json.RawMessage
	if skip < len(sel) {
		items = append(items, sel[skip:end]...)
	}
	if skip > 0 && skip <= len(sel) {
		items = append(items, sel[skip-1]) // the previous page's last record, again
	}
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/$metadata#" + name, "value": items}
	if end < len(sel) {
		u := *r.URL
		q.Set("$skiptoken", strconv.Itoa(end))
		u.RawQuery = q.Encode()
		out["@odata.nextLink"] = f.srv.URL + u.RequestURI()
	}
	if items == nil {
		out["value"] = []json.RawMessage{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// caPEM writes the server's certificate as a PEM file for ca_file.
func (f *fakeGraph) caPEM(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
