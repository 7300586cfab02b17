package serve

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler is the service's HTTP API: /healthz and /readyz (open), and,
// behind the bearer token when one is configured, /metrics and /api/v1/….
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	api := http.NewServeMux()
	api.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	api.HandleFunc("GET /api/v1/alerts", s.listAlerts)
	api.HandleFunc("GET /api/v1/alerts/{id}", s.getAlert)
	api.HandleFunc("POST /api/v1/alerts/{id}/status", s.setStatus)
	api.HandleFunc("PATCH /api/v1/alerts/{id}", s.setStatus)
	api.HandleFunc("POST /api/v1/alerts/{id}/notes", s.addNote)
	api.HandleFunc("GET /api/v1/devices", s.listDevices)
	api.HandleFunc("GET /api/v1/devices/{tenant}/{id}/history", s.deviceHistory)
	api.HandleFunc("GET /api/v1/sources", s.listSources)
	api.HandleFunc("GET /api/v1/outbox", s.outboxStats)
	mux.Handle("/", s.authorize(api))
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// authorize requires the bearer token when one is configured.
func (s *Service) authorize(h http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return h
	}
	want := []byte("Bearer " + s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="entrawatch"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"status": status, "message": msg}})
}

func (s *Service) readyz(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.store.Cursor(r.Context(), "readyz"); err != nil {
		writeError(w, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// listAlerts serves GET /api/v1/alerts?status=new,acknowledged&severity=medium&rule=…&tenant=…&since=…&until=…&limit=…&after=….
func (s *Service) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.AlertFilter
	for _, v := range splitList(q["status"]) {
		st, err := store.ParseStatus(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "status: "+err.Error())
			return
		}
		f.Status = append(f.Status, st)
	}
	if v := q.Get("severity"); v != "" {
		sev, err := alert.ParseSeverity(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "severity: "+err.Error())
			return
		}
		f.MinSeverity = sev
	}
	f.Rule = splitList(q["rule"])
	f.Tenant = q.Get("tenant")
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := ParseSince(v, s.now())
			if err != nil {
				writeError(w, http.StatusBadRequest, p.name+": "+err.Error())
				return
			}
			*p.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit: want a number from 1 to 1000")
			return
		}
		f.Limit = n
	}
	f.After = q.Get("after")
	page, err := s.store.Alerts(r.Context(), f)
	if err != nil {
		storeError(w, err)
		return
	}
	if page.Alerts == nil {
		page.Alerts = []*store.Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": page.Alerts, "next": page.Next})
}

// ParseSince reads a point in time as the API and the alerts command take
// it: an RFC 3339 time, or a duration back from now in days ("7d") or as a
// Go duration ("24h").
func ParseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	d, err := detect.ParseDays(v)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 24h or 7d", v)
	}
	return now.Add(-d), nil
}

func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// alertView is an alert with its evidence and deliveries, for the API.
type alertView struct {
	*store.Alert
	Evidence   []eventView    `json:"evidence"`
	Deliveries []deliveryView `json:"deliveries"`
}

// MarshalJSON writes the alert's fields (store.Alert's own JSON) followed
// by its evidence and deliveries.
func (v *alertView) MarshalJSON() ([]byte, error) {
	return spliceJSON(v.Alert, map[string]any{"evidence": v.Evidence, "deliveries": v.Deliveries})
}

// spliceJSON adds fields to the JSON object v marshals to.
func spliceJSON(v any, extra map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("spliceJSON: %T is not an object", v)
	}
	x, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	out := append(b[:len(b)-1:len(b)-1], ',')
	if len(b) == 2 {
		out = out[:1]
	}
	return append(out, x[1:]...), nil
}

type eventView struct {
	Tenant string          `json:"tenant"`
	Source string          `json:"source"`
	Kind   string          `json:"kind"`
	ID     string          `json:"id"`
	Time   time.Time       `json:"time,omitzero"`
	Record json.RawMessage `json:"record,omitempty"`
}

type deliveryView struct {
	Sink      string    `json:"sink"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	NextTry   time.Time `json:"next_try,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

func (s *Service) alertView(r *http.Request, a *store.Alert) (*alertView, error) {
	v := &alertView{Alert: a, Evidence: []eventView{}, Deliveries: []deliveryView{}}
	for _, e := range a.Evidence {
		ev := eventView{Tenant: e.Tenant, Source: e.Source, Kind: e.Kind, ID: e.ID, Time: e.Time}
		if json.Valid(e.Raw) {
			ev.Record = e.Raw
		} else {
			b, _ := json.Marshal(string(e.Raw))
			ev.Record = b
		}
		v.Evidence = append(v.Evidence, ev)
	}
	ds, err := s.store.Deliveries(r.Context(), a.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		v.Deliveries = append(v.Deliveries, deliveryView{Sink: d.Sink, State: string(d.State), Attempts: d.Attempts, NextTry: d.NextTry, LastError: d.LastError})
	}
	return v, nil
}

func (s *Service) getAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.Alert(r.Context(), r.PathValue("id"))
	if err != nil {
		storeError(w, err)
		return
	}
	v, err := s.alertView(r, a)
	if err != nil {
		storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func storeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such alert")
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// change is the body of a status change or note.
type change struct {
	Status string `json:"status"`
	Note   string `json:"note"`
	Author string `json:"author"`
}

func readChange(w http.ResponseWriter, r *http.Request) (*change, bool) {
	var c change
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	err := dec.Decode(&c)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("more after the JSON object")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error()+` (want {"status":"acknowledged","note":"…","author":"…"})`)
		return nil, false
	}
	if c.Author == "" {
		c.Author = "api"
	}
	return &c, true
}

func (s *Service) setStatus(w http.ResponseWriter, r *http.Request) {
	c, ok := readChange(w, r)
	if !ok {
		return
	}
	st, err := store.ParseStatus(c.Status)
	if err != nil {
		writeError(w, http.StatusBadRequest, "status: "+err.Error())
		return
	}
	a, err := s.store.SetStatus(r.Context(), r.PathValue("id"), st, c.Author, c.Note)
	if err != nil {
		storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Service) addNote(w http.ResponseWriter, r *http.Request) {
	c, ok := readChange(w, r)
	if !ok {
		return
	}
	if strings.TrimSpace(c.Note) == "" {
		writeError(w, http.StatusBadRequest, "note: empty")
		return
	}
	a, err := s.store.AddNote(r.Context(), r.PathValue("id"), c.Author, c.Note)
	if err != nil {
		storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// listDevices serves GET /api/v1/devices?stale=true&noncompliant=true&tenant=…&limit=…&after=….
func (s *Service) listDevices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.DeviceFilter{Tenant: q.Get("tenant"), After: q.Get("after")}
	if v := q.Get("stale"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "stale: want true or false")
			return
		}
		f.Stale = &b
	}
	if v := q.Get("noncompliant"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "noncompliant: want true or false")
			return
		}
		f.NonCompliant = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit: want a number from 1 to 1000")
			return
		}
		f.Limit = n
	}
	devs, next, err := s.store.Devices(r.Context(), f)
	if err != nil {
		storeError(w, err)
		return
	}
	if devs == nil {
		devs = []store.Device{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": devs, "next": next})
}

func (s *Service) deviceHistory(w http.ResponseWriter, r *http.Request) {
	h, err := s.store.DeviceHistory(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such device")
		return
	}
	if err != nil {
		storeError(w, err)
		return
	}
	if h == nil {
		h = []store.DeviceChange{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": h})
}

// Sources returns the status of every source, sorted by tenant and name.
func (s *Service) Sources() []SourceStatus {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	out := make([]SourceStatus, 0, len(s.sources))
	for _, st := range s.sources {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Tenant != out[j].Tenant {
			return out[i].Tenant < out[j].Tenant
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (s *Service) listSources(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"sources": s.Sources()})
}

func (s *Service) outboxStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.store.OutboxStats(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"outbox": st})
}
