// Package sentinel loads Microsoft Sentinel scheduled analytic rules (the
// YAML of Azure/Azure-Sentinel's Solutions/…/Analytic Rules and Detections)
// and runs them in "entrawatch scan": each rule's KQL query is evaluated
// by internal/kql over the records of the tables it reads, on the rule's
// schedule, and its result rows become alerts after the rule's trigger,
// event grouping, entity mappings and alert details.
//
// Every rule is either loaded or refused with its file, line, column and
// reason; a KQL construct entrawatch does not evaluate is refused when the
// rule loads, at its position in the file.
package sentinel

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/kql"
	"github.com/entrawatch/entrawatch/internal/sigma"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// Rule is one Sentinel analytic rule, Scheduled or NRT.
type Rule struct {
	// File is where the rule was read from; Line and Col where its
	// document starts.
	File      string
	Line, Col int

	ID, Name, Description, Version, Status string
	// Severity is Informational, Low, Medium or High.
	Severity string
	// Kind is Scheduled or NRT.
	Kind string
	// QueryFrequency is how often Sentinel runs the query, QueryPeriod how
	// far back each run looks (both 5m for NRT rules).
	QueryFrequency, QueryPeriod time.Duration
	// TriggerOperator is gt, lt, eq or ne; an alert is raised when the
	// number of result rows compares so with TriggerThreshold.
	TriggerOperator  string
	TriggerThreshold int64
	Tactics          []string
	Techniques       []string
	DataConnectors   []DataConnector
	Query            string
	// Entities are the entity mappings, in order.
	Entities []EntityMapping
	// CustomDetails name result columns to show in every alert.
	CustomDetails []CustomDetail
	// The alertDetailsOverride settings: {{Column}} formats and columns.
	AlertNameFormat, AlertDescriptionFormat string
	AlertSeverityColumn, AlertTacticsColumn string
	// SingleAlert is eventGroupingSettings.aggregationKind: SingleAlert
	// (one alert per triggered run); otherwise one alert per result row.
	SingleAlert bool
	// Tables are the Log Analytics tables the query reads.
	Tables []string

	query *kql.Query
	// qpos maps a position in the query text to one in the file.
	qpos queryPos
}

// DataConnector is one of requiredDataConnectors.
type DataConnector struct {
	ID        string
	DataTypes []string
}

// EntityMapping maps result columns to one entity's identifiers.
type EntityMapping struct {
	Type   string // Account, Host, IP, URL, …
	Fields []FieldMapping
}

// FieldMapping is one identifier of an entity and its column.
type FieldMapping struct {
	Identifier, Column string
}

// CustomDetail is one customDetails entry: a name and its column.
type CustomDetail struct {
	Name, Column string
}

// Problem is a rule that cannot be used, a warning about one, or an error
// while it ran: the same problem as a Sigma rule's, so that rule loaders
// report both alike.
type Problem = sigma.Problem

// IDPrefix starts the id of every Sentinel rule's alerts, so that a
// Sentinel rule can never take the id of a built-in detection or of a
// Sigma rule (which replaces the detection of the same id).
const IDPrefix = "sentinel:"

// AlertID is the rule id its alerts carry: "sentinel:" and the rule's id
// (its file name without extension when it has none).
func (r *Rule) AlertID() string {
	if r.ID != "" {
		return IDPrefix + r.ID
	}
	base := filepath.Base(r.File)
	return IDPrefix + strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
}

// AlertSeverity is the rule's severity as entrawatch rates alerts:
// Informational is low.
func (r *Rule) AlertSeverity() alert.Severity {
	s, _ := severity(r.Severity)
	return s
}

// IsRule reports whether a YAML document is a Sentinel analytic rule: a
// mapping with query and at least one of queryFrequency, queryPeriod,
// triggerOperator and kind.
func IsRule(doc *yamltree.Node) bool {
	if doc == nil || doc.Kind != yamltree.Map || doc.Get("query") == nil {
		return false
	}
	for _, k := range []string{"queryFrequency", "queryPeriod", "triggerOperator", "kind"} {
		if doc.Get(k) != nil {
			return true
		}
	}
	return false
}

// IsHuntingQuery reports whether a YAML document looks like a Sentinel
// hunting query: a mapping with a string query and none of the keys of an
// analytic rule or of a Sigma rule.
func IsHuntingQuery(doc *yamltree.Node) bool {
	if IsRule(doc) || doc == nil || doc.Kind != yamltree.Map {
		return false
	}
	q := doc.Get("query")
	if q == nil || q.Kind != yamltree.Scalar {
		return false
	}
	return doc.Get("detection") == nil && doc.Get("correlation") == nil && doc.Get("filter") == nil
}

// HuntingQuery is the problem reported for a hunting query (IsHuntingQuery)
// given as a rule.
func HuntingQuery(file string, doc *yamltree.Node) Problem {
	line, col := docPos(doc)
	return Problem{File: file, Line: line, Col: col,
		Msg: "a Microsoft Sentinel hunting query (query without queryFrequency, queryPeriod, triggerOperator or kind), not a scheduled analytic rule: run it with entrawatch query --file"}
}

// docPos is where a document starts: its first key.
func docPos(doc *yamltree.Node) (int, int) {
	if doc.Kind == yamltree.Map && len(doc.Keys) > 0 {
		return doc.Keys[0].Line, doc.Keys[0].Col
	}
	return doc.Line, doc.Col
}

// Parse reads every document of a YAML file as a Sentinel rule.
func Parse(file string, src []byte) ([]*Rule, []Problem) {
	docs, probs := sigma.ParseYAML(file, src)
	if probs != nil {
		return nil, probs
	}
	var rules []*Rule
	for _, d := range docs {
		if IsHuntingQuery(d) {
			probs = append(probs, HuntingQuery(file, d))
			continue
		}
		if !IsRule(d) {
			line, col := docPos(d)
			probs = append(probs, Problem{File: file, Line: line, Col: col,
				Msg: "not a Sentinel analytic rule: a rule is a mapping with query and at least one of queryFrequency, queryPeriod, triggerOperator and kind"})
			continue
		}
		r, ps := Load(file, src, d)
		probs = append(probs, ps...)
		if r != nil {
			rules = append(rules, r)
		}
	}
	return rules, probs
}

// loader collects the problems of one rule document.
type loader struct {
	file  string
	id    string
	probs []Problem
}

func (l *loader) errorf(n *yamltree.Node, format string, args ...any) {
	p := Problem{File: l.file, RuleID: l.id, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = docPos(n)
	}
	l.probs = append(l.probs, p)
}

// str reads an optional scalar.
func (l *loader) str(doc *yamltree.Node, key string) string {
	n := doc.Get(key)
	if n == nil || n.Kind == yamltree.Null {
		return ""
	}
	if n.Kind != yamltree.Scalar {
		l.errorf(n, "%s must be a string, found %s", key, n.Describe())
		return ""
	}
	return n.Str
}

// list reads an optional list of scalars (a lone scalar is a list of one).
func (l *loader) list(doc *yamltree.Node, key string) []string {
	n := doc.Get(key)
	switch {
	case n == nil || n.Kind == yamltree.Null:
		return nil
	case n.Kind == yamltree.Scalar:
		return []string{n.Str}
	case n.Kind == yamltree.Seq:
		var out []string
		for _, it := range n.Items {
			if it.Kind != yamltree.Scalar {
				l.errorf(it, "%s must be a list of strings, found %s", key, it.Describe())
				continue
			}
			out = append(out, it.Str)
		}
		return out
	}
	l.errorf(n, "%s must be a list of strings, found %s", key, n.Describe())
	return nil
}

// Load reads one YAML document (for which IsRule holds) of file, whose
// text is src, as a rule. The rule is nil when there is any problem.
func Load(file string, src []byte, doc *yamltree.Node) (*Rule, []Problem) {
	r := &Rule{File: file}
	r.Line, r.Col = docPos(doc)
	l := &loader{file: file}
	r.ID = strings.TrimSpace(l.str(doc, "id"))
	l.id = r.AlertID()
	r.Name = strings.TrimSpace(l.str(doc, "name"))
	r.Description = strings.TrimSpace(l.str(doc, "description"))
	r.Version = l.str(doc, "version")
	r.Status = l.str(doc, "status")
	r.Tactics = l.list(doc, "tactics")
	r.Techniques = l.list(doc, "relevantTechniques")
	if len(r.Techniques) == 0 {
		r.Techniques = l.list(doc, "techniques")
	}

	switch n := doc.Get("severity"); {
	case n == nil || n.Kind == yamltree.Null:
		l.errorf(doc, "severity is missing: want Informational, Low, Medium or High")
	case n.Kind != yamltree.Scalar:
		l.errorf(n, "severity must be Informational, Low, Medium or High, found %s", n.Describe())
	default:
		if _, ok := severity(n.Str); !ok {
			l.errorf(n, "severity %q: want Informational, Low, Medium or High", n.Str)
		} else {
			r.Severity = canonicalSeverity(n.Str)
		}
	}

	kindNode := doc.Get("kind")
	r.Kind = "Scheduled"
	if k := strings.TrimSpace(l.str(doc, "kind")); k != "" {
		switch strings.ToLower(k) {
		case "scheduled":
		case "nrt":
			r.Kind = "NRT"
		default:
			l.errorf(kindNode, "kind %s is not supported: entrawatch runs Scheduled and NRT rules only (a %s rule runs inside Sentinel on data entrawatch does not have)", k, k)
			return nil, l.probs
		}
	}
	if r.Kind == "NRT" {
		// Near-real-time rules run every minute over what arrived since the
		// last run; offline, they are scheduled every 5 minutes over 5.
		r.QueryFrequency, r.QueryPeriod = 5*time.Minute, 5*time.Minute
	} else {
		r.QueryFrequency = l.duration(doc, "queryFrequency")
		r.QueryPeriod = l.duration(doc, "queryPeriod")
	}

	r.TriggerOperator = "gt"
	if n := doc.Get("triggerOperator"); n != nil {
		s := l.str(doc, "triggerOperator")
		if op, ok := triggerOps[strings.ToLower(strings.TrimSpace(s))]; ok {
			r.TriggerOperator = op
		} else if n.Kind == yamltree.Scalar {
			l.errorf(n, "triggerOperator %q: want gt, lt, eq or ne (or GreaterThan, LessThan, Equal, NotEqual)", s)
		}
	}
	if n := doc.Get("triggerThreshold"); n != nil && n.Kind != yamltree.Null {
		v, err := strconv.ParseInt(strings.TrimSpace(n.Str), 10, 64)
		if n.Kind != yamltree.Scalar || err != nil || v < 0 {
			l.errorf(n, "triggerThreshold must be a whole number of result rows, 0 or more, found %s", n.Describe())
		} else {
			r.TriggerThreshold = v
		}
	}

	l.connectors(doc, r)
	l.entities(doc, r)
	l.customDetails(doc, r)
	l.overrides(doc, r)
	if n := doc.Get("eventGroupingSettings"); n != nil && n.Kind != yamltree.Null {
		if n.Kind != yamltree.Map {
			l.errorf(n, "eventGroupingSettings must be a mapping with aggregationKind, found %s", n.Describe())
		} else {
			switch k := l.str(n, "aggregationKind"); strings.ToLower(strings.TrimSpace(k)) {
			case "", "alertperresult":
			case "singlealert":
				r.SingleAlert = true
			default:
				l.errorf(n.Get("aggregationKind"), "aggregationKind %q: want SingleAlert or AlertPerResult", k)
			}
		}
	}

	qn := doc.Get("query")
	switch {
	case qn.Kind != yamltree.Scalar:
		l.errorf(qn, "query must be a string of KQL, found %s", qn.Describe())
	case strings.TrimSpace(qn.Str) == "":
		l.errorf(qn, "query is empty")
	default:
		r.Query = qn.Str
		r.qpos = newQueryPos(src, qn)
		l.parseQuery(r)
	}
	if len(l.probs) > 0 {
		return nil, l.probs
	}
	return r, nil
}

// parseQuery parses and checks the rule's KQL, reporting a refusal at its
// position in the file.
func (l *loader) parseQuery(r *Rule) {
	q, err := kql.Parse(r.Query)
	if err == nil {
		err = kql.Check(q)
	}
	if err != nil {
		p := Problem{File: l.file, RuleID: l.id, Line: r.qpos.line, Col: r.qpos.col}
		msg := err.Error()
		if ke, ok := err.(*kql.Error); ok {
			p.Line, p.Col = r.qpos.file(ke.Pos)
			msg = fmt.Sprintf("KQL %d:%d: %s", ke.Pos.Line, ke.Pos.Col, ke.Msg)
		}
		p.Msg = "query: " + strings.Replace(msg, "is not supported by entrawatch query", "is not supported by entrawatch (docs/kql.md)", 1)
		l.probs = append(l.probs, p)
		return
	}
	r.query = q
	r.Tables = queryTables(q)
}

var triggerOps = map[string]string{
	"gt": "gt", "greaterthan": "gt", "lt": "lt", "lessthan": "lt",
	"eq": "eq", "equal": "eq", "ne": "ne", "notequal": "ne",
}

func severity(s string) (alert.Severity, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "informational", "low":
		return alert.Low, true
	case "medium":
		return alert.Medium, true
	case "high":
		return alert.High, true
	}
	return 0, false
}

func canonicalSeverity(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxPeriod bounds queryFrequency and queryPeriod (Sentinel allows 14
// days of frequency and 14 days of period; a year leaves room for custom
// rules without letting a typo schedule absurd replays).
const maxPeriod = 366 * 24 * time.Hour

// duration reads a required queryFrequency or queryPeriod.
func (l *loader) duration(doc *yamltree.Node, key string) time.Duration {
	n := doc.Get(key)
	if n == nil || n.Kind == yamltree.Null {
		l.errorf(doc, "%s is missing: a Scheduled rule needs queryFrequency and queryPeriod (5m, 1h, 1d, 14d, or ISO 8601 PT1H, P14D)", key)
		return 0
	}
	if n.Kind != yamltree.Scalar {
		l.errorf(n, "%s must be a duration such as 1h or 14d, found %s", key, n.Describe())
		return 0
	}
	d, err := ParseDuration(n.Str)
	if err != nil {
		l.errorf(n, "%s: %v", key, err)
		return 0
	}
	return d
}

// ParseDuration reads a duration as Sentinel writes them: a number and a
// unit s, m, h or d ("5m", "1h", "14d"), or ISO 8601 ("PT1H", "P14D",
// "P1DT12H"). It must be positive and at most a year.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	var d time.Duration
	var ok bool
	if len(t) > 1 && (t[0] == 'P' || t[0] == 'p') {
		d, ok = parseISODuration(t[1:])
	} else {
		d, ok = parseUnitDuration(t)
	}
	switch {
	case !ok:
		return 0, fmt.Errorf("%q is not a duration (write 5m, 1h, 1d, 14d, or ISO 8601 such as PT1H)", s)
	case d <= 0:
		return 0, fmt.Errorf("%q: the duration must be positive", s)
	case d > maxPeriod:
		return 0, fmt.Errorf("%q is longer than a year", s)
	}
	return d, nil
}

var units = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}

// parseUnitDuration reads "<digits><unit>".
func parseUnitDuration(t string) (time.Duration, bool) {
	i := 0
	for i < len(t) && '0' <= t[i] && t[i] <= '9' {
		i++
	}
	if i == 0 || i > 6 {
		return 0, false
	}
	n, _ := strconv.Atoi(t[:i])
	u, ok := units[strings.ToLower(t[i:])]
	return time.Duration(n) * u, ok
}

// parseISODuration reads the part of an ISO 8601 duration after "P":
// [nD][T[nH][nM][nS]].
func parseISODuration(t string) (time.Duration, bool) {
	var d time.Duration
	inTime, any := false, false
	for len(t) > 0 {
		if t[0] == 'T' || t[0] == 't' {
			if inTime {
				return 0, false
			}
			inTime = true
			t = t[1:]
			continue
		}
		i := 0
		for i < len(t) && '0' <= t[i] && t[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 || i == len(t) {
			return 0, false
		}
		n, _ := strconv.Atoi(t[:i])
		var u time.Duration
		switch c := t[i] | 0x20; {
		case c == 'd' && !inTime:
			u = 24 * time.Hour
		case c == 'h' && inTime:
			u = time.Hour
		case c == 'm' && inTime:
			u = time.Minute
		case c == 's' && inTime:
			u = time.Second
		default:
			return 0, false
		}
		d += time.Duration(n) * u
		any = true
		t = t[i+1:]
	}
	return d, any
}

func (l *loader) connectors(doc *yamltree.Node, r *Rule) {
	n := doc.Get("requiredDataConnectors")
	if n == nil || n.Kind == yamltree.Null {
		return
	}
	if n.Kind != yamltree.Seq {
		l.errorf(n, "requiredDataConnectors must be a list of {connectorId, dataTypes}, found %s", n.Describe())
		return
	}
	for _, it := range n.Items {
		if it.Kind != yamltree.Map {
			l.errorf(it, "a data connector must be a mapping with connectorId and dataTypes, found %s", it.Describe())
			continue
		}
		r.DataConnectors = append(r.DataConnectors, DataConnector{ID: l.str(it, "connectorId"), DataTypes: l.list(it, "dataTypes")})
	}
}

func (l *loader) entities(doc *yamltree.Node, r *Rule) {
	n := doc.Get("entityMappings")
	if n == nil || n.Kind == yamltree.Null {
		return
	}
	if n.Kind != yamltree.Seq {
		l.errorf(n, "entityMappings must be a list of {entityType, fieldMappings}, found %s", n.Describe())
		return
	}
	for _, it := range n.Items {
		if it.Kind != yamltree.Map {
			l.errorf(it, "an entity mapping must be a mapping with entityType and fieldMappings, found %s", it.Describe())
			continue
		}
		m := EntityMapping{Type: strings.TrimSpace(l.str(it, "entityType"))}
		if m.Type == "" {
			l.errorf(it, "the entity mapping has no entityType (Account, Host, IP, …)")
		}
		fm := it.Get("fieldMappings")
		if fm == nil || fm.Kind != yamltree.Seq || len(fm.Items) == 0 {
			where := it
			if fm != nil {
				where = fm
			}
			l.errorf(where, "the %s entity mapping needs fieldMappings: a list of {identifier, columnName}", m.Type)
			continue
		}
		for _, f := range fm.Items {
			if f.Kind != yamltree.Map {
				l.errorf(f, "a field mapping must be a mapping with identifier and columnName, found %s", f.Describe())
				continue
			}
			id, col := strings.TrimSpace(l.str(f, "identifier")), strings.TrimSpace(l.str(f, "columnName"))
			if id == "" || col == "" {
				l.errorf(f, "a field mapping needs both identifier and columnName")
				continue
			}
			m.Fields = append(m.Fields, FieldMapping{Identifier: id, Column: col})
		}
		r.Entities = append(r.Entities, m)
	}
}

func (l *loader) customDetails(doc *yamltree.Node, r *Rule) {
	n := doc.Get("customDetails")
	if n == nil || n.Kind == yamltree.Null {
		return
	}
	if n.Kind != yamltree.Map {
		l.errorf(n, "customDetails must be a mapping of detail names to column names, found %s", n.Describe())
		return
	}
	for i, k := range n.Keys {
		v := n.Values[i]
		if v.Kind != yamltree.Scalar || strings.TrimSpace(v.Str) == "" {
			l.errorf(v, "custom detail %s must name a column, found %s", k.Str, v.Describe())
			continue
		}
		r.CustomDetails = append(r.CustomDetails, CustomDetail{Name: k.Str, Column: strings.TrimSpace(v.Str)})
	}
}

func (l *loader) overrides(doc *yamltree.Node, r *Rule) {
	n := doc.Get("alertDetailsOverride")
	if n == nil || n.Kind == yamltree.Null {
		return
	}
	if n.Kind != yamltree.Map {
		l.errorf(n, "alertDetailsOverride must be a mapping, found %s", n.Describe())
		return
	}
	r.AlertNameFormat = l.str(n, "alertDisplayNameFormat")
	r.AlertDescriptionFormat = l.str(n, "alertDescriptionFormat")
	r.AlertSeverityColumn = strings.TrimSpace(l.str(n, "alertSeverityColumnName"))
	r.AlertTacticsColumn = strings.TrimSpace(l.str(n, "alertTacticsColumnName"))
}

// queryPos maps positions in a query's text to positions in its file.
type queryPos struct {
	// line, col: where the query's text starts in the file.
	line, col int
	// block is set for a block scalar (query: |), whose lines are all
	// indented by indent columns.
	block  bool
	indent int
}

// newQueryPos finds how the query's scalar n is written in src.
func newQueryPos(src []byte, n *yamltree.Node) queryPos {
	p := queryPos{line: n.Line, col: n.Col}
	lines := bytes.Split(src, []byte("\n"))
	if n.Line < 1 || n.Line > len(lines) {
		return p
	}
	head := lines[n.Line-1]
	c := n.Col - 1
	if c < 0 || c >= len(head) {
		return p
	}
	switch head[c] {
	case '|', '>':
		p.block = true
		p.line = n.Line + 1
		for i := n.Line; i < len(lines); i++ {
			l := bytes.TrimRight(lines[i], "\r")
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			p.indent = len(l) - len(bytes.TrimLeft(l, " "))
			break
		}
		p.col = p.indent + 1
	case '"', '\'':
		p.col = n.Col + 1
	}
	return p
}

// file returns the file line and column of a position in the query.
func (q queryPos) file(p kql.Pos) (int, int) {
	if q.block {
		// The query's line 1 is the line after "query: |" (leading blank
		// lines are part of the text).
		return q.line - 1 + p.Line, q.indent + p.Col
	}
	if p.Line <= 1 {
		return q.line, q.col + p.Col - 1
	}
	return q.line + p.Line - 1, p.Col
}

// Unique drops rules whose alert id another rule of the list already has,
// reporting each.
func Unique(rules []*Rule) ([]*Rule, []Problem) {
	seen := map[string]*Rule{}
	var out []*Rule
	var probs []Problem
	for _, r := range rules {
		id := r.AlertID()
		if prev, dup := seen[id]; dup {
			probs = append(probs, Problem{File: r.File, Line: r.Line, Col: r.Col, RuleID: id,
				Msg: fmt.Sprintf("duplicate rule id (also %s:%d): only the first one runs", prev.File, prev.Line)})
			continue
		}
		seen[id] = r
		out = append(out, r)
	}
	return out, probs
}
