// Package detect runs entrawatch's detections over records: the built-in
// catalogue of Microsoft's "security operations for devices" guide, compiled
// together so that each record is dispatched only to the rules for its kind
// and resolves each field once.
package detect

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/allowlist"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
)

// Info describes a detection for the catalogue.
type Info struct {
	ID       string
	Title    string
	Severity alert.Severity
	// Source is the data the detection reads.
	Source string
	// Technique is the MITRE ATT&CK technique, "T1098.005 Account Manipulation: Device Registration".
	Technique string
	// Description says what fires the detection.
	Description string
	// Next says what to look at next, after the guide's notes.
	Next string
	// Kinds are the record kinds the detection reads.
	Kinds []record.Kind
	// Stateful detections keep state across records.
	Stateful bool
}

// Detector raises alerts from records. Detect is called concurrently from
// several goroutines.
type Detector interface {
	Info() *Info
	Detect(r *record.Record, emit func(*alert.Alert))
}

// Finisher is a Detector that raises alerts only once all records are seen.
type Finisher interface {
	Finish(emit func(*alert.Alert))
}

// Options tune the detections.
type Options struct {
	// Now is the reference time of relative checks (staleness).
	Now time.Time
	// StaleAfter is the inactivity after which a device is stale.
	StaleAfter time.Duration
	// Disable lists detection ids to leave out.
	Disable []string
	// Allow lists the local accounts approved to log in to VMs.
	Allow *allowlist.List
	// NoBuiltin leaves every built-in detection out (only added ones run).
	NoBuiltin bool
}

// MinStaleAfter is the shortest StaleAfter accepted: Entra updates a
// device's activity timestamp only every 14±5 days.
const MinStaleAfter = 21 * 24 * time.Hour

// ParseDays reads a duration in days ("90d", "90") or as a Go duration
// ("2160h"), as --stale-after takes it.
func ParseDays(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(t, "d"); ok {
		t = d
	}
	if n, err := strconv.Atoi(t); err == nil {
		if n < 0 || int64(n) > math.MaxInt64/int64(24*time.Hour) {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use days such as 90d, or a Go duration such as 2160h)", s)
	}
	return d, nil
}

// DefaultStaleAfter is the default inactivity period of a stale device.
const DefaultStaleAfter = 90 * 24 * time.Hour

// Engine evaluates a set of detectors.
type Engine struct {
	all       []Detector
	byKind    [16][]Detector
	finishers []Finisher
	replaced  []string
}

// NewEngine compiles the built-in detections with opts.
func NewEngine(opts Options) (*Engine, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	if opts.StaleAfter == 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	if opts.StaleAfter < MinStaleAfter {
		return nil, fmt.Errorf("stale-after %s is under 21 days: Entra updates a device's activity time only every 14±5 days, so shorter periods flag active devices", opts.StaleAfter)
	}
	dets, err := Builtins(rule.NewCompiler(), opts)
	if err != nil {
		return nil, err
	}
	off := map[string]bool{}
	for _, id := range opts.Disable {
		off[id] = true
	}
	known := map[string]bool{}
	for _, d := range dets {
		known[d.Info().ID] = true
	}
	for id := range off {
		if !known[id] {
			return nil, fmt.Errorf("unknown detection %q (see entrawatch rules list)", id)
		}
	}
	e := &Engine{}
	for _, d := range dets {
		if off[d.Info().ID] || opts.NoBuiltin {
			continue
		}
		e.Add(d)
	}
	return e, nil
}

// Add adds a detector to the engine. A detector with the id of one already
// added replaces it: that is how a user's Sigma rule overrides a built-in.
func (e *Engine) Add(d Detector) {
	if e.Remove(d.Info().ID) {
		e.replaced = append(e.replaced, d.Info().ID)
	}
	e.all = append(e.all, d)
	for _, k := range d.Info().Kinds {
		e.byKind[k] = append(e.byKind[k], d)
	}
	if f, ok := d.(Finisher); ok {
		e.finishers = append(e.finishers, f)
	}
}

// Remove takes the detector with the given id out of the engine and
// reports whether there was one.
func (e *Engine) Remove(id string) bool {
	found := false
	keep := func(ds []Detector) []Detector {
		out := ds[:0]
		for _, x := range ds {
			if x.Info().ID == id {
				found = true
				continue
			}
			out = append(out, x)
		}
		return out
	}
	e.all = keep(e.all)
	for k := range e.byKind {
		e.byKind[k] = keep(e.byKind[k])
	}
	fs := e.finishers[:0]
	for _, f := range e.finishers {
		if d, ok := f.(Detector); ok && d.Info().ID == id {
			continue
		}
		fs = append(fs, f)
	}
	e.finishers = fs
	return found
}

// Replaced lists the ids of detectors that a later Add replaced.
func (e *Engine) Replaced() []string { return e.replaced }

// Detectors returns the engine's detectors in catalogue order.
func (e *Engine) Detectors() []Detector { return e.all }

// Detect runs every detector for the record's kind. It is safe for
// concurrent use.
func (e *Engine) Detect(r *record.Record, emit func(*alert.Alert)) {
	for _, d := range e.byKind[r.Kind] {
		d.Detect(r, emit)
	}
}

// Finish lets stateful detectors raise the alerts that need every record.
func (e *Engine) Finish(emit func(*alert.Alert)) {
	for _, f := range e.finishers {
		f.Finish(emit)
	}
}

// Catalogue returns the Info of every built-in detection, sorted by id.
func Catalogue() []*Info {
	dets, err := Builtins(rule.NewCompiler(), Options{Now: time.Now(), StaleAfter: DefaultStaleAfter})
	if err != nil {
		panic(err) // the built-ins are compiled by tests; a failure is a bug
	}
	out := make([]*Info, len(dets))
	for i, d := range dets {
		out[i] = d.Info()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// base is the common part of the built-in detectors.
type base struct{ info Info }

func (b *base) Info() *Info { return &b.info }

func (b *base) newAlert(r *record.Record, summary string) *alert.Alert {
	a := &alert.Alert{Rule: b.info.ID, Title: b.info.Title, Severity: b.info.Severity, Summary: summary, Source: r.Source}
	if t, ok := r.Time(); ok {
		a.Time = t
	}
	a.Record = append([]byte(nil), r.Raw...)
	return a
}

// kinds is shorthand for a kind list.
func kinds(k ...record.Kind) []record.Kind { return k }

// orUnknown returns s, or "unknown" when s is empty.
func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unknown"
	}
	return s
}
