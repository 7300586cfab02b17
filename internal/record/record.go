// Package record holds one decoded log record and the field view that lets a
// rule name a field once and find it in every format entrawatch reads.
//
// A Record wraps a fastjson value parsed once from the input. Fields are
// resolved lazily through paths compiled once (see Field), so a record pays
// only for the fields that rules touch. Records never modify their input bytes.
package record

import (
	"github.com/valyala/fastjson"
)

// Kind is what a record describes, independent of the format it came in.
type Kind uint8

// The record kinds entrawatch understands.
const (
	KindUnknown            Kind = iota
	KindSignIn                  // an Entra sign-in (interactive, non-interactive, service principal, managed identity)
	KindAudit                   // an Entra directory audit record
	KindDevice                  // a Graph device object
	KindRegistrationPolicy      // the tenant's deviceRegistrationPolicy
	KindCAPolicy                // a Conditional Access policy
	KindSyslog                  // a Linux syslog / journald line
	KindWindowsEvent            // a Windows event log record
	KindActivity                // an Azure Activity log record (subscription control plane)
	KindRiskDetection           // an Identity Protection risk detection or risky-user record
	numKinds
)

var kindNames = [...]string{"unknown", "signin", "audit", "device", "registration-policy", "conditional-access-policy", "syslog", "windows-event", "azure-activity", "risk-detection"}

// Kinds lists every kind but KindUnknown.
func Kinds() []Kind {
	out := make([]Kind, 0, numKinds-1)
	for k := KindSignIn; k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// String returns the kind's stable lower-case name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Shape is the layout of a record's fields: it decides which spelling of a
// field the view looks for.
type Shape uint8

// Record shapes.
const (
	// ShapeGraph is a Microsoft Graph object (camelCase), also the Entra
	// portal's JSON download.
	ShapeGraph Shape = iota
	// ShapeDiagnostic is an Azure Monitor diagnostic-settings record: an
	// envelope (time, category, resultType…) around a Graph-like properties
	// object.
	ShapeDiagnostic
	// ShapeLogAnalytics is a Log Analytics row (PascalCase columns), also the
	// normalised form of the Entra portal's CSV download.
	ShapeLogAnalytics
	// ShapeWindows is a Windows event in any of its JSON forms: Log
	// Analytics SecurityEvent and WindowsEvent, NXLog (flat), evtx_dump and
	// entrawatch's own EVTX/XML conversion ({"Event":{"System","EventData"}}),
	// and Winlogbeat (winlog.event_data). Fields are looked up flat first,
	// then under each form's EventData.
	ShapeWindows
	numShapes
)

// Source says where a record came from.
type Source struct {
	File   string `json:"file"`
	Line   int64  `json:"line"`
	Format string `json:"format"`
}

// Record is one decoded log record. It is not safe for concurrent use; a
// Record and the values it returns are valid until Release.
type Record struct {
	// Raw is the record as it appeared in the input (for CSV, an object of
	// the original headers and cells). It must not be modified.
	Raw []byte
	// Root is the parsed record (for CSV, the normalised Log Analytics shape).
	Root *fastjson.Value
	// Props is the diagnostic-settings "properties" object, or nil.
	Props *fastjson.Value
	Kind  Kind
	Shape Shape
	// Table is the Log Analytics table or diagnostic category the record
	// belongs to (SigninLogs, AADNonInteractiveUserSignInLogs, AuditLogs…),
	// when known.
	Table  string
	Source Source

	nested []nestedJSON
	// cache holds the fields resolved on this record (see memo.go);
	// entries of another generation are empty.
	cache  []cached
	ncache int
	gen    uint32
	// scratch holds the texts written out for this record (number
	// literals, compact JSON), compact the compact JSON of each value
	// written so far, hits the literal hits of fields (FieldHits).
	scratch []byte
	compact []compactText
	hits    []uint32
	blooms  []keyBloom
}

type nestedJSON struct {
	from *fastjson.Value
	to   *fastjson.Value
	p    *fastjson.Parser
}

var nestedPool fastjson.ParserPool

// Release returns the parsers the record borrowed for JSON held in string
// columns. The record must not be used afterwards.
func (r *Record) Release() {
	for i := range r.nested {
		// A string that failed to parse holds no parser: putting its nil
		// into the pool would hand a nil parser to the next record.
		if p := r.nested[i].p; p != nil {
			nestedPool.Put(p)
		}
		r.nested[i] = nestedJSON{}
	}
	r.nested = r.nested[:0]
	r.releaseMemo()
}

// Reset prepares a pooled Record for reuse.
func (r *Record) Reset() {
	r.Release()
	keep := Record{nested: r.nested, cache: r.cache, gen: r.gen, scratch: r.scratch, compact: r.compact, hits: r.hits, blooms: r.blooms}
	*r = keep
}

// descend returns v itself, or, when v is a string holding a JSON object or
// array, the parsed value (cached for the record's lifetime).
func (r *Record) descend(v *fastjson.Value) *fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeString {
		return v
	}
	for i := range r.nested {
		if r.nested[i].from == v {
			return r.nested[i].to
		}
	}
	b, _ := v.StringBytes()
	b = trimSpaceBytes(b)
	if len(b) < 2 || (b[0] != '{' && b[0] != '[') {
		return v
	}
	p := nestedPool.Get()
	parsed, err := p.ParseBytes(b)
	if err != nil {
		nestedPool.Put(p)
		r.nested = append(r.nested, nestedJSON{from: v, to: v})
		return v
	}
	r.nested = append(r.nested, nestedJSON{from: v, to: parsed, p: p})
	return parsed
}

func trimSpaceBytes(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}
