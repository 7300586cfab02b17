package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/valyala/fastjson"
)

// Item is one raw record handed to the pipeline by a source.
type Item struct {
	// Data is the record as JSON (owned by the pipeline after the call).
	Data []byte
	// Raw is the original record when it differs from Data (a CSV row).
	Raw []byte
	// Source says where it came from (for Graph, File is the URL path).
	Source record.Source
}

// Ingest is one step of ingestion: records of one source, and the cursors
// that say how far the source got once they are stored.
type Ingest struct {
	Tenant  string
	Source  string
	Items   []Item
	Cursors []store.Cursor
	// Engine evaluates the records; nil uses the service's log engine.
	Engine *detect.Engine
	// Finish runs the engine's stateful detections after the records (the
	// inventory and policy checks, which see a whole snapshot at once).
	Finish bool
	// Extra are alerts the source raised itself (policy changes…).
	Extra []*alert.Alert
	// ExtraKeys, when set, has one key per Extra alert: the alert's
	// identity within its rule and tenant, the same each time a run finds
	// the same thing again (a scheduled rule's result row), in place of the
	// time-based key of state checks. An empty key keeps that default.
	ExtraKeys []string
	// ExtraEvidence, when set, has the events behind each Extra alert.
	ExtraEvidence [][]store.EventRef
	// SkipSeen drops records already stored before detection (log records
	// read again through overlapping windows); snapshots keep them.
	SkipSeen bool
	// Observed dates the alerts at the time of the check rather than at the
	// event behind them: a device found stale today is news today, though
	// its last sign-in (kept in the summary and details) is months old.
	Observed time.Time
}

// IngestResult says what one step did.
type IngestResult struct {
	Records, Bad, Seen int
	// Newest is the time of the newest record read (stored before or not).
	Newest     time.Time
	Alerts     *store.Result
	Suppressed int
}

var parsers fastjson.ParserPool

// ingest parses, classifies and evaluates the records of in, and stores
// events, alerts and cursors in one transaction. The cursors advance only
// when everything is stored, so a crash re-reads rather than loses.
func (s *Service) ingest(ctx context.Context, in *Ingest) (*IngestResult, error) {
	res := &IngestResult{}
	eng := in.Engine
	if eng == nil {
		eng = s.engine()
	}
	// First pass: parse, classify, give each record its event id.
	p := parsers.Get()
	defer parsers.Put(p)
	var list []parsed
	byKind := map[string][]string{}
	for i := range in.Items {
		it := &in.Items[i]
		v, err := p.ParseBytes(it.Data)
		if err != nil {
			res.Bad++
			s.metrics.badRecords.WithLabelValues(in.Source, in.Tenant).Inc()
			s.log.Warn("bad record", "source", in.Source, "tenant", in.Tenant, "file", it.Source.File, "line", it.Source.Line, "reason", err.Error())
			continue
		}
		var rec record.Record
		rec.Root = v
		rec.Raw = it.Data
		rec.Classify()
		ev := store.Event{Tenant: in.Tenant, Source: in.Source, Kind: rec.Kind.String(), ID: s.eventID(&rec, it), Raw: compactRaw(it)}
		if t, ok := rec.Time(); ok {
			ev.Time = t.UTC()
			if ev.Time.After(res.Newest) {
				res.Newest = ev.Time
			}
		}
		rec.Release()
		list = append(list, parsed{ev: ev, item: it})
		byKind[ev.Kind] = append(byKind[ev.Kind], ev.ID)
	}
	seen := map[string]bool{}
	if in.SkipSeen {
		for kind, ids := range byKind {
			m, err := s.store.SeenEvents(ctx, in.Tenant, kind, ids)
			if err != nil {
				return nil, fmt.Errorf("checking stored events: %w", err)
			}
			for id := range m {
				seen[kind+"\x00"+id] = true
			}
		}
	}
	batch := &store.Batch{Cursors: in.Cursors, GroupWindow: s.cfg.GroupWindow, Route: s.route, Now: s.now()}
	var raised []*alert.Alert
	var evidence [][]store.EventRef
	for i := range list {
		x := &list[i]
		k := x.ev.Kind + "\x00" + x.ev.ID
		if seen[k] {
			res.Seen++
			continue
		}
		// A record listed twice in one step (Graph repeats records at page
		// boundaries) is one record.
		seen[k] = true
		res.Records++
		batch.Events = append(batch.Events, x.ev)
		v, err := p.ParseBytes(x.item.Data)
		if err != nil {
			continue
		}
		var rec record.Record
		rec.Root = v
		rec.Raw = x.item.Data
		rec.Classify()
		rec.Source = x.item.Source
		ref := []store.EventRef{{Kind: x.ev.Kind, ID: x.ev.ID}}
		eng.Detect(&rec, func(a *alert.Alert) {
			raised = append(raised, a)
			evidence = append(evidence, ref)
		})
		rec.Release()
	}
	perRecord := len(raised)
	if in.Finish {
		eng.Finish(func(a *alert.Alert) {
			raised = append(raised, a)
			evidence = append(evidence, evidenceOf(a, list))
		})
	}
	// The source's own alerts each report one finding (a policy change, a
	// role holder nobody saw assigned): they are not repeats of an alert of
	// the same rule and entity, which may be about another finding (the
	// actor of an audited assignment), and do not group.
	extra := len(raised)
	for j, a := range in.Extra {
		raised = append(raised, a)
		var ev []store.EventRef
		if j < len(in.ExtraEvidence) {
			ev = in.ExtraEvidence[j]
		}
		evidence = append(evidence, ev)
	}
	for i, a := range raised {
		if !in.Observed.IsZero() {
			a.Time = in.Observed
		}
		if s.suppressed(in.Tenant, a) {
			res.Suppressed++
			s.metrics.suppressed.WithLabelValues(a.Rule).Inc()
			continue
		}
		group := groupKey(in.Tenant, a)
		if i >= extra {
			group = ""
		}
		key := ""
		if j := i - extra; j >= 0 && j < len(in.ExtraKeys) && in.ExtraKeys[j] != "" {
			key = explicitKey(in.Tenant, a.Rule, in.ExtraKeys[j])
		} else {
			key = alertKey(in.Tenant, a, evidence[i], i >= perRecord)
		}
		batch.Alerts = append(batch.Alerts, store.NewAlert{Alert: a, Tenant: in.Tenant, Key: key, Group: group, EventIDs: evidence[i]})
	}
	r, err := s.store.Commit(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("storing %d records and %d alerts of %s: %w", len(batch.Events), len(batch.Alerts), in.Source, err)
	}
	res.Alerts = r
	s.metrics.records.WithLabelValues(in.Source, in.Tenant).Add(float64(res.Records))
	for _, a := range r.Created {
		s.metrics.alerts.WithLabelValues(a.Rule, a.Severity.String()).Inc()
		s.log.Info("alert", "id", a.ID, "rule", a.Rule, "severity", a.Severity.String(), "tenant", a.Tenant)
	}
	if len(r.Created) > 0 && s.dispatcher != nil {
		s.dispatcher.Kick()
	}
	return res, nil
}

// parsed is a record of an Ingest with its event.
type parsed struct {
	ev   store.Event
	item *Item
}

// evidenceOf finds the events behind an alert raised at Finish: the
// records whose JSON the alert carries.
func evidenceOf(a *alert.Alert, list []parsed) []store.EventRef {
	for _, x := range list {
		if len(a.Record) > 0 && string(x.item.Data) == string(a.Record) {
			return []store.EventRef{{Kind: x.ev.Kind, ID: x.ev.ID}}
		}
	}
	return nil
}

// eventID identifies a record within its tenant and kind: the Graph id
// where the record has one, otherwise a hash of its content (the same line
// read again after a restart or a rotation gets the same id). Snapshot
// records (devices, policies) change under the same id: their event id
// adds what changed, so that each state is its own event.
func (s *Service) eventID(r *record.Record, it *Item) string {
	id := ""
	for _, k := range []string{"id", "Id"} {
		if v := r.Root.Get(k); v != nil && v.Type() == fastjson.TypeString {
			if x := string(v.GetStringBytes()); x != "" && len(x) <= 200 {
				id = x
				break
			}
		}
	}
	if id == "" && r.Props != nil {
		if v := r.Props.Get("id"); v != nil && v.Type() == fastjson.TypeString {
			if x := string(v.GetStringBytes()); x != "" && len(x) <= 200 {
				id = x
			}
		}
	}
	switch r.Kind {
	case record.KindDevice:
		if id != "" {
			return id + "@" + record.Text(r.Get(s.lastSignIn))
		}
	case record.KindRegistrationPolicy, record.KindCAPolicy:
		sum := sha256.Sum256(it.Data)
		return id + "@" + hex.EncodeToString(sum[:8])
	default:
		if id != "" {
			return id
		}
	}
	raw := it.Raw
	if raw == nil {
		raw = it.Data
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

func compactRaw(it *Item) []byte {
	if it.Raw != nil {
		return append([]byte(nil), it.Raw...)
	}
	return append([]byte(nil), it.Data...)
}

// alertKey is an alert's stable identity: the rule, the tenant and the
// evidence that makes it unique — the events behind it, or for alerts
// without one record (policy state, inventory) the rule's own details.
// State alerts (withTime: raised once a whole snapshot is seen) also take
// their time, the check that saw the state: each check makes a new key, and
// the checks of one episode group into one alert.
func alertKey(tenant string, a *alert.Alert, ev []store.EventRef, withTime bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", a.Rule, tenant)
	if withTime {
		fmt.Fprintf(h, "t%d\x00", a.Time.UnixNano())
	}
	if len(ev) > 0 {
		for _, e := range ev {
			fmt.Fprintf(h, "%s\x00%s\x00", e.Kind, e.ID)
		}
	} else {
		for _, d := range a.Details {
			if d.Name == "key" || d.Name == "checked_at" {
				continue
			}
			fmt.Fprintf(h, "%s=%s\x00", d.Name, d.Value)
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s", a.Entities.DeviceID, a.Entities.User, a.Summary)
		if !a.Time.IsZero() {
			fmt.Fprintf(h, "\x00%d", a.Time.Unix())
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// explicitKey is the store key of an alert whose source gave its identity
// (Ingest.ExtraKeys): the rule, the tenant and that identity.
func explicitKey(tenant, rule, key string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00k\x00%s", rule, tenant, key)
	return hex.EncodeToString(h.Sum(nil))
}

// groupKey is what repeats group on: the rule, the tenant and the alert's
// main entity.
func groupKey(tenant string, a *alert.Alert) string {
	e := a.Entities
	ent := firstNonEmpty(e.User, e.DeviceID, e.DeviceName, e.Host, e.IP)
	return a.Rule + "\x00" + tenant + "\x00" + strings.ToLower(ent)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// suppressed reports whether a configured suppression covers the alert.
func (s *Service) suppressed(tenant string, a *alert.Alert) bool {
	now := s.now()
	for _, x := range s.cfg.Suppressions {
		if x.Rule != a.Rule && x.Rule != "*" {
			continue
		}
		if x.Tenant != "" && !strings.EqualFold(x.Tenant, tenant) {
			continue
		}
		if !x.Until.IsZero() && !now.Before(x.Until) {
			continue
		}
		if x.Entity != "" {
			e := a.Entities
			match := false
			for _, v := range []string{e.User, e.DeviceID, e.DeviceName, e.IP, e.Host} {
				if v != "" && strings.EqualFold(v, x.Entity) {
					match = true
				}
			}
			if !match {
				continue
			}
		}
		return true
	}
	return false
}
