package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/sentinel"
	"github.com/entrawatch/entrawatch/internal/store"
)

// DefaultMaxScheduledRecords is the default bound on the records one run
// of a scheduled Sentinel rule reads from the store (Options.MaxScheduledRecords).
const DefaultMaxScheduledRecords = 500_000

// scheduledDelay is how long after start the scheduled rules first run,
// so that the first polls of the sources are stored.
const scheduledDelay = 30 * time.Second

// scheduledFormat is the record.Source format of the records a scheduled
// run reads from the store; their Line is their place in the run.
const scheduledFormat = "stored-event"

// scheduledTenants are the tenant names of the events: the Graph tenants
// and the file sources, each once.
func (s *Service) scheduledTenants() []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, t := range s.cfg.Tenants {
		add(t.Name)
	}
	for _, f := range s.cfg.Files {
		add(f.Name)
	}
	return out
}

// scheduledStreams are the runs of the scheduled rules: one stream per
// tenant and rule, every queryFrequency.
func (s *Service) scheduledStreams() []stream {
	var out []stream
	for _, tenant := range s.scheduledTenants() {
		for _, r := range s.cfg.Scheduled {
			interval := r.QueryFrequency
			if interval <= 0 {
				interval = 5 * time.Minute
			}
			out = append(out, stream{name: "sentinel/" + r.AlertID(), tenant: tenant, interval: interval, delay: scheduledDelay,
				poll: func(ctx context.Context) error { return s.runScheduled(ctx, tenant, r) }})
		}
	}
	return out
}

// errTooMany stops reading the store when a run's window holds too many
// records.
var errTooMany = errors.New("too many records")

// runScheduled runs a scheduled rule once for a tenant, at the service's
// now, over the tenant's stored events of the rule's queryPeriod, and
// stores its alerts. A result row found again by a later run over an
// overlapping window keeps its identity and makes no second alert.
func (s *Service) runScheduled(ctx context.Context, tenant string, r *sentinel.Rule) error {
	now := s.now()
	period := r.QueryPeriod
	if period <= 0 {
		period = r.QueryFrequency
	}
	want := map[string]bool{}
	for _, k := range r.Kinds() {
		want[k.String()] = true
	}
	set := sentinel.NewSet([]*sentinel.Rule{r}, sentinel.Options{Now: now, WallClock: s.now})
	det := set.Detectors()[0]
	p := parsers.Get()
	defer parsers.Put(p)
	var refs []store.EventRef
	bad := 0
	limit := s.cfg.MaxScheduledRecords
	// The rule's window is (now - queryPeriod, now]: the set drops the
	// record at its start, the store's [since, until) the one after now.
	err := s.store.Events(ctx, tenant, now.Add(-period), now.Add(time.Nanosecond), func(e store.Event) error {
		if !want[e.Kind] {
			return nil
		}
		if len(refs) >= limit {
			return errTooMany
		}
		v, err := p.ParseBytes(e.Raw)
		if err != nil {
			bad++
			return nil
		}
		var rec record.Record
		rec.Root = v
		rec.Raw = e.Raw
		rec.Classify()
		rec.Source = record.Source{File: e.Source, Line: int64(len(refs) + 1), Format: scheduledFormat}
		det.Detect(&rec, nil)
		rec.Release()
		refs = append(refs, store.EventRef{Kind: e.Kind, ID: e.ID})
		return nil
	})
	if errors.Is(err, errTooMany) {
		return fmt.Errorf("rule %s: its %s window holds more than %d records: none evaluated (raise serve's record bound or shorten queryPeriod)",
			r.AlertID(), period, limit)
	}
	if err != nil {
		return fmt.Errorf("rule %s: reading the events of its window: %w", r.AlertID(), err)
	}
	if bad > 0 {
		s.log.Warn("stored events not evaluated", "source", "sentinel/"+r.AlertID(), "tenant", tenant, "events", bad, "reason", "not JSON")
	}
	in := &Ingest{Tenant: tenant, Source: "sentinel/" + r.AlertID()}
	det.Finish(func(a *alert.Alert) {
		ev := scheduledEvidence(a, tenant, refs)
		in.Extra = append(in.Extra, a)
		in.ExtraKeys = append(in.ExtraKeys, scheduledKey(a, ev))
		in.ExtraEvidence = append(in.ExtraEvidence, ev)
	})
	var failed []string
	for _, pr := range set.Errors() {
		failed = append(failed, pr.Msg)
	}
	if len(in.Extra) > 0 {
		res, err := s.ingest(ctx, in)
		if err != nil {
			return fmt.Errorf("rule %s: %w", r.AlertID(), err)
		}
		res.Records = len(refs)
		s.noted(tenant, in.Source, res, time.Time{})
	} else {
		s.noted(tenant, in.Source, &IngestResult{Records: len(refs)}, time.Time{})
	}
	if len(failed) > 0 {
		return fmt.Errorf("rule %s: %s", r.AlertID(), strings.Join(failed, "; "))
	}
	return nil
}

// scheduledEvidence finds the stored event an alert's row came from (the
// set names the record the row is one record's) and points the alert's
// source at it; nil when the row is not one record's.
func scheduledEvidence(a *alert.Alert, tenant string, refs []store.EventRef) []store.EventRef {
	if a.Source.Format != scheduledFormat {
		return nil
	}
	i := a.Source.Line - 1
	if i < 0 || i >= int64(len(refs)) {
		return nil
	}
	ref := refs[i]
	a.Source = record.Source{File: "store:" + tenant + "/" + ref.Kind + "/" + ref.ID, Format: scheduledFormat}
	return []store.EventRef{ref}
}

// scheduledKey is a scheduled alert's identity within its rule and
// tenant, the same at every run that finds the same result: the result
// row (a SingleAlert run: its first row and the number of rows), else the
// record behind it, else (a run that alerts on no rows, a row over the
// size of a kept record) the time of the run.
func scheduledKey(a *alert.Alert, ev []store.EventRef) string {
	h := sha256.New()
	switch {
	case len(a.Record) > 0:
		h.Write([]byte("row\x00"))
		h.Write(a.Record)
		for _, d := range a.Details {
			if d.Name == "results" {
				h.Write([]byte("\x00results=" + d.Value))
			}
		}
	case len(ev) > 0:
		fmt.Fprintf(h, "event\x00%s\x00%s", ev[0].Kind, ev[0].ID)
	default:
		h.Write([]byte("run\x00" + strconv.FormatInt(a.Time.UnixNano(), 10)))
	}
	return hex.EncodeToString(h.Sum(nil))
}
