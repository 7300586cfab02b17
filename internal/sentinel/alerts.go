package sentinel

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/jsonenc"
	"github.com/entrawatch/entrawatch/internal/kql"
	"github.com/entrawatch/entrawatch/internal/record"
)

// Bounds on what one alert carries from a result row, whose values come
// from the logs (attacker-controlled).
const (
	// MaxDetailColumns is the most result columns copied into an alert's
	// details.
	MaxDetailColumns = 20
	// MaxValueLen is the most bytes of one value in a detail, an entity or
	// an expanded format.
	MaxValueLen = 256
	// maxRecordJSON is the most bytes of the result row kept as the
	// alert's record.
	maxRecordJSON = 64 << 10
	// maxTitleLen and maxSummaryLen bound the expanded formats (Sentinel's
	// own limits for the alert name and description).
	maxTitleLen   = 256
	maxSummaryLen = 5000
)

// evaluation is one run of a rule's query and its result.
type evaluation struct {
	rule *Rule
	res  *kql.Table
	db   *kql.DB
	// in are the rows of the window, by table; byTime indexes them by
	// their time, built on first use by trace.
	in     map[*tableRows][]int32
	byTime map[int64][]rowRef
	tick   time.Time
	cols   map[string]int
}

type rowRef struct {
	tr *tableRows
	i  int32
}

// source is where a result row's record came from: the row itself when
// the query kept it (where, take, order by…), else the one row of the
// window that has the result's TimeGenerated and the same value in every
// column of its table that the result row has, two at least (a row that
// extend or project only added columns to or removed some from); false
// when there is none or more than one.
func (ev *evaluation) source(row []kql.Value) (record.Source, bool) {
	if src, ok := ev.db.Source(row); ok {
		return src, true
	}
	tv := ev.value(row, "TimeGenerated")
	if tv.T != kql.TDatetime {
		return record.Source{}, false
	}
	t := tv.Time()
	if ev.byTime == nil {
		ev.byTime = map[int64][]rowRef{}
		for tr, idx := range ev.in {
			if kql.Schemas[tr.name][tr.timeCol].Name != "TimeGenerated" {
				continue
			}
			for _, i := range idx {
				if k := &tr.rows[i]; k.hasT {
					ev.byTime[k.t] = append(ev.byTime[k.t], rowRef{tr, i})
				}
			}
		}
	}
	var found *keptRow
	for _, ref := range ev.byTime[t.UnixNano()] {
		k := &ref.tr.rows[ref.i]
		if !ev.sameColumns(row, ref.tr.name, k.row) {
			continue
		}
		if found != nil {
			return record.Source{}, false // ambiguous
		}
		found = k
	}
	if found == nil {
		return record.Source{}, false
	}
	return found.src, true
}

// sameColumns reports whether every column of the result that the table
// has holds the table row's value, and whether there are two such
// columns at least (the time and another).
func (ev *evaluation) sameColumns(row []kql.Value, table string, in []kql.Value) bool {
	shared := 0
	for i, c := range ev.res.Columns {
		if i >= len(row) {
			break
		}
		for j, tc := range kql.Schemas[table] {
			if tc.Name != c.Name {
				continue
			}
			if row[i].T != in[j].T || string(row[i].AppendJSON(nil)) != string(in[j].AppendJSON(nil)) {
				return false
			}
			shared++
			break
		}
	}
	return shared >= 2
}

func (ev *evaluation) index() {
	ev.cols = make(map[string]int, len(ev.res.Columns))
	for i, c := range ev.res.Columns {
		if _, dup := ev.cols[c.Name]; !dup {
			ev.cols[c.Name] = i
		}
	}
}

// value returns a column's value in row (null when there is no such
// column).
func (ev *evaluation) value(row []kql.Value, col string) kql.Value {
	if i, ok := ev.cols[col]; ok && i < len(row) {
		return row[i]
	}
	return kql.Null
}

// text returns a column's text in row, bounded.
func (ev *evaluation) text(row []kql.Value, col string) string {
	return clip(ev.value(row, col).Text(), MaxValueLen)
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// alert builds the alert of rows: one result row, all rows of a
// SingleAlert run, or the rows past MaxAlertsPerRun-1 (n of them).
func (ev *evaluation) alert(rows [][]kql.Value, n int) *alert.Alert {
	r := ev.rule
	var row []kql.Value
	if len(rows) > 0 {
		row = rows[0]
	}
	single := r.SingleAlert || len(rows) != 1
	a := &alert.Alert{Rule: r.AlertID(), Title: r.title(), Severity: r.AlertSeverity(), Time: ev.tick}
	if r.AlertNameFormat != "" && row != nil {
		a.Title = clip(ev.expand(r.AlertNameFormat, row), maxTitleLen)
	}
	sevName := r.Severity
	if r.AlertSeverityColumn != "" && row != nil {
		if v := ev.text(row, r.AlertSeverityColumn); v != "" {
			if s, ok := severity(v); ok {
				a.Severity, sevName = s, canonicalSeverity(v)
			}
		}
	}
	if !single {
		if t, ok := ev.rowTime(row); ok {
			a.Time = t
		}
	}
	a.Source = record.Source{File: r.File, Line: int64(r.qpos.line), Format: "sentinel-rule"}
	if !single {
		if src, ok := ev.source(row); ok {
			a.Source = src
		}
	}
	add := func(name, value string) {
		if value == "" {
			return
		}
		for _, d := range a.Details {
			if d.Name == name {
				return
			}
		}
		a.Details = append(a.Details, alert.Detail{Name: name, Value: value})
	}
	if sevName == "Informational" {
		add("sentinel_severity", "Informational")
	}
	tactics := strings.Join(r.Tactics, ", ")
	if r.AlertTacticsColumn != "" && row != nil {
		if v := ev.text(row, r.AlertTacticsColumn); v != "" {
			tactics = v
		}
	}
	add("tactics", tactics)
	add("techniques", strings.Join(r.Techniques, ", "))
	add("query_window", ev.tick.Add(-r.QueryPeriod).Format(time.RFC3339)+"/"+ev.tick.Format(time.RFC3339))
	if single {
		add("results", strconv.Itoa(n))
	}
	if row != nil {
		for _, c := range r.CustomDetails {
			add(c.Name, ev.text(row, c.Column))
		}
		ev.entities(row, a, add)
		shown, more := 0, 0
		for i, c := range ev.res.Columns {
			if i >= len(row) || row[i].IsNull() || row[i].T == kql.TString && row[i].S == "" {
				continue
			}
			if shown == MaxDetailColumns {
				more++
				continue
			}
			shown++
			add(c.Name, clip(row[i].Text(), MaxValueLen))
		}
		if more > 0 {
			add("more_columns", strconv.Itoa(more)+" more non-empty columns (see record)")
		}
		a.Record = ev.rowJSON(row)
	}
	a.Summary = ev.summary(row, single, n, a.Title)
	return a
}

// rowTime is the time of a result row: TimeGenerated, timestamp,
// StartTime or StartTimeUtc, else its first datetime column.
func (ev *evaluation) rowTime(row []kql.Value) (time.Time, bool) {
	for _, c := range []string{"TimeGenerated", "timestamp", "StartTime", "StartTimeUtc"} {
		if v := ev.value(row, c); v.T == kql.TDatetime {
			return v.Time(), true
		}
	}
	for i := range ev.res.Columns {
		if i < len(row) && row[i].T == kql.TDatetime {
			return row[i].Time(), true
		}
	}
	return time.Time{}, false
}

// summary is the alert's one line: the expanded alertDescriptionFormat,
// else the title and the first non-empty columns of the row.
func (ev *evaluation) summary(row []kql.Value, single bool, n int, title string) string {
	r := ev.rule
	if r.AlertDescriptionFormat != "" && row != nil {
		return clip(strings.Join(strings.Fields(ev.expand(r.AlertDescriptionFormat, row)), " "), maxSummaryLen)
	}
	var b strings.Builder
	b.WriteString(title)
	if single {
		b.WriteString(": " + strconv.Itoa(n) + " " + plural(n, "result", "results"))
		if row == nil {
			return b.String()
		}
		b.WriteString(", first")
	}
	parts := 0
	for i, c := range ev.res.Columns {
		if parts == 4 || i >= len(row) {
			break
		}
		v := row[i]
		if c.Name == "Type" || v.IsNull() || v.T == kql.TDatetime || v.T == kql.TDynamic || v.T == kql.TString && strings.TrimSpace(v.S) == "" {
			continue
		}
		if parts == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(c.Name + "=" + clip(v.Text(), 80))
		parts++
	}
	return b.String()
}

// expand replaces each {{Column}} of a format with the column's text in
// row; a placeholder naming no column stays as written.
func (ev *evaluation) expand(format string, row []kql.Value) string {
	var b strings.Builder
	for {
		i := strings.Index(format, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(format[i+2:], "}}")
		if j < 0 {
			break
		}
		name := strings.TrimSpace(format[i+2 : i+2+j])
		b.WriteString(format[:i])
		if _, ok := ev.cols[name]; ok {
			b.WriteString(ev.text(row, name))
		} else {
			b.WriteString(format[i : i+4+j])
		}
		format = format[i+4+j:]
	}
	b.WriteString(format)
	return b.String()
}

// entities fills the alert's entities from the entity mappings: the first
// Account is the user, the first Host the host, the first IP the address;
// every other identifier becomes a detail named Type[N].Identifier.
func (ev *evaluation) entities(row []kql.Value, a *alert.Alert, add func(name, value string)) {
	count := map[string]int{}
	for _, m := range ev.rule.Entities {
		count[m.Type]++
		prefix := m.Type
		if count[m.Type] > 1 {
			prefix += strconv.Itoa(count[m.Type])
		}
		ids := map[string]string{}
		for _, f := range m.Fields {
			ids[f.Identifier] = ev.text(row, f.Column)
		}
		used := map[string]bool{}
		first := count[m.Type] == 1
		switch {
		case strings.EqualFold(m.Type, "Account") && first && a.Entities.User == "":
			a.Entities.User, used = account(ids)
		case strings.EqualFold(m.Type, "Host") && first && a.Entities.Host == "":
			a.Entities.Host, used = host(ids)
		case strings.EqualFold(m.Type, "IP") && first && a.Entities.IP == "":
			a.Entities.IP = ids["Address"]
			used = map[string]bool{"Address": true}
		}
		for _, f := range m.Fields {
			if !used[f.Identifier] {
				add(prefix+"."+f.Identifier, ids[f.Identifier])
			}
		}
	}
}

// account names a user from an Account entity's identifiers.
func account(ids map[string]string) (string, map[string]bool) {
	switch {
	case ids["FullName"] != "":
		return ids["FullName"], map[string]bool{"FullName": true}
	case ids["Name"] != "" && ids["UPNSuffix"] != "":
		return ids["Name"] + "@" + ids["UPNSuffix"], map[string]bool{"Name": true, "UPNSuffix": true}
	case ids["Name"] != "" && ids["NTDomain"] != "":
		return ids["NTDomain"] + `\` + ids["Name"], map[string]bool{"Name": true, "NTDomain": true}
	}
	for _, k := range []string{"Name", "AadUserId", "Sid", "ObjectGuid", "DisplayName"} {
		if ids[k] != "" {
			return ids[k], map[string]bool{k: true}
		}
	}
	return "", nil
}

// host names a host from a Host entity's identifiers.
func host(ids map[string]string) (string, map[string]bool) {
	switch {
	case ids["FullName"] != "":
		return ids["FullName"], map[string]bool{"FullName": true}
	case ids["HostName"] != "" && ids["DnsDomain"] != "":
		return ids["HostName"] + "." + ids["DnsDomain"], map[string]bool{"HostName": true, "DnsDomain": true}
	}
	for _, k := range []string{"HostName", "NetBiosName"} {
		if ids[k] != "" {
			return ids[k], map[string]bool{k: true}
		}
	}
	return "", nil
}

// rowJSON is the row as a JSON object, or nil when it is too large.
func (ev *evaluation) rowJSON(row []kql.Value) []byte {
	b := []byte{'{'}
	for i, c := range ev.res.Columns {
		if i >= len(row) {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, c.Name)
		b = append(b, ':')
		b = row[i].AppendJSON(b)
		if len(b) > maxRecordJSON {
			return nil
		}
	}
	return append(b, '}')
}

// rowKey identifies a result row by its columns and values, for the
// de-duplication across the ticks of a replay.
func rowKey(t *kql.Table, row []kql.Value) [16]byte {
	h := sha256.New()
	var buf []byte
	for i, c := range t.Columns {
		if i >= len(row) {
			break
		}
		buf = append(buf[:0], c.Name...)
		buf = append(buf, 0, byte(row[i].T), 0)
		buf = row[i].AppendJSON(buf)
		buf = append(buf, 0)
		h.Write(buf)
	}
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}

// rowsKey identifies a whole result.
func rowsKey(t *kql.Table, rows [][]kql.Value) [16]byte {
	h := sha256.New()
	h.Write([]byte("result\x00"))
	for _, row := range rows {
		k := rowKey(t, row)
		h.Write(k[:])
	}
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}
