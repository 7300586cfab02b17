package sigma

// Sigma correlation rules (specification v2.0.2): event_count, value_count,
// temporal and temporal_ordered over the events of referenced rules.
//
// A correlation runs as a stateful detector. While records stream in (Detect
// is called concurrently and in no particular order), it stores for each
// record matched by one of its rules only a compact event: the event time,
// the group-by key, the counted value (value_count), the rules it matched and
// where it came from. Once every record is seen (Finish), each group's events
// are sorted by event time and a window of the timespan slides over them, so
// results depend on when events happened, not on the order they were read in.
//
// Windows open at an event and cover the timespan after it (both ends
// included). With gt/gte conditions the window slides from event to event
// and an alert is raised at the event that first makes the condition hold.
// A condition with an upper bound (lt, lte, eq) is judged on whole windows
// that follow one another, each opening at the first event after the
// previous one: sliding would always find some part of a burst with few
// enough events. After an alert the next window opens only after the end
// of the current one, so a burst longer than the timespan raises one alert
// per timespan, not one per event.
//
// Rules referenced by a correlation raise no alerts of their own unless the
// correlation says generate: true (the specification's default is false); a
// rule referenced by several correlations is silenced when any of them does
// not generate, as pySigma does.

import (
	"bytes"
	"container/heap"
	"fmt"
	"hash/fnv"
	"math/bits"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// MaxGroupEvents bounds the events a correlation keeps per group. A group
// is one value of the group-by fields (one user, one IP…), and no sensible
// threshold needs more events in one timespan; the bound keeps a single noisy
// group (a scanner hammering one account for months) from holding memory
// without limit. When a group has more, the earliest MaxGroupEvents by event
// time are kept, whatever order they were read in, and the scan warns.
const MaxGroupEvents = 100_000

// EvidenceBudget bounds the bytes of original records a correlation keeps
// so that its alerts can carry the record that completed the condition.
// Records are kept earliest event time first; past the budget, an alert
// names the record's file and line but carries no copy of it.
const EvidenceBudget = 64 << 20

// The limits in force (tests lower them).
var (
	maxGroupEvents = MaxGroupEvents
	evidenceBudget = EvidenceBudget
)

// maxTimespan bounds a correlation's timespan.
const maxTimespan = 36525 * 24 * time.Hour

// Event times before 1970 or from 2200 on are placeholders (Graph writes
// 0001-01-01 for "never"): such records count as having no usable time.
// The range also keeps differences of event times within an int64.

type corrType uint8

const (
	eventCount corrType = iota + 1
	valueCount
	temporal
	temporalOrdered
)

var corrTypes = map[string]corrType{"event_count": eventCount, "value_count": valueCount, "temporal": temporal, "temporal_ordered": temporalOrdered}

// condOp is one criterion of a correlation condition.
type condOp struct {
	op string // gt, gte, lt, lte or eq
	n  int
}

// corrCond is a correlation condition: every criterion must hold.
type corrCond []condOp

func (c corrCond) holds(k int) bool {
	for _, o := range c {
		ok := false
		switch o.op {
		case "gt":
			ok = k > o.n
		case "gte":
			ok = k >= o.n
		case "lt":
			ok = k < o.n
		case "lte":
			ok = k <= o.n
		case "eq":
			ok = k == o.n
		}
		if !ok {
			return false
		}
	}
	return true
}

// monotone reports whether once the condition holds for a count, it holds
// for every larger count: then a window can be judged as it fills.
func (c corrCond) monotone() bool {
	for _, o := range c {
		if o.op != "gt" && o.op != "gte" {
			return false
		}
	}
	return true
}

func (c corrCond) String() string {
	parts := make([]string, len(c))
	for i, o := range c {
		parts[i] = fmt.Sprintf("%s %d", o.op, o.n)
	}
	return strings.Join(parts, " and ")
}

var timespanRE = regexp.MustCompile(`^([0-9]+)([a-zA-Z]+)$`)

var timespanUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// parseTimespan reads a correlation timespan: a positive number and a
// lower-case unit, s, m, h or d as the specification lists, or w (weeks, as
// pySigma also reads).
func parseTimespan(s string) (time.Duration, error) {
	m := timespanRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("timespan %q: want a number and a unit, s, m, h or d (such as 90m, 24h or 7d)", s)
	}
	unit, ok := timespanUnits[m[2]]
	if !ok {
		switch m[2] {
		case "M", "y", "Y":
			return 0, fmt.Errorf("timespan %q: months and years have no fixed length; write it in days (such as 30d)", s)
		case "S", "H", "D", "W":
			return 0, fmt.Errorf("timespan %q: the unit must be lower case (%s)", s, strings.ToLower(m[2]))
		}
		return 0, fmt.Errorf("timespan %q: unknown unit %q (s, m, h or d)", s, m[2])
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > int64(maxTimespan/unit) {
		return 0, fmt.Errorf("timespan %q is longer than 100 years", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("timespan %q must be longer than zero", s)
	}
	return time.Duration(n) * unit, nil
}

// corrAlias is one entry of a correlation's aliases: an alias name and the
// field it stands for in the events of each rule.
type corrAlias struct {
	name   string
	node   *yamltree.Node
	fields map[string]string // reference as written → field
	keys   map[string]*yamltree.Node
}

// corrSpec is a parsed correlation section.
type corrSpec struct {
	typ        corrType
	typName    string
	refs       []*yamltree.Node
	groupBy    []string
	span       time.Duration
	spanText   string
	cond       corrCond
	condNode   *yamltree.Node
	fields     []string
	fieldNode  *yamltree.Node
	aliases    map[string]*corrAlias
	aliasOrder []*corrAlias
	generate   bool
}

var corrKeys = map[string]bool{"type": true, "rules": true, "group-by": true, "timespan": true, "condition": true, "aliases": true, "generate": true}

// scalarList reads a string or a list of strings.
func scalarList(n *yamltree.Node, what string) ([]string, []*yamltree.Node, error) {
	switch n.Kind {
	case yamltree.Scalar:
		return []string{n.Str}, []*yamltree.Node{n}, nil
	case yamltree.Seq:
		var out []string
		var nodes []*yamltree.Node
		for _, it := range n.Items {
			if it.Kind != yamltree.Scalar || it.Str == "" {
				return nil, nil, errAt(it, "%s must be strings, found %s", what, it.Describe())
			}
			out = append(out, it.Str)
			nodes = append(nodes, it)
		}
		return out, nodes, nil
	}
	return nil, nil, errAt(n, "%s must be a string or a list of strings, found %s", what, n.Describe())
}

func parseBool(n *yamltree.Node) (bool, error) {
	if n.Kind == yamltree.Scalar {
		switch strings.ToLower(n.Str) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, errAt(n, "generate must be true or false, found %s", n.Describe())
}

// parseCorrelation reads the correlation section of r.
func parseCorrelation(r *Rule) (*corrSpec, error) {
	sec := r.doc.Get("correlation")
	if sec.Kind != yamltree.Map {
		return nil, errAt(sec, "correlation must be a mapping, found %s", sec.Describe())
	}
	for _, k := range sec.Keys {
		if !corrKeys[k.Str] {
			return nil, errAt(k, "unknown correlation attribute %q (type, rules, group-by, timespan, condition, aliases, generate)", k.Str)
		}
	}
	s := &corrSpec{aliases: map[string]*corrAlias{}}
	n := sec.Get("type")
	if n == nil {
		return nil, errAt(sec, "the correlation has no type (event_count, value_count, temporal or temporal_ordered)")
	}
	if n.Kind != yamltree.Scalar || corrTypes[n.Str] == 0 {
		return nil, errAt(n, "correlation type %s is not supported (event_count, value_count, temporal or temporal_ordered)", describeScalar(n))
	}
	s.typ, s.typName = corrTypes[n.Str], n.Str

	n = sec.Get("rules")
	if n == nil {
		return nil, errAt(sec, "the correlation has no rules")
	}
	_, nodes, err := scalarList(n, "rules")
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, errAt(n, "the correlation has no rules")
	}
	if len(nodes) > 64 {
		return nil, errAt(n, "a correlation may name at most 64 rules, found %d", len(nodes))
	}
	seen := map[string]bool{}
	for _, it := range nodes {
		if seen[it.Str] {
			return nil, errAt(it, "rule %s is listed twice", it.Str)
		}
		seen[it.Str] = true
	}
	s.refs = nodes

	if n = sec.Get("group-by"); n != nil && n.Kind != yamltree.Null {
		gb, gnodes, err := scalarList(n, "group-by fields")
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for i, g := range gb {
			if seen[strings.ToLower(g)] {
				return nil, errAt(gnodes[i], "group-by field %s is listed twice", g)
			}
			seen[strings.ToLower(g)] = true
		}
		s.groupBy = gb
	}

	n = sec.Get("timespan")
	if n == nil {
		return nil, errAt(sec, "the correlation has no timespan (such as 5m, 1h or 1d)")
	}
	if n.Kind != yamltree.Scalar {
		return nil, errAt(n, "timespan must be a string such as 5m, found %s", n.Describe())
	}
	if s.span, err = parseTimespan(n.Str); err != nil {
		return nil, errAt(n, "%v", err)
	}
	s.spanText = n.Str

	if err := s.parseCondition(sec); err != nil {
		return nil, err
	}

	if n = sec.Get("aliases"); n != nil && n.Kind != yamltree.Null {
		if n.Kind != yamltree.Map {
			return nil, errAt(n, "aliases must be a mapping of alias names to {rule: field}, found %s", n.Describe())
		}
		for i, k := range n.Keys {
			v := n.Values[i]
			if v.Kind != yamltree.Map {
				return nil, errAt(v, "alias %s must map rule names to field names, found %s", k.Str, v.Describe())
			}
			a := &corrAlias{name: k.Str, node: k, fields: map[string]string{}, keys: map[string]*yamltree.Node{}}
			for j, rk := range v.Keys {
				fv := v.Values[j]
				if fv.Kind != yamltree.Scalar || fv.Str == "" {
					return nil, errAt(fv, "alias %s: the field for rule %s must be a field name, found %s", k.Str, rk.Str, fv.Describe())
				}
				a.fields[rk.Str] = fv.Str
				a.keys[rk.Str] = rk
			}
			s.aliases[strings.ToLower(k.Str)] = a
			s.aliasOrder = append(s.aliasOrder, a)
		}
	}

	top, inner := r.doc.Get("generate"), sec.Get("generate")
	for _, g := range []*yamltree.Node{top, inner} {
		if g == nil {
			continue
		}
		b, err := parseBool(g)
		if err != nil {
			return nil, err
		}
		if g == inner && top != nil && b != s.generate {
			return nil, errAt(g, "generate is set both beside and inside the correlation section, to different values")
		}
		s.generate = b
	}
	return s, nil
}

func describeScalar(n *yamltree.Node) string {
	if n.Kind == yamltree.Scalar {
		return strconv.Quote(n.Str)
	}
	return n.Describe()
}

// parseCondition reads the condition and, for value_count, its field.
func (s *corrSpec) parseCondition(sec *yamltree.Node) error {
	n := sec.Get("condition")
	if n == nil {
		switch s.typ {
		case temporal, temporalOrdered:
			// Default: every rule, as the specification's examples and pySigma.
			s.cond = corrCond{{"gte", len(s.refs)}}
			return nil
		}
		return errAt(sec, "the %s correlation has no condition (such as condition: {gte: 10})", s.typName)
	}
	s.condNode = n
	if n.Kind == yamltree.Scalar {
		return errAt(n, "condition must be a mapping such as {gte: 10}; string conditions (extended temporal conditions) are not part of Sigma 2")
	}
	if n.Kind != yamltree.Map {
		return errAt(n, "condition must be a mapping such as {gte: 10}, found %s", n.Describe())
	}
	for i, k := range n.Keys {
		v := n.Values[i]
		switch k.Str {
		case "gt", "gte", "lt", "lte", "eq":
			x, err := strconv.Atoi(v.Str)
			if v.Kind != yamltree.Scalar || v.Type == yamltree.Float || err != nil || x < 0 {
				return errAt(v, "condition %s needs a whole number of at least 0, found %s", k.Str, describeScalar(v))
			}
			s.cond = append(s.cond, condOp{k.Str, x})
		case "field":
			if s.typ != valueCount {
				return errAt(k, "condition field is only used by value_count correlations")
			}
			f, _, err := scalarList(v, "condition field")
			if err != nil {
				return err
			}
			if len(f) == 0 {
				return errAt(v, "condition field names no field")
			}
			s.fields, s.fieldNode = f, v
		default:
			return errAt(k, "unknown condition criterion %q (gt, gte, lt, lte, eq, and field for value_count)", k.Str)
		}
	}
	if len(s.cond) == 0 {
		return errAt(n, "the condition has no criterion (gt, gte, lt, lte or eq)")
	}
	if s.typ == valueCount && s.fields == nil {
		return errAt(n, "a value_count condition needs the field whose distinct values it counts (field: …)")
	}
	// A window holds at least one event; temporal counts are at most the
	// number of rules.
	hi := 2
	for _, o := range s.cond {
		hi = max(hi, o.n+2)
	}
	if s.typ == temporal || s.typ == temporalOrdered {
		hi = len(s.refs)
	}
	possible := false
	for k := 1; k <= hi; k++ {
		if s.cond.holds(k) {
			possible = true
			break
		}
	}
	if !possible {
		if s.typ == temporal || s.typ == temporalOrdered {
			return errAt(n, "condition %s can never hold: the number of rules present in a window is between 1 and %d", s.cond, len(s.refs))
		}
		return errAt(n, "condition %s can never hold: a window holds at least one event", s.cond)
	}
	if s.typ == temporalOrdered {
		all := s.cond.holds(len(s.refs))
		for k := 1; k < len(s.refs); k++ {
			if s.cond.holds(k) {
				all = false
			}
		}
		if !all {
			return errAt(n, "temporal_ordered needs every rule, in order: its condition may only be met by all %d rules (gte: %d); a partial ordered match is not defined", len(s.refs), len(s.refs))
		}
	}
	return nil
}

// corrRef is one rule a correlation references.
type corrRef struct {
	ref    string // as written
	target *Rule
	title  string
	// A detection rule: its detector, the kinds it reads, and the group-by
	// and value fields resolved for its events (aliases applied).
	det    *Detector
	kinds  [16]bool
	group  []*record.Field
	values []*record.Field
	// A correlation: the index of each group-by and value field among its
	// own group-by fields.
	corr     *correlation
	groupIdx []int
	valueIdx []int
}

// correlation is the compiled state of one correlation rule.
type correlation struct {
	rule     *Rule
	info     *detect.Info
	typ      corrType
	typName  string
	refs     []*corrRef
	groupBy  []string
	entity   []string // the entity each group-by field names ("user", "ip"…), or ""
	values   []string
	span     time.Duration
	spanText string
	cond     corrCond
	generate bool
	// silent is set when a correlation without generate references this one.
	silent bool

	mu       sync.Mutex
	groups   map[string]*group
	srcs     []srcName
	srcIndex map[srcName]uint32
	noTime   atomic.Int64
	noGroup  atomic.Int64
	// Evidence (original records) kept under EvidenceBudget.
	evs      evidenceHeap
	evHeaped bool
	evBytes  int
	evLost   int
	cutoff   atomic.Pointer[recKey]

	once     sync.Once
	hits     []*hit
	warnings []Problem
}

type srcName struct{ file, format string }

// recKey orders records: by event time, then where they were read.
type recKey struct {
	t    int64
	file string
	line int64
	hash uint64
}

func (a *recKey) less(b *recKey) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	if a.file != b.file {
		return a.file < b.file
	}
	if a.line != b.line {
		return a.line < b.line
	}
	return a.hash < b.hash
}

// evidence is what an alert shows of the record behind an event.
type evidence struct {
	key  recKey
	size int
	raw  []byte
	ents alert.Entities
	gone bool
}

// evidenceHeap is a max-heap of evidence by record key.
type evidenceHeap []*evidence

func (h evidenceHeap) Len() int           { return len(h) }
func (h evidenceHeap) Less(i, j int) bool { return h[j].key.less(&h[i].key) }
func (h evidenceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *evidenceHeap) Push(x any)        { *h = append(*h, x.(*evidence)) }
func (h *evidenceHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// event is one record matched by one or more of the correlation's rules,
// within one group.
type event struct {
	t     int64
	line  int64
	hash  uint64
	mask  uint64 // the rules matched, by index
	value string // value_count: the counted value, case-folded
	ev    *evidence
	src   uint32
}

// group is the events of one value of the group-by fields.
type group struct {
	key     string
	vals    []string // shown values: the smallest spelling seen
	events  []event
	heaped  bool
	dropped int
}

// hit is one window in which the condition held.
type hit struct {
	g *group
	// first is the window's first event, last the one that completed the
	// condition, end the index after the window's last event.
	first, last, end int
	count            int
	samples          []string
	more             int
}

// less orders events: by time, then by the first rule they match (so that
// events at the same time count as in the listed order), then by where
// they were read.
func (c *correlation) less(a, b *event) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	if ra, rb := bits.TrailingZeros64(a.mask), bits.TrailingZeros64(b.mask); ra != rb {
		return ra < rb
	}
	if fa, fb := c.srcs[a.src].file, c.srcs[b.src].file; fa != fb {
		return fa < fb
	}
	if a.line != b.line {
		return a.line < b.line
	}
	if a.hash != b.hash {
		return a.hash < b.hash
	}
	return a.value < b.value
}

// groupHeap is a max-heap of a group's events.
type groupHeap struct {
	c  *correlation
	ev []event
}

func (h *groupHeap) Len() int           { return len(h.ev) }
func (h *groupHeap) Less(i, j int) bool { return h.c.less(&h.ev[j], &h.ev[i]) }
func (h *groupHeap) Swap(i, j int)      { h.ev[i], h.ev[j] = h.ev[j], h.ev[i] }
func (h *groupHeap) Push(x any)         { h.ev = append(h.ev, x.(event)) }
func (h *groupHeap) Pop() any {
	x := h.ev[len(h.ev)-1]
	h.ev = h.ev[:len(h.ev)-1]
	return x
}

// foldASCII lower-cases ASCII letters, as entrawatch's text comparisons
// ignore ASCII case.
func foldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// pending is an event being built from one record.
type pending struct {
	key   string
	vals  []string
	value string
	mask  uint64
}

// detect stores the events of a record.
func (c *correlation) detect(r *record.Record) {
	var ps []pending
	var t int64
	timed := false
	for i, ref := range c.refs {
		if ref.det == nil || !ref.kinds[r.Kind] || !ref.det.match(r) {
			continue
		}
		if !timed {
			tm, ok := r.Time()
			// Check the year first: UnixNano is undefined far from 1970.
			if !ok || tm.Year() < 1970 || tm.Year() >= 2200 {
				c.noTime.Add(1)
				return
			}
			t, timed = tm.UnixNano(), true
		}
		vals := make([]string, len(ref.group))
		keys := make([]string, len(ref.group))
		missing := false
		for j, f := range ref.group {
			v := r.Get(f)
			if record.IsEmpty(v) {
				missing = true
				break
			}
			vals[j] = record.Text(v)
			keys[j] = foldASCII(vals[j])
		}
		if missing {
			c.noGroup.Add(1)
			continue
		}
		value := ""
		if c.typ == valueCount {
			parts := make([]string, len(ref.values))
			for j, f := range ref.values {
				v := r.Get(f)
				if record.IsEmpty(v) {
					missing = true
					break
				}
				parts[j] = foldASCII(record.Text(v))
			}
			if missing {
				// Like a count of distinct values in a SIEM: an event
				// without the field adds no value.
				continue
			}
			value = strings.Join(parts, "\x1f")
		}
		key := strings.Join(keys, "\x00")
		merged := false
		for k := range ps {
			if ps[k].key == key && ps[k].value == value {
				ps[k].mask |= 1 << i
				merged = true
				break
			}
		}
		if !merged {
			ps = append(ps, pending{key: key, vals: vals, value: value, mask: 1 << i})
		}
	}
	if len(ps) == 0 {
		return
	}
	h := fnv.New64a()
	h.Write(r.Raw)
	k := recKey{t: t, file: r.Source.File, line: r.Source.Line, hash: h.Sum64()}
	var ev *evidence
	if cut := c.cutoff.Load(); cut == nil || k.less(cut) {
		ev = &evidence{key: k, raw: bytes.Clone(r.Raw)}
		var a alert.Alert
		detect.DescribeEntities(r, &a)
		ev.ents = a.Entities
		e := ev.ents
		ev.size = len(ev.raw) + len(e.User) + len(e.IP) + len(e.Host) + len(e.DeviceID) + len(e.DeviceName) + 160
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	src := c.intern(srcName{r.Source.File, r.Source.Format})
	if ev != nil && !c.keepEvidence(ev) {
		ev = nil
	}
	for _, p := range ps {
		c.add(p.key, p.vals, event{t: t, line: k.line, hash: k.hash, mask: p.mask, value: p.value, ev: ev, src: src})
	}
}

func (c *correlation) intern(s srcName) uint32 {
	if i, ok := c.srcIndex[s]; ok {
		return i
	}
	i := uint32(len(c.srcs))
	c.srcs = append(c.srcs, s)
	c.srcIndex[s] = i
	return i
}

// keepEvidence adds ev to the kept records, then drops the latest ones
// while over EvidenceBudget. What is kept is the longest run of records,
// earliest first, that fits: the same whatever order records arrive in.
// It reports whether ev itself is kept. Called with c.mu held.
func (c *correlation) keepEvidence(ev *evidence) bool {
	if cut := c.cutoff.Load(); cut != nil && !ev.key.less(cut) {
		return false
	}
	if c.evHeaped {
		heap.Push(&c.evs, ev)
	} else {
		c.evs = append(c.evs, ev)
	}
	c.evBytes += ev.size
	if c.evBytes <= evidenceBudget {
		return true
	}
	if !c.evHeaped {
		heap.Init(&c.evs)
		c.evHeaped = true
	}
	for c.evBytes > evidenceBudget && len(c.evs) > 0 {
		top := heap.Pop(&c.evs).(*evidence)
		c.evBytes -= top.size
		top.raw, top.ents, top.gone = nil, alert.Entities{}, true
		if cut := c.cutoff.Load(); cut == nil || top.key.less(cut) {
			k := top.key
			c.cutoff.Store(&k)
		}
	}
	return !ev.gone
}

// add stores an event in its group. Called with c.mu held.
func (c *correlation) add(key string, vals []string, e event) {
	g := c.groups[key]
	if g == nil {
		g = &group{key: key, vals: append([]string(nil), vals...)}
		c.groups[key] = g
	} else {
		for i, v := range vals {
			if v < g.vals[i] {
				g.vals[i] = v
			}
		}
	}
	if len(g.events) < maxGroupEvents {
		g.events = append(g.events, e)
		return
	}
	// Keep the earliest MaxGroupEvents: a max-heap from now on.
	h := &groupHeap{c: c, ev: g.events}
	if !g.heaped {
		heap.Init(h)
		g.heaped = true
	}
	g.dropped++
	if c.less(&e, &h.ev[0]) {
		h.ev[0] = e
		heap.Fix(h, 0)
	}
	// A dropped event's record stays counted against EvidenceBudget (it may
	// be shared with an event of another group), so that the records kept
	// do not depend on arrival order and memory stays bounded.
}

// window counts what a correlation condition tests over a run of events.
type window struct {
	typ      corrType
	n        int
	vals     map[string]int
	perRule  [64]int32
	distinct int
}

func (w *window) add(e *event) {
	w.n++
	switch w.typ {
	case valueCount:
		x := w.vals[e.value]
		w.vals[e.value] = x + 1
	case temporal, temporalOrdered:
		for m := e.mask; m != 0; m &= m - 1 {
			r := bits.TrailingZeros64(m)
			if w.perRule[r] == 0 {
				w.distinct++
			}
			w.perRule[r]++
		}
	}
}

func (w *window) remove(e *event) {
	w.n--
	switch w.typ {
	case valueCount:
		if x := w.vals[e.value]; x <= 1 {
			delete(w.vals, e.value)
		} else {
			w.vals[e.value] = x - 1
		}
	case temporal, temporalOrdered:
		for m := e.mask; m != 0; m &= m - 1 {
			r := bits.TrailingZeros64(m)
			w.perRule[r]--
			if w.perRule[r] == 0 {
				w.distinct--
			}
		}
	}
}

func (w *window) value() int {
	switch w.typ {
	case valueCount:
		return len(w.vals)
	case temporal, temporalOrdered:
		return w.distinct
	}
	return w.n
}

func (w *window) reset() {
	w.n, w.distinct = 0, 0
	clear(w.vals)
	w.perRule = [64]int32{}
}

// evaluate slides the window over a group's sorted events.
func (c *correlation) evaluate(g *group) []*hit {
	if c.typ == temporalOrdered {
		return c.evaluateOrdered(g)
	}
	evs := g.events
	n := len(evs)
	w := &window{typ: c.typ, vals: map[string]int{}}
	mono := c.cond.monotone()
	var hits []*hit
	if !mono {
		// An upper bound is judged on whole windows, one after another.
		for i := 0; i < n; {
			w.reset()
			j := i
			for j < n && evs[j].t-evs[i].t <= int64(c.span) {
				w.add(&evs[j])
				j++
			}
			if c.cond.holds(w.value()) {
				hits = append(hits, c.newHit(g, i, j-1, j, w.value()))
			}
			i = j
		}
		return hits
	}
	i, j := 0, 0
	for i < n {
		inSpan := func(k int) bool { return evs[k].t-evs[i].t <= int64(c.span) }
		// Fill until the condition holds or the window is full.
		for j < n && inSpan(j) && (j == i || !c.cond.holds(w.value())) {
			w.add(&evs[j])
			j++
		}
		if j > i && c.cond.holds(w.value()) {
			last := j - 1
			for j < n && inSpan(j) {
				w.add(&evs[j])
				j++
			}
			hits = append(hits, c.newHit(g, i, last, j, w.value()))
			w.reset()
			i = j
			continue
		}
		w.remove(&evs[i])
		i++
	}
	return hits
}

// evaluateOrdered finds, for temporal_ordered, events of every rule in the
// listed order within the timespan. best[r] is the latest first event of a
// chain matching rules 0..r so far: the latest start gives the chain the
// best chance to fit in the timespan.
func (c *correlation) evaluateOrdered(g *group) []*hit {
	evs := g.events
	n, last := len(evs), len(c.refs)-1
	best := make([]int, len(c.refs))
	for i := range best {
		best[i] = -1
	}
	var hits []*hit
	for j := 0; j < n; j++ {
		e := &evs[j]
		// Latest rule first, so that one event is never two links of a chain.
		for r := last; r >= 0; r-- {
			if e.mask&(1<<r) == 0 {
				continue
			}
			if r == 0 {
				best[0] = j
			} else if best[r-1] >= 0 {
				best[r] = best[r-1]
			}
		}
		if e.mask&(1<<last) == 0 || best[last] < 0 {
			continue
		}
		first := best[last]
		if e.t-evs[first].t > int64(c.span) {
			continue
		}
		end := j + 1
		for end < n && evs[end].t-evs[first].t <= int64(c.span) {
			end++
		}
		hits = append(hits, c.newHit(g, first, j, end, len(c.refs)))
		for i := range best {
			best[i] = -1
		}
		j = end - 1
	}
	return hits
}

func (c *correlation) newHit(g *group, first, last, end, count int) *hit {
	h := &hit{g: g, first: first, last: last, end: end, count: count}
	if c.typ == valueCount {
		seen := map[string]bool{}
		var vals []string
		for k := first; k < end; k++ {
			if v := g.events[k].value; !seen[v] {
				seen[v] = true
				vals = append(vals, strings.ReplaceAll(v, "\x1f", "|"))
			}
		}
		sort.Strings(vals)
		if len(vals) > 10 {
			h.more = len(vals) - 10
			vals = vals[:10]
		}
		h.samples = vals
	}
	return h
}

// results evaluates the correlation once every record is seen; the
// correlations that reference this one read them too.
func (c *correlation) results() []*hit {
	c.once.Do(func() {
		// Referenced correlations first: each of their windows is an event.
		for i, ref := range c.refs {
			if ref.corr == nil {
				continue
			}
			hits := ref.corr.results()
			c.mu.Lock()
			for _, h := range hits {
				c.addHit(i, ref, h)
			}
			c.mu.Unlock()
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		keys := make([]string, 0, len(c.groups))
		for k := range c.groups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var dropped, groupsOver int
		for _, k := range keys {
			g := c.groups[k]
			sort.Slice(g.events, func(a, b int) bool { return c.less(&g.events[a], &g.events[b]) })
			c.hits = append(c.hits, c.evaluate(g)...)
			if g.dropped > 0 {
				dropped += g.dropped
				groupsOver++
			}
		}
		sort.SliceStable(c.hits, func(a, b int) bool {
			ea, eb := &c.hits[a].g.events[c.hits[a].last], &c.hits[b].g.events[c.hits[b].last]
			if ea.t != eb.t {
				return ea.t < eb.t
			}
			return c.hits[a].g.key < c.hits[b].g.key
		})
		warn := func(format string, args ...any) {
			c.warnings = append(c.warnings, Problem{File: c.rule.File, Line: c.rule.Line, Col: 1, RuleID: c.rule.Name(), Msg: fmt.Sprintf(format, args...)})
		}
		if n := c.noTime.Load(); n > 0 {
			warn("%s no usable event time and %s not correlated", plural(n, "matching record has", "matching records have"), verb(n, "was", "were"))
		}
		if n := c.noGroup.Load(); n > 0 {
			warn("%s a group-by field (%s) and %s not correlated", plural(n, "matching record lacks", "matching records lack"), strings.Join(c.groupBy, ", "), verb(n, "was", "were"))
		}
		if dropped > 0 {
			warn("%s more than %d events: only the earliest %d of each were correlated (%s left out), so alerts may be missing", plural(int64(groupsOver), "group had", "groups had"), maxGroupEvents, maxGroupEvents, plural(int64(dropped), "event", "events"))
		}
		for _, h := range c.hits {
			if ev := h.g.events[h.last].ev; ev == nil || ev.gone || ev.raw == nil {
				c.evLost++
			}
		}
		if c.evLost > 0 && !c.silent {
			warn("%s no copy of the record that completed the condition: the correlation keeps at most %d MiB of records (each alert names the file and line)", plural(int64(c.evLost), "alert carries", "alerts carry"), evidenceBudget>>20)
		}
	})
	return c.hits
}

// addHit turns a window of a referenced correlation into an event. Called
// with c.mu held.
func (c *correlation) addHit(i int, ref *corrRef, h *hit) {
	child := ref.corr
	e := h.g.events[h.last]
	vals := make([]string, len(ref.groupIdx))
	keys := make([]string, len(ref.groupIdx))
	for j, x := range ref.groupIdx {
		vals[j] = h.g.vals[x]
		keys[j] = foldASCII(vals[j])
	}
	value := ""
	if c.typ == valueCount {
		parts := make([]string, len(ref.valueIdx))
		for j, x := range ref.valueIdx {
			parts[j] = foldASCII(h.g.vals[x])
		}
		value = strings.Join(parts, "\x1f")
	}
	src := c.intern(child.srcs[e.src])
	c.add(strings.Join(keys, "\x00"), vals, event{t: e.t, line: e.line, hash: e.hash, mask: 1 << i, value: value, ev: e.ev, src: src})
}

// finish raises the correlation's alerts.
func (c *correlation) finish(emit func(*alert.Alert)) {
	hits := c.results()
	if c.silent {
		return
	}
	for _, h := range hits {
		emit(c.alert(h))
	}
}

// entityFields maps the last segment of a field name to the entity it names.
var entityFields = map[string]string{
	"userprincipalname": "user", "upn": "user", "user": "user", "username": "user", "targetusername": "user",
	"subjectusername": "user", "accountname": "user", "caller": "user", "alternatesigninname": "user",
	"ipaddress": "ip", "ip": "ip", "ipaddr": "ip", "clientip": "ip", "calleripaddress": "ip", "sourceip": "ip",
	"src_ip": "ip", "srcip": "ip", "sourceaddress": "ip", "sourcenetworkaddress": "ip", "clientipaddress": "ip",
	"computer": "host", "computername": "host", "hostname": "host", "host": "host", "workstationname": "host",
	"workstation": "host", "deviceid": "device_id", "devicename": "device_name",
}

func entityOf(field string) string {
	f := strings.ToLower(field)
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		f = f[i+1:]
	}
	if i := strings.IndexByte(f, '['); i >= 0 {
		f = f[:i]
	}
	return entityFields[f]
}

func (c *correlation) alert(h *hit) *alert.Alert {
	g := h.g
	e := &g.events[h.last]
	src := c.srcs[e.src]
	a := &alert.Alert{Rule: c.info.ID, Title: c.info.Title, Severity: c.info.Severity, Time: time.Unix(0, e.t).UTC(),
		Source: record.Source{File: src.file, Line: e.line, Format: src.format}}
	kept := e.ev != nil && !e.ev.gone && e.ev.raw != nil
	if kept {
		a.Record = bytes.Clone(e.ev.raw)
	}
	fromGroup := false
	for i, ent := range c.entity {
		v := g.vals[i]
		switch ent {
		case "user":
			a.Entities.User = v
		case "ip":
			a.Entities.IP = v
		case "host":
			a.Entities.Host = v
		case "device_id":
			a.Entities.DeviceID = v
		case "device_name":
			a.Entities.DeviceName = v
		default:
			continue
		}
		fromGroup = true
	}
	if !fromGroup && kept {
		a.Entities = e.ev.ents
	}

	var who []string
	for i, name := range c.groupBy {
		who = append(who, name+"="+g.vals[i])
		a.Details = append(a.Details, alert.Detail{Name: name, Value: g.vals[i]})
	}
	titles := func(mask uint64) []string {
		var out []string
		for i, ref := range c.refs {
			if mask&(1<<i) != 0 {
				out = append(out, ref.title)
			}
		}
		return out
	}
	var present uint64
	for k := h.first; k < h.end; k++ {
		present |= g.events[k].mask
	}
	events := h.end - h.first
	var what string
	switch c.typ {
	case eventCount:
		what = fmt.Sprintf("%d events of %s", h.count, ruleList(titles(present), "and"))
	case valueCount:
		what = fmt.Sprintf("%d distinct %s values in %d events of %s", h.count, strings.Join(c.values, "+"), events, ruleList(titles(present), "and"))
	case temporal:
		what = ruleList(titles(present), "and")
		if h.count < len(c.refs) {
			what = fmt.Sprintf("%d of %d rules (%s)", h.count, len(c.refs), strings.TrimPrefix(strings.TrimPrefix(what, "rules "), "rule "))
		}
	case temporalOrdered:
		what = ruleList(titles(^uint64(0)), "then")
	}
	a.Summary = c.rule.Title + ": " + what
	if len(who) > 0 {
		a.Summary += " for " + strings.Join(who, ", ")
	}
	a.Summary += " within " + c.spanText
	a.Details = append(a.Details,
		alert.Detail{Name: "correlation", Value: c.typName},
		alert.Detail{Name: "count", Value: strconv.Itoa(h.count)},
		alert.Detail{Name: "events", Value: strconv.Itoa(events)},
		alert.Detail{Name: "window_start", Value: time.Unix(0, g.events[h.first].t).UTC().Format(time.RFC3339Nano)},
		alert.Detail{Name: "timespan", Value: c.spanText},
		alert.Detail{Name: "condition", Value: c.cond.String()},
	)
	if c.typ == valueCount {
		v := strings.Join(h.samples, ", ")
		if h.more > 0 {
			v += fmt.Sprintf(" (+%d more)", h.more)
		}
		a.Details = append(a.Details, alert.Detail{Name: strings.Join(c.values, "+"), Value: v})
	}
	if !kept {
		a.Details = append(a.Details, alert.Detail{Name: "record", Value: fmt.Sprintf("not kept (over the correlation's %d MiB of records); see the source file and line", evidenceBudget>>20)})
	}
	if c.rule.Level != "" && c.rule.Level != a.Severity.String() {
		a.Details = append(a.Details, alert.Detail{Name: "sigma_level", Value: c.rule.Level})
	}
	return a
}

// plural writes n and the singular or plural phrase.
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

func verb(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ruleList joins titles: "A", "A and B", "A, B and C" (or "then").
func ruleList(titles []string, conj string) string {
	prefix := "rule "
	if len(titles) > 1 {
		prefix = "rules "
	}
	switch len(titles) {
	case 0:
		return "no rule"
	case 1:
		return prefix + titles[0]
	}
	if conj == "then" {
		return prefix + strings.Join(titles, " then ")
	}
	return prefix + strings.Join(titles[:len(titles)-1], ", ") + " " + conj + " " + titles[len(titles)-1]
}

// ruleNameAttr returns a rule's name attribute.
func ruleNameAttr(r *Rule) string {
	if n := r.doc.Get("name"); n != nil && n.Kind == yamltree.Scalar {
		return n.Str
	}
	return ""
}

// corrCompiler resolves and compiles the correlation rules of a rule set.
type corrCompiler struct {
	c      *rule.Compiler
	byID   map[string][]*Rule
	byName map[string][]*Rule
	dets   map[*Rule]*Detector // compiled detection rules
	failed map[*Rule]string    // rules refused, with the reason
	state  map[*Rule]int       // correlations: 1 compiling, 2 done
	out    map[*Rule]*Detector // compiled correlations
	seen   map[string]string   // rule ids in use
	probs  []Problem
}

// compileCorrelations compiles the correlation rules among rules, given the
// detection rules already compiled (dets) or refused (failed).
func compileCorrelations(rules []*Rule, c *rule.Compiler, dets map[*Rule]*Detector, failed map[*Rule]string, seen map[string]string) ([]*Detector, []Problem) {
	cc := &corrCompiler{c: c, byID: map[string][]*Rule{}, byName: map[string][]*Rule{}, dets: dets, failed: failed,
		state: map[*Rule]int{}, out: map[*Rule]*Detector{}, seen: seen}
	var corrs []*Rule
	for _, r := range rules {
		if r.ID != "" {
			cc.byID[r.ID] = append(cc.byID[r.ID], r)
		}
		if n := ruleNameAttr(r); n != "" {
			cc.byName[n] = append(cc.byName[n], r)
		}
		if r.Type == "correlation" {
			corrs = append(corrs, r)
		}
	}
	for _, r := range corrs {
		cc.compile(r, nil)
	}
	// Silence what correlations without generate reference.
	var out []*Detector
	for _, r := range corrs {
		d := cc.out[r]
		if d == nil {
			continue
		}
		out = append(out, d)
		if d.corr.generate {
			continue
		}
		for _, ref := range d.corr.refs {
			if ref.det != nil {
				ref.det.feeds = append(ref.det.feeds, d.info.ID)
			} else {
				ref.corr.silent = true
			}
		}
	}
	return out, cc.probs
}

// resolve finds the rule a reference names: by id, else by name.
func (cc *corrCompiler) resolve(ref string) ([]*Rule, string) {
	if rs := cc.byID[ref]; len(rs) > 0 {
		return rs, "id"
	}
	return cc.byName[ref], "name"
}

// compile compiles correlation r; chain lists the correlations being
// compiled that reference it (to refuse cycles).
func (cc *corrCompiler) compile(r *Rule, chain []*Rule) (*Detector, string) {
	switch cc.state[r] {
	case 1:
		var names []string
		for _, x := range append(chain, r) {
			names = append(names, x.Name())
		}
		return nil, "correlation cycle: " + strings.Join(names, " → ")
	case 2:
		if d := cc.out[r]; d != nil {
			return d, ""
		}
		return nil, cc.failed[r]
	}
	cc.state[r] = 1
	d, err := cc.build(r, append(chain, r))
	cc.state[r] = 2
	if err != nil {
		p := Problem{File: r.File, Line: r.Line, Col: 1, RuleID: r.Name(), Msg: err.Error()}
		if ce, ok := err.(*compileError); ok && ce.n != nil {
			p.Line, p.Col = ce.n.Line, ce.n.Col
		}
		cc.probs = append(cc.probs, p)
		cc.failed[r] = err.Error()
		return nil, err.Error()
	}
	cc.out[r] = d
	return d, ""
}

func (cc *corrCompiler) build(r *Rule, chain []*Rule) (*Detector, error) {
	if r.Title == "" {
		return nil, errAt(r.doc, "the rule has no title")
	}
	sev, err := Severity(r.Level)
	if err != nil {
		return nil, errAt(r.doc.Get("level"), "%v", err)
	}
	s, err := parseCorrelation(r)
	if err != nil {
		return nil, err
	}
	co := &correlation{rule: r, typ: s.typ, typName: s.typName, groupBy: s.groupBy, values: s.fields, span: s.span,
		spanText: s.spanText, cond: s.cond, generate: s.generate, groups: map[string]*group{}, srcIndex: map[srcName]uint32{}}

	// Resolve the references.
	var kinds [16]bool
	var sources []string
	for _, n := range s.refs {
		found, by := cc.resolve(n.Str)
		switch {
		case len(found) == 0:
			return nil, errAt(n, "no rule has the id or name %s (rules are looked up among every file given to --rules)", n.Str)
		case len(found) > 1:
			var where []string
			for _, x := range found {
				where = append(where, fmt.Sprintf("%s:%d", x.File, x.Line))
			}
			return nil, errAt(n, "%d rules have the %s %s (%s)", len(found), by, n.Str, strings.Join(where, ", "))
		}
		target := found[0]
		ref := &corrRef{ref: n.Str, target: target, title: target.Title}
		if ref.title == "" {
			ref.title = n.Str
		}
		switch target.Type {
		case "correlation":
			child, why := cc.compile(target, chain)
			if child == nil {
				if strings.HasPrefix(why, "correlation cycle") {
					return nil, errAt(n, "%s", why)
				}
				return nil, errAt(n, "rule %s (%s:%d) cannot be used: %s", n.Str, target.File, target.Line, why)
			}
			ref.corr = child.corr
			for _, k := range child.info.Kinds {
				kinds[k] = true
			}
			sources = append(sources, child.info.Source)
		case "":
			d := cc.dets[target]
			if d == nil {
				why := cc.failed[target]
				if why == "" {
					why = "it was not compiled"
				}
				return nil, errAt(n, "rule %s (%s:%d) cannot be used: %s", n.Str, target.File, target.Line, why)
			}
			ref.det = d
			for _, k := range d.info.Kinds {
				ref.kinds[k] = true
				kinds[k] = true
			}
			sources = append(sources, strings.TrimPrefix(d.info.Source, "Sigma: "))
		default:
			return nil, errAt(n, "rule %s (%s:%d) is a %s rule; a correlation references detection or correlation rules", n.Str, target.File, target.Line, target.Type)
		}
		co.refs = append(co.refs, ref)
	}

	// Aliases name rules of the correlation: as the rules list writes
	// them, or by the other of their id and name.
	refIndex := func(key string) int {
		for i, ref := range co.refs {
			if ref.ref == key {
				return i
			}
		}
		if found, _ := cc.resolve(key); len(found) == 1 {
			for i, ref := range co.refs {
				if ref.target == found[0] {
					return i
				}
			}
		}
		return -1
	}
	aliasFor := make([]map[string]string, len(co.refs)) // per ref: alias (lower) → field
	for i := range aliasFor {
		aliasFor[i] = map[string]string{}
	}
	for _, a := range s.aliasOrder {
		for key, field := range a.fields {
			i := refIndex(key)
			if i < 0 {
				return nil, errAt(a.keys[key], "alias %s names rule %s, which the correlation does not reference", a.name, key)
			}
			aliasFor[i][strings.ToLower(a.name)] = field
		}
	}
	fieldFor := func(i int, name string) (string, error) {
		a := s.aliases[strings.ToLower(name)]
		if a == nil {
			return name, nil
		}
		f, ok := aliasFor[i][strings.ToLower(name)]
		if !ok {
			return "", errAt(a.node, "alias %s gives no field for rule %s (add %s: <field>)", a.name, co.refs[i].ref, co.refs[i].ref)
		}
		return f, nil
	}
	groupNode := r.doc.Get("correlation").Get("group-by")
	if groupNode == nil {
		groupNode = r.doc.Get("correlation")
	}
	for i, ref := range co.refs {
		for _, g := range s.groupBy {
			f, err := fieldFor(i, g)
			if err != nil {
				return nil, err
			}
			if ref.det != nil {
				ref.group = append(ref.group, cc.c.Field(f))
				continue
			}
			x := indexFold(ref.corr.groupBy, f)
			if x < 0 {
				return nil, errAt(groupNode, "group-by %s: the referenced correlation %s groups only by %s, and its results carry only those fields", f, ref.ref, orNone(ref.corr.groupBy))
			}
			ref.groupIdx = append(ref.groupIdx, x)
		}
		for _, v := range s.fields {
			f, err := fieldFor(i, v)
			if err != nil {
				return nil, err
			}
			if ref.det != nil {
				ref.values = append(ref.values, cc.c.Field(f))
				continue
			}
			x := indexFold(ref.corr.groupBy, f)
			if x < 0 {
				return nil, errAt(s.fieldNode, "field %s: the referenced correlation %s groups only by %s, and its results carry only those fields", f, ref.ref, orNone(ref.corr.groupBy))
			}
			ref.valueIdx = append(ref.valueIdx, x)
		}
	}
	for _, g := range s.groupBy {
		ent := entityOf(g)
		if a := s.aliases[strings.ToLower(g)]; a != nil && ent == "" {
			// An alias names an entity when all its fields name the same one.
			for _, f := range a.fields {
				e := entityOf(f)
				if e == "" || (ent != "" && e != ent) {
					ent = ""
					break
				}
				ent = e
			}
		}
		co.entity = append(co.entity, ent)
	}

	if prev, dup := cc.seen[r.Name()]; dup {
		return nil, errAt(r.doc, "duplicate rule id %s (also in %s)", r.Name(), prev)
	}
	cc.seen[r.Name()] = r.File

	var ks []record.Kind
	for k, ok := range kinds {
		if ok {
			ks = append(ks, record.Kind(k))
		}
	}
	desc := strings.TrimSpace(r.Description)
	if desc == "" {
		desc = fmt.Sprintf("Sigma %s correlation of %s", s.typName, ruleList(refTitles(co.refs), "and"))
		if len(s.groupBy) > 0 {
			desc += " grouped by " + strings.Join(s.groupBy, ", ")
		}
		desc += fmt.Sprintf(" within %s, condition %s.", s.spanText, s.cond)
	}
	d := &Detector{rule: r, corr: co, info: detect.Info{
		ID: r.Name(), Title: r.Title, Severity: sev, Source: "Sigma correlation (" + s.typName + ") of " + strings.Join(uniq(sources), "; "),
		Technique: Technique(r.Tags), Description: desc, Kinds: ks, Stateful: true,
		Next: strings.Join(r.FalsePositives, "; "),
	}}
	if n, ok := r.Custom["next"]; ok {
		d.info.Next = n
	}
	co.info = &d.info
	return d, nil
}

func uniq(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func refTitles(refs []*corrRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.title
	}
	return out
}

func indexFold(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "nothing"
	}
	return strings.Join(list, ", ")
}
