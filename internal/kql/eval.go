package kql

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/record"
)

// DB holds the tables a query reads.
type DB struct {
	Tables map[string]*Table
	// Now is the time of now() and the reference of ago(); zero means the
	// newest TimeGenerated (else first datetime column) of the loaded rows.
	Now time.Time

	sources map[*Value]record.Source
}

// NewDB returns an empty database with every supported table.
func NewDB() *DB {
	db := &DB{Tables: map[string]*Table{}}
	for name, cs := range Schemas {
		db.Tables[name] = &Table{Columns: cs}
	}
	return db
}

// Add appends a row to a table.
func (db *DB) Add(table string, row []Value) {
	t := db.Tables[table]
	t.Rows = append(t.Rows, row)
}

// AddRecord appends a row and remembers where its record came from.
func (db *DB) AddRecord(table string, row []Value, src record.Source) {
	db.Add(table, row)
	if len(row) > 0 {
		if db.sources == nil {
			db.sources = map[*Value]record.Source{}
		}
		db.sources[&row[0]] = src
	}
}

// Source returns where a result row's record came from, for rows that
// are a loaded row itself (operators that only filter or reorder rows,
// such as where, take and order by, keep them).
func (db *DB) Source(row []Value) (record.Source, bool) {
	if len(row) == 0 {
		return record.Source{}, false
	}
	s, ok := db.sources[&row[0]]
	return s, ok
}

// ReferenceTime is the time now() and ago() are relative to.
func (db *DB) ReferenceTime() time.Time {
	if !db.Now.IsZero() {
		return db.Now.UTC()
	}
	return newestTime(db.Tables)
}

type evaluator struct {
	db      *DB
	now     time.Time
	lets    map[string]Value
	tabLets map[string]*tabBinding
	lits    map[*Lit]Value
	regexes map[string]*regexp.Regexp
	funcs   map[string]*funcBinding
	// subs caches the tables of subqueries in expressions ((T | …) in in
	// and toscalar): they do not depend on the row.
	subs map[*TabularExpr]*Table
}

// Run checks and evaluates a query.
func Run(q *Query, db *DB) (*Table, error) {
	if err := Check(q); err != nil {
		return nil, err
	}
	ev := newEvaluator(db, db.ReferenceTime())
	if err := ev.bindLets(q.Lets); err != nil {
		return nil, err
	}
	return ev.tabular(q.Body)
}

// newEvaluator returns an evaluator over db with the reference time now
// and no names bound. An evaluator is used by one goroutine at a time.
func newEvaluator(db *DB, now time.Time) *evaluator {
	return &evaluator{db: db, now: now, lets: map[string]Value{}, tabLets: map[string]*tabBinding{},
		lits: map[*Lit]Value{}, regexes: map[string]*regexp.Regexp{}, funcs: map[string]*funcBinding{}}
}

func (ev *evaluator) tabular(t Tabular) (*Table, error) {
	tab, err := ev.source(t.Source)
	if err != nil {
		return nil, err
	}
	for _, op := range t.Ops {
		if tab, err = ev.op(op, tab); err != nil {
			return nil, err
		}
	}
	return tab, nil
}

func (ev *evaluator) source(s Source) (*Table, error) {
	switch s := s.(type) {
	case *TableRef:
		if s.Call {
			return ev.callTabular(s.Name, s.Args, nil, s.Pos)
		}
		if b, ok := ev.tabLets[s.Name]; ok {
			return b.get()
		}
		if t, ok := ev.db.Tables[canonicalTable(s.Name)]; ok {
			return t, nil
		}
		return nil, &Error{s.Pos, fmt.Sprintf("unknown table %q", s.Name)}
	case *Subquery:
		return ev.tabular(s.Tabular)
	case *Union:
		return ev.union(nil, s)
	case *Datatable:
		t := &Table{}
		for _, c := range s.Columns {
			t.Columns = append(t.Columns, Column{c.Name, c.Type})
		}
		for i := 0; i < len(s.Values); i += len(s.Columns) {
			row := make([]Value, len(s.Columns))
			for j := range row {
				v, err := ev.eval(s.Values[i+j], nil)
				if err != nil {
					return nil, err
				}
				row[j] = castTo(v, s.Columns[j].Type)
			}
			t.Rows = append(t.Rows, row)
		}
		return t, nil
	}
	return nil, fmt.Errorf("unknown source %T", s)
}

// castTo converts a value to a declared column type (null when it does
// not conform).
func castTo(v Value, typ string) Value {
	if v.IsNull() {
		return v
	}
	want := map[string]Type{"string": TString, "long": TLong, "int": TLong, "real": TReal, "double": TReal, "bool": TBool,
		"boolean": TBool, "datetime": TDatetime, "date": TDatetime, "timespan": TTimespan, "time": TTimespan}[typ]
	if typ == "dynamic" {
		return v
	}
	if v.T == want {
		v.Dyn = false
		return v
	}
	if want == TReal && v.T == TLong {
		return Real(float64(v.I))
	}
	if want == TLong && v.T == TReal {
		return Long(int64(v.F))
	}
	if want == TDatetime && v.T == TString {
		return convertString(v.S, "datetime")
	}
	return Null
}

func typeOf(v Value) string {
	if v.T == TNull {
		return ""
	}
	return v.T.String()
}

// derive names an unnamed computed column.
func derive(e Expr, n *int) string {
	if c, ok := e.(*Call); ok && (c.Name == "bin" || c.Name == "floor") && len(c.Args) > 0 {
		if name := columnName(c.Args[0]); name != "" {
			return name
		}
	}
	if name := columnName(e); name != "" {
		return name
	}
	*n++
	return fmt.Sprintf("Column%d", *n)
}

func (ev *evaluator) op(op Operator, t *Table) (*Table, error) {
	switch o := op.(type) {
	case *Where:
		out := &Table{Columns: t.Columns}
		for _, r := range t.Rows {
			v, err := ev.eval(o.Pred, &row{t: t, vals: r})
			if err != nil {
				return nil, err
			}
			if v.True() {
				out.Rows = append(out.Rows, r)
			} else if v.T != TBool && v.T != TNull {
				return nil, &Error{o.Pos, "where needs a bool, not a " + v.T.String()}
			}
		}
		return out, nil
	case *Extend:
		n := 0
		for _, a := range o.Columns {
			name := a.Name
			if name == "" {
				name = derive(a.Expr, &n)
			}
			vals := make([]Value, len(t.Rows))
			for i, r := range t.Rows {
				v, err := ev.eval(a.Expr, &row{t: t, vals: r})
				if err != nil {
					return nil, err
				}
				vals[i] = v
			}
			t = setColumn(t, name, vals)
		}
		return t, nil
	case *Project:
		out := &Table{}
		n := 0
		cols := make([][]Value, len(o.Columns))
		for ci, a := range o.Columns {
			name := a.Name
			if name == "" {
				name = derive(a.Expr, &n)
			}
			typ := ""
			if id, ok := a.Expr.(*Ident); ok {
				if i := t.index(id.Name); i >= 0 {
					typ = t.Columns[i].Type
				}
			}
			cols[ci] = make([]Value, len(t.Rows))
			for i, r := range t.Rows {
				v, err := ev.eval(a.Expr, &row{t: t, vals: r})
				if err != nil {
					return nil, err
				}
				cols[ci][i] = v
				if typ == "" {
					typ = typeOf(v)
				}
			}
			if out.index(name) >= 0 {
				return nil, &Error{a.Pos, fmt.Sprintf("project names column %q twice", name)}
			}
			if typ == "" {
				typ = "string"
			}
			out.Columns = append(out.Columns, Column{name, typ})
		}
		for i := range t.Rows {
			r := make([]Value, len(cols))
			for c := range cols {
				r[c] = cols[c][i]
			}
			out.Rows = append(out.Rows, r)
		}
		return out, nil
	case *ProjectAway:
		var keep []int
		for i, c := range t.Columns {
			if !matchAny(o.Names, c.Name) {
				keep = append(keep, i)
			}
		}
		return pick(t, keep), nil
	case *ProjectKeep:
		var keep []int
		for i, c := range t.Columns {
			if matchAny(o.Names, c.Name) {
				keep = append(keep, i)
			}
		}
		return pick(t, keep), nil
	case *ProjectRename:
		out := &Table{Columns: append([]Column(nil), t.Columns...), Rows: t.Rows}
		for _, p := range o.Pairs {
			i := out.index(p[1])
			if i < 0 {
				return nil, &Error{o.Pos, fmt.Sprintf("project-rename: no column %q", p[1])}
			}
			out.Columns[i].Name = p[0]
		}
		return out, nil
	case *ProjectReorder:
		var first []int
		used := map[int]bool{}
		for _, pat := range o.Names {
			for i, c := range t.Columns {
				if !used[i] && match(pat, c.Name) {
					first = append(first, i)
					used[i] = true
				}
			}
		}
		for i := range t.Columns {
			if !used[i] {
				first = append(first, i)
			}
		}
		return pick(t, first), nil
	case *Take:
		n, err := ev.count(o.N, o.Pos)
		if err != nil {
			return nil, err
		}
		if n < int64(len(t.Rows)) {
			return &Table{Columns: t.Columns, Rows: t.Rows[:n]}, nil
		}
		return t, nil
	case *Count:
		return &Table{Columns: []Column{{"Count", "long"}}, Rows: [][]Value{{Long(int64(len(t.Rows)))}}}, nil
	case *Distinct:
		if o.All {
			out := &Table{Columns: t.Columns}
			seen := map[string]bool{}
			for _, r := range t.Rows {
				k := rowKey(r)
				if !seen[k] {
					seen[k] = true
					out.Rows = append(out.Rows, r)
				}
			}
			return out, nil
		}
		var as []Assign
		for _, e := range o.Columns {
			as = append(as, Assign{Pos: e.Position(), Expr: e})
		}
		return ev.summarize(&Summarize{Pos: o.Pos, By: as}, t)
	case *Sort:
		return ev.sort(t, o.Keys)
	case *Top:
		n, err := ev.count(o.N, o.Pos)
		if err != nil {
			return nil, err
		}
		s, err := ev.sort(t, []SortKey{o.Key})
		if err != nil {
			return nil, err
		}
		if n < int64(len(s.Rows)) {
			s.Rows = s.Rows[:n]
		}
		return s, nil
	case *Summarize:
		return ev.summarize(o, t)
	case *Join:
		return ev.join(o, t)
	case *MvExpand:
		return ev.mvExpand(o, t)
	case *UnionOp:
		return ev.union(t, o.Union)
	case *Invoke:
		return ev.callTabular(o.Call.Name, o.Call.Args, t, o.Pos)
	case *MvApply:
		return ev.mvApply(o, t)
	case *ParseOp:
		return ev.parseText(o, t)
	}
	return nil, fmt.Errorf("operator %T is not evaluated", op)
}

func (ev *evaluator) count(e Expr, p Pos) (int64, error) {
	v, err := ev.eval(e, nil)
	if err != nil {
		return 0, err
	}
	if v.T != TLong || v.I < 0 {
		return 0, &Error{p, "expected a non-negative long row count"}
	}
	return v.I, nil
}

// setColumn replaces or appends a column, copying the rows.
func setColumn(t *Table, name string, vals []Value) *Table {
	typ := "string"
	for _, v := range vals {
		if v.T != TNull {
			typ = typeOf(v)
			break
		}
	}
	i := t.index(name)
	out := &Table{Columns: append([]Column(nil), t.Columns...)}
	if i < 0 {
		out.Columns = append(out.Columns, Column{name, typ})
	} else {
		out.Columns[i].Type = typ
	}
	for ri, r := range t.Rows {
		nr := make([]Value, len(out.Columns))
		copy(nr, r)
		if i < 0 {
			nr[len(nr)-1] = vals[ri]
		} else {
			nr[i] = vals[ri]
		}
		out.Rows = append(out.Rows, nr)
	}
	return out
}

func pick(t *Table, idx []int) *Table {
	out := &Table{}
	for _, i := range idx {
		out.Columns = append(out.Columns, t.Columns[i])
	}
	for _, r := range t.Rows {
		nr := make([]Value, len(idx))
		for j, i := range idx {
			nr[j] = r[i]
		}
		out.Rows = append(out.Rows, nr)
	}
	return out
}

func matchAny(pats []string, name string) bool {
	for _, p := range pats {
		if match(p, name) {
			return true
		}
	}
	return false
}

// match matches a column name against a pattern with * wildcards.
func match(pat, name string) bool {
	if !strings.Contains(pat, "*") {
		return pat == name
	}
	parts := strings.Split(pat, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(name, p)
		}
		k := strings.Index(name, p)
		if k < 0 {
			return false
		}
		name = name[k+len(p):]
	}
	return true
}

func rowKey(r []Value) string { return string(appendRowKey(nil, r)) }

// appendRowKey appends the key of a row of values.
func appendRowKey(dst []byte, r []Value) []byte {
	for _, v := range r {
		dst = append(resolved(v).appendKey(dst), 0)
	}
	return dst
}

// order compares two values for sorting: nulls are handled by the caller;
// values of different types order by type.
func order(a, b Value) int {
	if c, err := compare(a, b, Pos{}); err == nil {
		return c
	}
	return cmpInt(int64(a.T), int64(b.T))
}

// sortLess reports whether a row with sort key values a sorts before one
// with b (order by's comparison; ties are left to the stable sort).
func sortLess(keys []SortKey, a, b []Value) bool {
	for k, key := range keys {
		nullsFirst := key.Asc
		if key.NullsSet {
			nullsFirst = key.NullsFirst
		}
		an, bn := a[k].IsNull(), b[k].IsNull()
		switch {
		case an && bn:
			continue
		case an:
			return nullsFirst
		case bn:
			return !nullsFirst
		}
		c := order(a[k], b[k])
		if c == 0 {
			continue
		}
		if key.Asc {
			return c < 0
		}
		return c > 0
	}
	return false
}

func (ev *evaluator) sort(t *Table, keys []SortKey) (*Table, error) {
	vals := make([][]Value, len(t.Rows))
	for i, r := range t.Rows {
		vals[i] = make([]Value, len(keys))
		for k, key := range keys {
			v, err := ev.eval(key.Expr, &row{t: t, vals: r})
			if err != nil {
				return nil, err
			}
			vals[i][k] = v
		}
	}
	idx := make([]int, len(t.Rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return sortLess(keys, vals[idx[x]], vals[idx[y]]) })
	out := &Table{Columns: t.Columns, Rows: make([][]Value, len(idx))}
	for i, j := range idx {
		out.Rows[i] = t.Rows[j]
	}
	return out, nil
}

func (ev *evaluator) union(first *Table, u *Union) (*Table, error) {
	var tabs []*Table
	if first != nil {
		tabs = append(tabs, first)
	}
	for _, leg := range u.Tables {
		t, err := ev.tabular(leg)
		if err != nil {
			return nil, err
		}
		tabs = append(tabs, t)
	}
	return mergeTables(tabs, u.Kind == "inner"), nil
}

// mergeTables unions tables by column name (missing columns null; a
// column of different types becomes dynamic); inner keeps only the columns
// every table has.
func mergeTables(tabs []*Table, inner bool) *Table {
	out := &Table{}
	typed := map[string]bool{} // the type comes from a table with rows
	for _, t := range tabs {
		for _, c := range t.Columns {
			i := out.index(c.Name)
			switch {
			case i < 0:
				out.Columns = append(out.Columns, c)
				typed[c.Name] = len(t.Rows) > 0
			case len(t.Rows) == 0 || out.Columns[i].Type == c.Type:
			case !typed[c.Name]:
				out.Columns[i].Type = c.Type
				typed[c.Name] = true
			default:
				out.Columns[i].Type = "dynamic"
			}
		}
	}
	if inner {
		var keep []Column
		for _, c := range out.Columns {
			all := true
			for _, t := range tabs {
				all = all && t.index(c.Name) >= 0
			}
			if all {
				keep = append(keep, c)
			}
		}
		out.Columns = keep
	}
	for _, t := range tabs {
		m := make([]int, len(out.Columns))
		for i, c := range out.Columns {
			m[i] = t.index(c.Name)
		}
		for _, r := range t.Rows {
			nr := make([]Value, len(m))
			for i, j := range m {
				if j >= 0 {
					nr[i] = r[j]
				}
			}
			out.Rows = append(out.Rows, nr)
		}
	}
	return out
}
