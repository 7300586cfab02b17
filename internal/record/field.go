package record

import (
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/valyala/fastjson"
)

// segment is one step of a compiled path: an object key (matched
// case-insensitively) or an array index (negative counts from the end).
type segment struct {
	key   string
	alt   string // key with its first letter's case flipped (camelCase <-> PascalCase)
	index int
	isIdx bool
	// missed is set while lookups of the key find neither spelling (a
	// key the records do not carry): they then go straight to the one
	// scan that settles every spelling (see getSeg).
	missed *atomic.Bool
}

type path []segment

// Field is a field name compiled once into the paths that find it in each
// record shape. Compile fields at load time, never per event.
type Field struct {
	// Name is the name the field was compiled from.
	Name string
	// root paths per shape; for ShapeDiagnostic, props paths are tried on the
	// properties object first and envelope paths on the record root after.
	paths    [numShapes][]path
	envelope []path
}

// Alias is one row of the field crosswalk: a canonical (Log Analytics) name
// and its spellings elsewhere.
type Alias struct {
	// Name is the canonical Log Analytics column name.
	Name string
	// LogAnalytics lists the Log Analytics spellings (default: Name).
	LogAnalytics []string
	// Graph lists the Graph spellings, used for Graph objects, portal JSON
	// and the properties object of diagnostic-settings records (default: Name).
	Graph []string
	// Envelope lists the spellings in a diagnostic-settings envelope.
	Envelope []string
	// Note explains the mapping for docs/formats.md.
	Note string
}

// Crosswalk is the table of canonical fields whose spelling differs between
// formats. Any field not listed resolves by its own name in every shape, in
// any letter case. docs/formats.md is generated from this table.
var Crosswalk = []Alias{
	{Name: "TimeGenerated", Graph: []string{"createdDateTime", "activityDateTime"}, Envelope: []string{"time"}, Note: "record time; Graph has only the event time"},
	{Name: "CreatedDateTime", Graph: []string{"createdDateTime"}, Envelope: []string{"time"}},
	{Name: "ActivityDateTime", Graph: []string{"activityDateTime"}, Envelope: []string{"time"}},
	{Name: "ResultType", Graph: []string{"status.errorCode"}, Envelope: []string{"resultType"}, Note: "sign-in error code; a string in Log Analytics and diagnostic settings, an integer in Graph"},
	{Name: "ResultDescription", Graph: []string{"status.failureReason"}, Envelope: []string{"resultDescription"}},
	{Name: "OperationName", Graph: []string{"activityDisplayName"}, Envelope: []string{"operationName"}, Note: "the audit activity (\"Read BitLocker key\"); \"Sign-in activity\" for sign-ins"},
	{Name: "ActivityDisplayName", LogAnalytics: []string{"ActivityDisplayName", "OperationName"}, Graph: []string{"activityDisplayName"}, Envelope: []string{"operationName"}},
	{Name: "Category", Graph: []string{"category"}, Envelope: []string{"category"}, Note: "audit category (RoleManagement…); for sign-ins the diagnostic category"},
	{Name: "AADOperationType", Graph: []string{"operationType"}},
	{Name: "ResourceIdentity", Graph: []string{"resourceId"}, Note: "the resource app id; not the Log Analytics ResourceId column"},
	{Name: "ResourceId", Graph: []string{}, Envelope: []string{"resourceId"}, Note: "the tenant path /tenants/…/providers/Microsoft.aadiam"},
	{Name: "IPAddress", Graph: []string{"ipAddress"}, Envelope: []string{"callerIpAddress"}},
	{Name: "Location", Graph: []string{"location.countryOrRegion"}, Envelope: []string{"location"}},
	{Name: "LocationDetails", Graph: []string{"location"}},
	{Name: "ConditionalAccessPolicies", Graph: []string{"appliedConditionalAccessPolicies"}},
	{Name: "Identity", Graph: []string{"userDisplayName"}, Envelope: []string{"identity"}},
	{Name: "TenantId", LogAnalytics: []string{"AADTenantId"}, Graph: []string{"tenantId"}, Envelope: []string{"tenantId"}, Note: "the Entra tenant (Log Analytics TenantId is the workspace)"},
}

// Scalar reports whether the alias names a scalar value in some shape (the
// country code that Location is, the error code that ResultType is): such an
// alias is not a prefix of longer paths, so that location.city stays the
// city of the Graph location object.
func (a *Alias) Scalar() bool {
	for _, g := range a.Graph {
		if strings.Contains(g, ".") {
			return true
		}
	}
	switch strings.ToLower(a.Name) {
	case "location", "resultdescription":
		return true
	}
	return false
}

var crosswalkIndex = func() map[string]*Alias {
	m := make(map[string]*Alias, len(Crosswalk))
	for i := range Crosswalk {
		m[strings.ToLower(Crosswalk[i].Name)] = &Crosswalk[i]
	}
	return m
}()

// CompileField compiles a field name such as "DeviceDetail.isCompliant",
// "properties.activityDisplayName", "TargetResources[0].displayName" or
// "status.errorCode" into the paths that resolve it in every shape.
func CompileField(name string) *Field {
	f := &Field{Name: name}
	n := strings.TrimSpace(name)
	explicitProps := false
	if len(n) > 11 && strings.EqualFold(n[:11], "properties.") {
		n = n[11:]
		explicitProps = true
	}
	segs := parsePath(n)
	// Find the longest dotted prefix with a crosswalk entry.
	var alias *Alias
	split := 0
	for i := len(segs); i > 0; i-- {
		if segs[i-1].isIdx {
			continue
		}
		if a, ok := crosswalkIndex[strings.ToLower(joinKeys(segs[:i]))]; ok && (i == len(segs) || !a.Scalar()) {
			alias, split = a, i
			break
		}
	}
	rest := segs[split:]
	with := func(spellings []string) []path {
		out := make([]path, 0, len(spellings))
		for _, s := range spellings {
			p := append(parsePath(s), rest...)
			out = append(out, p)
		}
		return out
	}
	f.paths[ShapeWindows] = windowsPaths(n, segs)
	if alias == nil {
		p := []path{segs}
		f.paths[ShapeLogAnalytics] = p
		f.paths[ShapeGraph] = p
		f.paths[ShapeDiagnostic] = p
		if !explicitProps {
			f.envelope = p
		}
		return f
	}
	la := alias.LogAnalytics
	if la == nil {
		la = []string{alias.Name}
	}
	gr := alias.Graph
	if gr == nil {
		gr = []string{alias.Name}
	}
	f.paths[ShapeLogAnalytics] = with(la)
	f.paths[ShapeGraph] = with(gr)
	f.paths[ShapeDiagnostic] = with(gr)
	if !explicitProps {
		f.envelope = with(alias.Envelope)
	}
	return f
}

// windowsSystem lists where each Windows event's System value lives in the
// JSON forms of Windows events. evtx_dump (the evtx crate) keeps XML
// attributes under "#attributes" and an element's text beside them under
// "#text": TimeCreated is {"#attributes":{"SystemTime":…}}, EventID
// {"#text":4624,…} when it has Qualifiers.
var windowsSystem = map[string][]string{
	"eventid":       {"EventID", "Event.System.EventID.Value", "Event.System.EventID.#text", "Event.System.EventID", "winlog.event_id", "event_id", "EventId", "event.code"},
	"computer":      {"Computer", "Event.System.Computer", "winlog.computer_name", "computer_name", "Hostname", "host.name", "agent.hostname"},
	"timegenerated": {"TimeGenerated", "TimeCreated", "Event.System.TimeCreated.SystemTime", "Event.System.TimeCreated.#attributes.SystemTime", "EventTime", "@timestamp", "event.created"},
	"timecreated":   {"TimeCreated", "Event.System.TimeCreated.SystemTime", "Event.System.TimeCreated.#attributes.SystemTime", "TimeGenerated", "EventTime", "@timestamp"},
	"eventtime":     {"EventTime", "Event.System.TimeCreated.SystemTime", "Event.System.TimeCreated.#attributes.SystemTime", "TimeCreated", "TimeGenerated", "@timestamp"},
	"eventrecordid": {"EventRecordID", "EventRecordId", "Event.System.EventRecordID", "winlog.record_id", "record_number", "RecordNumber"},
	"channel":       {"Channel", "Event.System.Channel", "winlog.channel", "log_name"},
	"provider":      {"Provider", "ProviderName", "SourceName", "Event.System.Provider.Name", "Event.System.Provider.#attributes.Name", "winlog.provider_name", "source_name"},
}

// windowsPaths returns the paths of a field in the JSON forms of Windows
// events: System values from windowsSystem, EventData values flat or under
// each form's EventData object.
func windowsPaths(name string, segs path) []path {
	if sys, ok := windowsSystem[strings.ToLower(name)]; ok {
		out := make([]path, len(sys))
		for i, s := range sys {
			out[i] = parsePath(s)
		}
		return out
	}
	out := []path{segs}
	if len(segs) == 1 {
		for _, prefix := range []string{"EventData.", "Event.EventData.", "winlog.event_data.", "event_data.", "Event.UserData."} {
			out = append(out, parsePath(prefix+name))
		}
	}
	return out
}

func joinKeys(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// parsePath splits "a.b[0].c" into segments. A key may also be written
// ["key with.dots"].
func parsePath(s string) path {
	var p path
	for len(s) > 0 {
		switch {
		case s[0] == '.':
			s = s[1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				p = append(p, keySeg(s))
				return p
			}
			inner := s[1:end]
			s = s[end+1:]
			if len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\'') {
				p = append(p, keySeg(inner[1:len(inner)-1]))
				continue
			}
			if n, err := strconv.Atoi(inner); err == nil {
				p = append(p, segment{index: n, isIdx: true})
			} else {
				p = append(p, keySeg(inner))
			}
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			p = append(p, keySeg(s[:end]))
			s = s[end:]
		}
	}
	return p
}

// Get resolves f on the record and returns its value, or nil when the
// record does not carry it. A JSON object or array held in a string column
// is descended into transparently.
func (r *Record) Get(f *Field) *fastjson.Value {
	if r.Root == nil {
		return nil
	}
	if i, ok := r.slot(f); ok {
		return r.cache[i].v
	}
	v := r.resolve(f)
	r.remember(f, v)
	return v
}

func (r *Record) resolve(f *Field) *fastjson.Value {
	if r.Shape == ShapeDiagnostic {
		if r.Props != nil {
			for _, p := range f.paths[ShapeDiagnostic] {
				if v := r.walk(r.Props, p, true); v != nil {
					return v
				}
			}
		}
		for _, p := range f.envelope {
			if v := r.walk(r.Root, p, true); v != nil {
				return v
			}
		}
		return nil
	}
	for _, p := range f.paths[r.Shape] {
		if v := r.walk(r.Root, p, true); v != nil {
			return v
		}
	}
	return nil
}

// Lookup resolves a field by name. It compiles the name on every call: use
// CompileField and Get on hot paths.
func (r *Record) Lookup(name string) *fastjson.Value {
	return r.Get(CompileField(name))
}

func (r *Record) walk(v *fastjson.Value, p path, top bool) *fastjson.Value {
	for i, s := range p {
		if i > 0 || v.Type() == fastjson.TypeString {
			v = r.descend(v)
		}
		switch v.Type() {
		case fastjson.TypeObject:
			if s.isIdx {
				return nil
			}
			o, _ := v.Object()
			v = r.getSeg(o, s, r.altFirst(s, top && i == 0))
		case fastjson.TypeArray:
			if !s.isIdx {
				return nil
			}
			a, _ := v.Array()
			idx := s.index
			if idx < 0 {
				idx += len(a)
			}
			if idx < 0 || idx >= len(a) {
				return nil
			}
			v = a[idx]
		default:
			return nil
		}
		if v == nil {
			return nil
		}
	}
	return v
}

// GetFold returns the value of key in o, matching the key exactly first and
// then ignoring letter case and surrounding spaces.
func GetFold(o *fastjson.Object, key string) *fastjson.Value {
	if o == nil {
		return nil
	}
	if v := o.Get(key); v != nil {
		return v
	}
	return getFoldScan(o, key)
}

// getFoldScan returns the value of the first key of o equal to key
// ignoring letter case and surrounding spaces.
func getFoldScan(o *fastjson.Object, key string) *fastjson.Value {
	var found *fastjson.Value
	o.Visit(func(k []byte, v *fastjson.Value) {
		if found == nil && keyEqualFold(k, key) {
			found = v
		}
	})
	return found
}

// keyEqualFold compares an object key with a wanted name, ignoring ASCII
// case and spaces at either end of the key.
func keyEqualFold(k []byte, want string) bool {
	if len(k) != len(want) {
		k = trimSpaceBytes(k)
		if len(k) != len(want) {
			return false
		}
	}
	for i := 0; i < len(k); i++ {
		a, b := k[i], want[i]
		if a == b {
			continue
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// Rel is a path compiled for resolution relative to a value (an array
// element, say) rather than a record: no crosswalk, keys matched in any case.
type Rel struct {
	Name string
	p    path
}

// CompileRel compiles a relative path such as "modifiedProperties" or
// "user.userPrincipalName".
func CompileRel(name string) *Rel { return &Rel{Name: name, p: parsePath(name)} }

// GetFrom resolves the relative path from v.
func (r *Record) GetFrom(v *fastjson.Value, rel *Rel) *fastjson.Value {
	if v == nil {
		return nil
	}
	if len(rel.p) == 0 {
		return v
	}
	return r.walk(r.descend(v), rel.p, false)
}

// CrosswalkMarkdown renders the crosswalk as a Markdown table for
// docs/formats.md.
func CrosswalkMarkdown() string {
	var b strings.Builder
	b.WriteString("| canonical (Log Analytics) | Log Analytics | Graph / portal JSON / diagnostic `properties` | diagnostic envelope | note |\n| --- | --- | --- | --- | --- |\n")
	list := func(s []string, def string) string {
		if s == nil {
			return "`" + def + "`"
		}
		if len(s) == 0 {
			return "—"
		}
		return "`" + strings.Join(s, "`, `") + "`"
	}
	for _, a := range Crosswalk {
		env := "—"
		if len(a.Envelope) > 0 {
			env = list(a.Envelope, "")
		}
		b.WriteString("| `" + a.Name + "` | " + list(a.LogAnalytics, a.Name) + " | " + list(a.Graph, a.Name) + " | " + env + " | " + a.Note + " |\n")
	}
	return b.String()
}

// Each calls fn for every value f resolves to, stopping when fn returns
// true, and reports whether it did. Where Get stops at an array standing in
// the middle of the path, Each goes on through every element, as Sigma
// backends do: "TargetResources.modifiedProperties.newValue" reaches the
// new value of every modified property of every target.
func (r *Record) Each(f *Field, fn func(v *fastjson.Value) bool) bool {
	if v := r.Get(f); v != nil {
		return fn(v)
	}
	if r.Root == nil {
		return false
	}
	try := func(root *fastjson.Value, paths []path) bool {
		for _, p := range paths {
			if len(p) > 1 && r.walkEach(root, p, 0, true, fn) {
				return true
			}
		}
		return false
	}
	if r.Shape == ShapeDiagnostic {
		if r.Props != nil && try(r.Props, f.paths[ShapeDiagnostic]) {
			return true
		}
		return try(r.Root, f.envelope)
	}
	return try(r.Root, f.paths[r.Shape])
}

func (r *Record) walkEach(v *fastjson.Value, p path, depth int, top bool, fn func(*fastjson.Value) bool) bool {
	if depth > 32 {
		return false
	}
	for i, s := range p {
		if i > 0 || v.Type() == fastjson.TypeString {
			v = r.descend(v)
		}
		switch v.Type() {
		case fastjson.TypeObject:
			if s.isIdx {
				return false
			}
			o, _ := v.Object()
			v = r.getSeg(o, s, r.altFirst(s, top && i == 0))
		case fastjson.TypeArray:
			a, _ := v.Array()
			if !s.isIdx {
				for _, el := range a {
					if r.walkEach(el, p[i:], depth+1, false, fn) {
						return true
					}
				}
				return false
			}
			idx := s.index
			if idx < 0 {
				idx += len(a)
			}
			if idx < 0 || idx >= len(a) {
				return false
			}
			v = a[idx]
		default:
			return false
		}
		if v == nil {
			return false
		}
	}
	return fn(v)
}

// keySeg makes a key segment with its alternative spelling: rules name
// fields the Log Analytics way (ResourceDisplayName) and Graph writes them
// camelCase (resourceDisplayName), or the other way round; trying both
// exact spellings spares most case-insensitive scans.
func keySeg(k string) segment {
	seg := segment{key: k, missed: new(atomic.Bool)}
	if k != "" {
		c := k[0]
		switch {
		case 'a' <= c && c <= 'z':
			seg.alt = string(c-'a'+'A') + k[1:]
		case 'A' <= c && c <= 'Z':
			seg.alt = string(c-'A'+'a') + k[1:]
		}
	}
	return seg
}

// getSeg looks a segment's key up in o: in the rule's spelling, then in
// its alternative (or the alternative first, see altFirst), then ignoring
// case.
//
// Keys that neither spelling finds cost more: two lookups that miss, then
// a scan of every key. Once an object has been scanned, its filter of keys
// (foldScan) rules most such keys out at once; and a key whose last lookup
// missed both spellings is looked up with one scan that notes the exact,
// alternative and case-insensitive matches alike (scanSeg). Either way the
// answer is the same.
func (r *Record) getSeg(o *fastjson.Object, s segment, altFirst bool) *fastjson.Value {
	if r.ruledOut(o, s.key) {
		return nil
	}
	first, second := s.key, s.alt
	if altFirst {
		first, second = s.alt, s.key
	}
	if s.missed != nil && s.missed.Load() {
		v, hit := r.scanSeg(o, first, second, s.key)
		if hit {
			s.missed.Store(false)
		}
		return v
	}
	if v := o.Get(first); v != nil {
		return v
	}
	if second != "" {
		if v := o.Get(second); v != nil {
			return v
		}
	}
	if s.missed != nil {
		s.missed.Store(true)
	}
	return r.foldScan(o, s.key)
}

// altFirst says whether to look a key up in its alternative spelling
// first: the spelling the record's keys use (camelCase in Graph objects,
// diagnostic-settings records and the JSON of dynamic columns, PascalCase
// for the columns of Log Analytics rows), so that a rule naming
// ResourceDisplayName finds resourceDisplayName with one scan of the
// object, not two plus fastjson's unescaping of every key on the first
// miss. The order matters only to an object holding both spellings, which
// these formats never write; Windows events, whose JSON forms mix
// spellings, keep the rule's first.
func (r *Record) altFirst(s segment, top bool) bool {
	if s.alt == "" {
		return false
	}
	lower := 'a' <= s.key[0] && s.key[0] <= 'z'
	switch r.Shape {
	case ShapeGraph, ShapeDiagnostic:
		return !lower
	case ShapeLogAnalytics:
		if top {
			return lower
		}
		return !lower
	}
	return false
}

// Step is one step of a path a field resolves through: an object key, or
// an array index.
type Step struct {
	Key   string
	Index bool
}

func steps(paths []path) [][]Step {
	out := make([][]Step, len(paths))
	for i, p := range paths {
		out[i] = make([]Step, len(p))
		for j, s := range p {
			out[i][j] = Step{Key: s.key, Index: s.isIdx}
		}
	}
	return out
}

// Paths returns the candidate paths of f in a shape, in the order Get tries
// them (for ShapeDiagnostic, the paths inside the properties object), so
// that tools such as rule linters resolve names exactly as records do.
func (f *Field) Paths(s Shape) [][]Step { return steps(f.paths[s]) }

// EnvelopePaths returns the paths Get tries on a diagnostic-settings
// envelope (none when the name was written with "properties.").
func (f *Field) EnvelopePaths() [][]Step { return steps(f.envelope) }
