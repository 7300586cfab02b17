package serve

// Benchmarks of the service's ingestion (docs/performance.md, "entrawatch
// serve: ingestion and latency"). They run only under -bench:
//
//	go test -run '^$' -bench 'Ingest$' -benchtime 100x ./internal/serve
//	go test -run '^$' -bench 'IngestGraph$' -benchtime 1x ./internal/serve
//
// (BenchmarkIngestGraph's op is a whole 100,000-record poll, ~11 s: do not
// give it -benchtime 100x.)
//
// BenchmarkIngest drives the pipeline step pollWindow uses (s.ingest with
// SkipSeen, chunks of 1000) into a real SQLite store; BenchmarkIngestGraph
// adds the Graph client: one sign-in poll over 100,000 records served by an
// httptest TLS server in pages of 1000, as Graph pages them.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	_ "github.com/entrawatch/entrawatch/internal/catalog"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/graph"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/entrawatch/entrawatch/internal/store/sqlite"
)

// benchFlagEvery makes one generated sign-in in benchFlagEvery a sign-in
// from a non-compliant device (noncompliant-device-signin); the others
// raise nothing.
const benchFlagEvery = 100

// benchGen generates Graph beta signIn objects (GET
// /beta/auditLogs/signIns), 3–5 KB each, deterministic for a seed: users
// with their own devices, apps, places, Conditional Access results and
// authentication details as a real tenant's records carry them. Record i
// is flagged when i%benchFlagEvery == benchFlagEvery-1.
type benchGen struct {
	r   *rand.Rand
	run string // makes ids unique across generators
}

func newBenchGen(seed uint64) *benchGen {
	return &benchGen{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), run: fmt.Sprintf("%08x", uint32(seed))}
}

var (
	benchFirst  = []string{"Adele", "Alex", "Allan", "Bianca", "Christie", "Debra", "Diego", "Emily", "Enrico", "Grady", "Henrietta", "Irvin", "Isaiah", "Johanna", "Joni", "Lee", "Lidia", "Lynne", "Megan", "Miriam"}
	benchLast   = []string{"Vance", "Wilber", "Deyoung", "Pisani", "Cline", "Berger", "Siciliani", "Braun", "Bayo", "Archie", "Mueller", "Langer", "Lauer", "Sherman", "Gu"}
	benchApps   = [][4]string{{"4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", "00000003-0000-0000-c000-000000000000", "Microsoft Graph"}, {"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services"}, {"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"}, {"ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine", "00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online"}, {"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API"}}
	benchPlaces = [][4]string{{"Seattle", "Washington", "US", "198.51.100."}, {"New York", "New York", "US", "203.0.113."}, {"London", "England", "GB", "81.2.69."}, {"Berlin", "Berlin", "DE", "89.160.20."}, {"Dublin", "Dublin", "IE", "216.160.83."}}
	benchUAs    = []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Windows-AzureAD-Authentication-Provider/1.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"}
	benchCA     = []string{"Require MFA for all users outside trusted locations", "Require compliant or hybrid joined device for Office 365", "Block legacy authentication", "Require MFA for Azure management", "Require MFA to register or join devices", "Sign-in frequency for unmanaged devices", "Require app protection policy on mobile", "Block access from sanctioned countries", "Require phishing-resistant MFA for administrators", "Require terms of use for guests"}
)

// uuid makes a GUID-shaped id from the generator's run and two numbers.
func (g *benchGen) uuid(kind, n int) string {
	return fmt.Sprintf("%s-%04x-4%03x-8%03x-%012x", g.run, kind&0xffff, (n>>24)&0xfff, (n>>12)&0xfff, n)
}

// signIn returns record i, created at t.
func (g *benchGen) signIn(i int, t time.Time) []byte {
	r := g.r
	u := r.IntN(len(benchFirst) * len(benchLast))
	first, last := benchFirst[u%len(benchFirst)], benchLast[u/len(benchFirst)]
	upn := strings.ToLower(first + "." + last + "@contoso.com")
	app := benchApps[r.IntN(len(benchApps))]
	pl := benchPlaces[u%len(benchPlaces)]
	ip := pl[3] + strconv.Itoa(1+r.IntN(250))
	ts := t.UTC().Format("2006-01-02T15:04:05.0000000Z")
	flagged := i%benchFlagEvery == benchFlagEvery-1
	compliant := "true"
	if flagged {
		compliant = "false"
	}
	interactive := r.IntN(3) > 0
	evType := "interactiveUser"
	if !interactive {
		evType = "nonInteractiveUser"
	}
	b := make([]byte, 0, 5000)
	b = fmt.Appendf(b, `{"id":%q,"createdDateTime":%q,"userDisplayName":"%s %s","userPrincipalName":%q,"userId":%q,`+
		`"appId":%q,"appDisplayName":%q,"ipAddress":%q,"ipAddressFromResourceProvider":null,"clientAppUsed":"Mobile Apps and Desktop clients",`+
		`"clientCredentialType":"none","correlationId":%q,"originalRequestId":%q,"conditionalAccessStatus":"success","isInteractive":%t,`+
		`"tokenIssuerName":"","tokenIssuerType":"AzureAD","processingTimeInMilliseconds":%d,"riskDetail":"none","riskLevelAggregated":"none",`+
		`"riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"riskEventTypes_v2":[],"resourceDisplayName":%q,"resourceId":%q,`+
		`"resourceTenantId":"8c3f2e1d-5b4a-4c6d-9e7f-0a1b2c3d4e5f","homeTenantId":"8c3f2e1d-5b4a-4c6d-9e7f-0a1b2c3d4e5f","homeTenantName":"",`+
		`"authenticationMethodsUsed":[],"authenticationRequirement":"multiFactorAuthentication","signInIdentifier":%q,"signInIdentifierType":null,`+
		`"servicePrincipalName":null,"signInEventTypes":[%q],"servicePrincipalId":"","federatedCredentialId":"","userType":"member",`+
		`"flaggedForReview":false,"isTenantRestricted":false,"autonomousSystemNumber":%d,"crossTenantAccessType":"none",`+
		`"servicePrincipalCredentialKeyId":"","servicePrincipalCredentialThumbprint":"","uniqueTokenIdentifier":%q,"incomingTokenType":"none",`+
		`"authenticationProtocol":"none","resourceServicePrincipalId":%q,"sessionId":%q,"mfaDetail":null,`+
		`"status":{"errorCode":0,"failureReason":"Other.","additionalDetails":null},`,
		g.uuid(1, i), ts, first, last, upn, g.uuid(2, u), app[0], app[1], ip, g.uuid(3, i), g.uuid(4, i), interactive,
		20+r.IntN(400), app[3], app[2], upn, evType, 8075+r.IntN(4), strings.ReplaceAll(g.uuid(5, i), "-", "")[:22], g.uuid(6, r.IntN(40)), g.uuid(7, i))
	b = fmt.Appendf(b, `"deviceDetail":{"deviceId":%q,"displayName":"CONTOSO-LT-%04d","operatingSystem":"Windows10","browser":"Edge 131.0.0",`+
		`"isCompliant":%s,"isManaged":true,"trustType":"Microsoft Entra joined","browserId":null},`+
		`"location":{"city":%q,"state":%q,"countryOrRegion":%q,"geoCoordinates":{"altitude":null,"latitude":47.6062,"longitude":-122.3321}},`,
		g.uuid(8, u), u, compliant, pl[0], pl[1], pl[2])
	b = append(b, `"appliedConditionalAccessPolicies":[`...)
	for k, n := 0, 1+r.IntN(5); k < n; k++ {
		if k > 0 {
			b = append(b, ',')
		}
		res := "notApplied"
		if k == 0 {
			res = "success"
		}
		b = fmt.Appendf(b, `{"id":%q,"displayName":%q,"enforcedGrantControls":["Mfa"],"enforcedSessionControls":[],"result":%q}`,
			g.uuid(9, k), benchCA[k], res)
	}
	b = fmt.Appendf(b, `],"authenticationContextClassReferences":[],"authenticationProcessingDetails":[{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"},`+
		`{"key":"Oauth Scope Info","value":"[\"AuditLog.Read.All\",\"Directory.Read.All\",\"User.Read\"]"},{"key":"Is CAE Token","value":"True"}],`+
		`"networkLocationDetails":[],"authenticationDetails":[{"authenticationStepDateTime":%q,"authenticationMethod":"Password",`+
		`"authenticationMethodDetail":"Password in the cloud","succeeded":true,"authenticationStepResultDetail":"Correct password",`+
		`"authenticationStepRequirement":"Primary authentication"},{"authenticationStepDateTime":%q,`+
		`"authenticationMethod":"Mobile app notification","authenticationMethodDetail":null,"succeeded":true,`+
		`"authenticationStepResultDetail":"MFA successfully completed","authenticationStepRequirement":"Multi-factor authentication"`+
		`}],"authenticationRequirementPolicies":[{"requirementProvider":"multiConditionalAccess",`+
		`"detail":"Conditional Access"}],"sessionLifetimePolicies":[],"privateLinkDetails":{"policyId":"","policyName":"","resourceId":"","policyTenantId":""},`+
		`"appliedEventListeners":[],"authenticationAppDeviceDetails":null,"tokenProtectionStatusDetails":{"signInSessionStatus":"unbound",`+
		`"signInSessionStatusCode":1002},"userAgent":%q}`, ts, ts, benchUAs[r.IntN(len(benchUAs))])
	return b
}

// benchDispatcher routes every alert to one sink (so commits write outbox
// entries as with a configured sink) and delivers nothing.
type benchDispatcher struct{}

func (benchDispatcher) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (benchDispatcher) Kick()                         {}
func (benchDispatcher) Route(*store.Alert) []string   { return []string{"bench"} }

// newBenchService opens a store in dir and builds a service on it with
// the built-in detections.
func newBenchService(tb testing.TB, dir string) (*Service, *sqlite.Store) {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "entrawatch.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Options{Store: st, Dispatcher: benchDispatcher{}, GroupWindow: time.Hour,
		NewEngine: func(now time.Time) (*detect.Engine, error) { return detect.NewEngine(detect.Options{Now: now}) }})
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	return s, st
}

// benchFlagged counts the sign-ins behind the store's alerts (a repeat by
// the same user within the group window adds to the user's alert), and
// fails on an alert of another rule.
func benchFlagged(tb testing.TB, st *sqlite.Store) int {
	tb.Helper()
	page, err := st.Alerts(context.Background(), store.AlertFilter{Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	if page.Next != "" {
		tb.Fatal("more than 1000 alerts: the generator has more users than expected")
	}
	n := 0
	for _, a := range page.Alerts {
		if a.Rule != "noncompliant-device-signin" {
			tb.Fatalf("alert %s of rule %s: %s", a.ID, a.Rule, a.Summary)
		}
		n += a.Count
	}
	return n
}

// benchChunk is one pollWindow chunk of generated records (i0, i0+1, …).
func benchChunk(g *benchGen, i0 int, now time.Time) ([]Item, int64) {
	items := make([]Item, chunk)
	var n int64
	for k := range items {
		d := g.signIn(i0+k, now.Add(-time.Duration(chunk-k)*time.Millisecond))
		n += int64(len(d))
		items[k] = Item{Data: d, Source: record.Source{File: "graph:bench/signins", Format: "graph"}}
	}
	return items, n
}

// BenchmarkIngest measures one pipeline step as pollWindow makes it: 1000
// records parsed, classified, checked against the store (SkipSeen),
// evaluated by the built-ins and committed with their alerts and outbox
// entries in one transaction. "new" stores fresh records (the store grows
// by 1000 each op); "seen" reads back records already stored, as each poll
// does for the overlap of its window.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	b.Run("new", func(b *testing.B) {
		s, st := newBenchService(b, b.TempDir())
		defer st.Close()
		g := newBenchGen(1)
		var bytes int64
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			items, n := benchChunk(g, i*chunk, time.Now())
			bytes += n
			b.StartTimer()
			if _, err := s.ingest(ctx, &Ingest{Tenant: "bench", Source: "graph/signins", Items: items, SkipSeen: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if got, want := benchFlagged(b, st), b.N*chunk/benchFlagEvery; got != want {
			b.Fatalf("alerts of %d flagged sign-ins among %d records, want %d", got, b.N*chunk, want)
		}
		b.SetBytes(bytes / int64(b.N))
		b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(bytes)/float64(b.N*chunk), "B/record")
	})
	b.Run("seen", func(b *testing.B) {
		s, st := newBenchService(b, b.TempDir())
		defer st.Close()
		g := newBenchGen(2)
		items, n := benchChunk(g, 0, time.Now())
		if _, err := s.ingest(ctx, &Ingest{Tenant: "bench", Source: "graph/signins", Items: items, SkipSeen: true}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := s.ingest(ctx, &Ingest{Tenant: "bench", Source: "graph/signins", Items: items, SkipSeen: true})
			if err != nil {
				b.Fatal(err)
			}
			if r.Seen != chunk {
				b.Fatalf("%d of %d records seen", r.Seen, chunk)
			}
		}
		b.StopTimer()
		b.SetBytes(n)
		b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "records/s")
	})
}

// benchGraphRecords is how many sign-ins BenchmarkIngestGraph's server
// holds, served in pages of chunk as Graph does ($top=1000).
const benchGraphRecords = 100_000

// benchGraphServer serves generated sign-ins at /beta/auditLogs/signIns in
// pages linked by @odata.nextLink ($skiptoken is the page number); it
// ignores $filter, since every record lies in the poll's window. It returns
// the server and the bytes of all pages.
func benchGraphServer(b *testing.B, total int) (*httptest.Server, int64) {
	var pages [][]byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/beta/auditLogs/signIns" || r.Header.Get("Authorization") != "Bearer bench-token" {
			http.Error(w, `{"error":{"code":"NotFound","message":"no such path"}}`, http.StatusNotFound)
			return
		}
		p, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
		if p < 0 || p >= len(pages) {
			http.Error(w, `{"error":{"code":"BadRequest","message":"bad $skiptoken"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true")
		w.Write(pages[p])
	}))
	b.Cleanup(srv.Close)
	g := newBenchGen(3)
	now := time.Now()
	var size int64
	for p := 0; p*chunk < total; p++ {
		page := []byte(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`)
		for k := 0; k < chunk && p*chunk+k < total; k++ {
			if k > 0 {
				page = append(page, ',')
			}
			i := p*chunk + k
			page = append(page, g.signIn(i, now.Add(-time.Hour+time.Duration(i)*time.Millisecond*30))...)
		}
		page = append(page, ']')
		if (p+1)*chunk < total {
			page = fmt.Appendf(page, `,"@odata.nextLink":%q`, srv.URL+"/beta/auditLogs/signIns?$top=1000&$skiptoken="+strconv.Itoa(p+1))
		}
		page = append(page, '}')
		size += int64(len(page))
		pages = append(pages, page)
	}
	return srv, size
}

// BenchmarkIngestGraph measures a whole sign-in poll: the real Graph
// client reading 100,000 sign-ins (pages of 1000 over TLS on loopback) and
// the service storing them in chunks of 1000 into a new store, the alerts
// of the 1% flagged records included. One op is the whole poll.
func BenchmarkIngestGraph(b *testing.B) {
	srv, size := benchGraphServer(b, benchGraphRecords)
	api, err := graph.New(srv.URL, graph.StaticToken("bench-token"), graph.WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(size)
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		s, st := newBenchService(b, dir)
		ten := &Tenant{Name: "bench", Graph: api, SignIns: Stream{Enabled: true, Interval: time.Minute, Overlap: 2 * time.Hour}}
		streams := ten.streams(s)
		b.StartTimer()
		err := streams[0].poll(ctx)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		status := s.status("bench", "graph/signins")
		if flagged := benchFlagged(b, st); status.Records != benchGraphRecords || flagged != benchGraphRecords/benchFlagEvery {
			b.Fatalf("poll stored %d records and %d flagged sign-ins, want %d and %d", status.Records, flagged, benchGraphRecords, benchGraphRecords/benchFlagEvery)
		}
		st.Close()
		os.RemoveAll(dir)
	}
	b.ReportMetric(float64(b.N*benchGraphRecords)/b.Elapsed().Seconds(), "records/s")
}

// TestBenchSignIns checks the benchmarks' generator: records of 3–5 KB
// with unique ids, of which exactly the flagged ones raise an alert, of
// noncompliant-device-signin.
func TestBenchSignIns(t *testing.T) {
	s, st := newBenchService(t, t.TempDir())
	defer st.Close()
	items, n := benchChunk(newBenchGen(1), 0, time.Now())
	ids := map[string]bool{}
	for _, it := range items {
		if len(it.Data) < 3000 || len(it.Data) > 5500 {
			t.Errorf("record of %d bytes, want 3–5 KB", len(it.Data))
		}
		ids[benchRecordID(t, it.Data)] = true
	}
	if len(ids) != chunk {
		t.Errorf("%d distinct ids among %d records", len(ids), chunk)
	}
	if avg := n / chunk; avg < 3500 || avg > 4500 {
		t.Errorf("records average %d bytes, want about 4 KB", avg)
	}
	r, err := s.ingest(context.Background(), &Ingest{Tenant: "bench", Source: "graph/signins", Items: items, SkipSeen: true})
	if err != nil {
		t.Fatal(err)
	}
	if f := benchFlagged(t, st); r.Records != chunk || r.Bad != 0 || f != chunk/benchFlagEvery {
		t.Fatalf("ingest: %d records, %d bad, alerts of %d; want %d, 0, %d", r.Records, r.Bad, f, chunk, chunk/benchFlagEvery)
	}
	for _, a := range r.Alerts.Created {
		if a.Rule != "noncompliant-device-signin" || a.Severity != alert.High {
			t.Errorf("alert %s of %s (%s), want noncompliant-device-signin", a.ID, a.Rule, a.Summary)
		}
	}
}

// benchRecordID checks that a generated record is a sign-in and returns
// its id.
func benchRecordID(t *testing.T, data []byte) string {
	t.Helper()
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(data)
	if err != nil {
		t.Fatalf("generated record is not JSON: %v", err)
	}
	rec := record.Record{Root: v, Raw: data}
	rec.Classify()
	defer rec.Release()
	if rec.Kind != record.KindSignIn {
		t.Fatalf("generated record classified as %s, not a sign-in", rec.Kind)
	}
	return string(v.GetStringBytes("id"))
}
