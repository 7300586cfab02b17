package kql

import (
	"bytes"
	"strings"
	"sync"
	"unsafe"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// Lazy columns. A row of a table the query reads holds, for a column the
// query never names, a tLazy value instead of the column's value: the
// value is computed only if something reads it, usually the output. Two
// kinds exist:
//
//   - a stored lazy value (D is a *lazyRow) belongs to a row kept after
//     its record was released: the record's JSON is kept and the whole
//     row built from it on first use;
//   - a placeholder (D is nil) belongs to a row streamed while its record
//     is live (stream.go): the row's live record computes it.
//
// I is the column's index in its table's schema. Every read of a row's
// values goes through row.get or resolved; tables are resolved before they
// leave the package (resolveTable).

// lazyRow is a record kept as its JSON, its row built on first use.
type lazyRow struct {
	table string
	once  sync.Once
	json  []byte
	row   []Value
}

func newLazyRow(r *record.Record, table string) *lazyRow {
	bp := jsonScratch.Get().(*[]byte)
	*bp = r.Root.MarshalTo((*bp)[:0])
	j := append(make([]byte, 0, len(*bp)), *bp...) // no room to spare: many are kept
	jsonScratch.Put(bp)
	return &lazyRow{table: table, json: j}
}

var jsonScratch = sync.Pool{New: func() any { return new([]byte) }}

// column returns the value of column i, building the row first.
func (l *lazyRow) column(i int) Value {
	l.once.Do(func() {
		cs, fs := Schemas[l.table], fields[l.table]
		l.row = make([]Value, len(cs))
		var p fastjson.Parser
		v, err := p.ParseBytes(l.json)
		if err != nil || len(fs) != len(cs) {
			l.json = nil
			return // cannot happen: the JSON was written from a parsed value
		}
		rec := &record.Record{Root: v}
		rec.Classify()
		b := &builder{arena: arena{min: 2 * len(l.json)}}
		for j := range cs {
			l.row[j] = b.column(rec, l.table, cs[j], fs[j])
		}
		rec.Release()
		l.json = nil
	})
	if i >= 0 && i < len(l.row) {
		return l.row[i]
	}
	return Null
}

// resolved returns v, computed if it is a stored lazy value.
func resolved(v Value) Value {
	if v.T != tLazy {
		return v
	}
	if l, ok := v.D.(*lazyRow); ok {
		return l.column(int(v.I))
	}
	return Null // a placeholder outside its row: never happens
}

// resolveTable replaces the stored lazy values of a table's rows by their
// values, in place.
func resolveTable(t *Table) {
	for _, r := range t.Rows {
		for i := range r {
			if r[i].T == tLazy {
				r[i] = resolved(r[i])
			}
		}
	}
}

// liveRecord is the record a row is streamed from, while it is live: it
// computes the row's placeholders (each column once per record) and
// answers the compiled fast paths (compile.go) straight from the record's
// JSON, without building values.
type liveRecord struct {
	rec    *record.Record
	table  string
	tableB []byte
	cols   []Column
	fields []*record.Field
	cache  []Value
	have   []bool
	snap   *lazyRow
	// texts holds the parsed JSON text of dynamic columns, per column.
	texts   []*jsonText
	gen     uint32
	scratch []byte
}

// jsonText is a dynamic column's JSON text parsed for member access.
type jsonText struct {
	gen uint32
	p   fastjson.Parser
	v   *fastjson.Value
}

func newLiveRecord(table string) *liveRecord {
	cs := Schemas[table]
	return &liveRecord{table: table, tableB: []byte(table), cols: cs, fields: fields[table],
		cache: make([]Value, len(cs)), have: make([]bool, len(cs)), texts: make([]*jsonText, len(cs)),
		scratch: make([]byte, 0, 64)}
}

// reset makes r the live record.
func (l *liveRecord) reset(r *record.Record) {
	l.rec, l.snap = r, nil
	clear(l.have)
	l.gen++
}

// column returns the value of column i.
func (l *liveRecord) column(i int) Value {
	if i < 0 || i >= len(l.cols) {
		return Null
	}
	if !l.have[i] {
		l.cache[i], l.have[i] = columnValue(l.rec, l.table, l.cols[i], l.fields[i]), true
	}
	return l.cache[i]
}

// snapshot returns the record kept as its JSON, for stored lazy values.
func (l *liveRecord) snapshot() *lazyRow {
	if l.snap == nil {
		l.snap = newLazyRow(l.rec, l.table)
	}
	return l.snap
}

var trueText, falseText = []byte("true"), []byte("false")

// text returns the text of string column i as its value would hold it
// (record.Text), without allocating: valid while the record is live.
func (l *liveRecord) text(i int) []byte {
	if l.cols[i].Name == "Type" {
		return l.tableB
	}
	v := l.rec.Get(l.fields[i])
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return record.Unquote(b)
	case fastjson.TypeNull:
		return nil
	case fastjson.TypeTrue:
		return trueText
	case fastjson.TypeFalse:
		return falseText
	}
	return l.rec.CompactJSON(v)
}

// member walks path from dynamic column i as member access on the
// column's value does (convert, then Obj.Get at each step: the exact key
// first, then ignoring case) and returns the JSON value found: nil when
// the result is null.
func (l *liveRecord) member(i int, path []string, pathB [][]byte) *fastjson.Value {
	v := l.rec.Get(l.fields[i])
	if v == nil {
		return nil
	}
	if v.Type() == fastjson.TypeString {
		// convert parses JSON text; other text is a string, whose members
		// are null.
		b, _ := v.StringBytes()
		b = bytes.TrimSpace(b)
		if len(b) == 0 || b[0] != '{' && b[0] != '[' {
			return nil
		}
		if v = l.parsedText(i, b); v == nil {
			return nil
		}
	}
	for k, name := range path {
		if v.Type() != fastjson.TypeObject {
			return nil
		}
		o, _ := v.Object()
		m := o.Get(name)
		if m == nil {
			o.Visit(func(key []byte, kv *fastjson.Value) {
				if m == nil && bytes.EqualFold(key, pathB[k]) {
					m = kv
				}
			})
		}
		if m == nil {
			return nil
		}
		v = m
	}
	if v.Type() == fastjson.TypeNull {
		return nil
	}
	return v
}

// parsedText returns the JSON text b of dynamic column i parsed (nil if
// it is not JSON), once per record.
func (l *liveRecord) parsedText(i int, b []byte) *fastjson.Value {
	t := l.texts[i]
	if t == nil {
		t = &jsonText{}
		l.texts[i] = t
	}
	if t.gen != l.gen {
		t.gen, t.v = l.gen, nil
		if pv, err := t.p.ParseBytes(b); err == nil {
			t.v = pv
		}
	}
	return t.v
}

// appendJSON appends column i as JSON: what AppendJSON writes of the
// column's value, written from the record without building the value.
func (l *liveRecord) appendJSON(dst []byte, i int) []byte {
	c := l.cols[i]
	switch {
	case c.Name == "Type":
		return appendJSONString(dst, l.table)
	case c.Type == "string":
		return appendJSONBytes(dst, l.text(i))
	case c.Type != "dynamic":
		return l.column(i).AppendJSON(dst)
	}
	v := l.rec.Get(l.fields[i])
	if v == nil || v.Type() == fastjson.TypeNull {
		return append(dst, "null"...)
	}
	if v.Type() == fastjson.TypeString {
		// as convert reads a dynamic column
		b, _ := v.StringBytes()
		t := bytes.TrimSpace(b)
		if len(t) == 0 || t[0] != '{' && t[0] != '[' {
			return appendJSONBytes(dst, b)
		}
		if v = l.parsedText(i, t); v == nil {
			return appendJSONBytes(dst, t)
		}
	}
	keys := boolMembers[c.Name]
	if v.Type() != fastjson.TypeObject || keys == nil {
		return l.appendJSONValue(dst, v)
	}
	// typeBools' reading of "true"/"false" members
	o, _ := v.Object()
	dst = append(dst, '{')
	n := 0
	o.Visit(func(k []byte, m *fastjson.Value) {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = appendJSONBytes(dst, k)
		dst = append(dst, ':')
		if m.Type() == fastjson.TypeString {
			for _, want := range keys {
				if bytes.EqualFold(k, []byte(want)) {
					s, _ := m.StringBytes()
					switch strings.ToLower(strings.TrimSpace(string(s))) {
					case "true":
						dst = append(dst, "true"...)
						return
					case "false":
						dst = append(dst, "false"...)
						return
					}
				}
			}
		}
		dst = l.appendJSONValue(dst, m)
	})
	return append(dst, '}')
}

// appendJSONValue appends what FromJSON(v).AppendJSON writes.
func (l *liveRecord) appendJSONValue(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		n := 0
		o.Visit(func(k []byte, m *fastjson.Value) {
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = appendJSONBytes(dst, k)
			dst = append(dst, ':')
			dst = l.appendJSONValue(dst, m)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = l.appendJSONValue(dst, e)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendJSONBytes(dst, b)
	case fastjson.TypeNumber:
		l.scratch = l.scratch[:0]
		return numberValue(v, l.scratch).AppendJSON(dst)
	}
	return FromJSON(v).AppendJSON(dst)
}

// memberValue is the value of member access along path on dynamic column
// i: FromJSON of what member finds, with typeBools' reading of
// DeviceDetail.isCompliant and isManaged.
func (l *liveRecord) memberValue(i int, path []string, pathB [][]byte) Value {
	v := l.member(i, path, pathB)
	if v == nil {
		return Null
	}
	if len(path) == 1 && v.Type() == fastjson.TypeString {
		for _, want := range boolMembers[l.cols[i].Name] {
			if strings.EqualFold(path[0], want) {
				b, _ := v.StringBytes()
				switch strings.ToLower(strings.TrimSpace(string(b))) {
				case "true":
					return Value{T: TBool, I: 1, Dyn: true}
				case "false":
					return Value{T: TBool, Dyn: true}
				}
			}
		}
	}
	return FromJSON(v)
}

// memberEmpty reports whether isempty() holds for member access along
// path on dynamic column i (null, or an empty string), without building
// the value.
func (l *liveRecord) memberEmpty(i int, path []string, pathB [][]byte) bool {
	v := l.member(i, path, pathB)
	if v == nil {
		return true
	}
	if v.Type() == fastjson.TypeString {
		b, _ := v.StringBytes()
		return len(b) == 0
	}
	return false
}

// arena holds the text of the strings of kept rows: appended to chunks
// of bytes never written again, so that a row's strings cost an
// allocation per chunk, not one each (strings.Builder's technique).
type arena struct {
	min   int
	chunk []byte
}

// str returns b as a string in the arena.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.chunk)-len(a.chunk) < len(b) {
		a.chunk = make([]byte, 0, max(a.min, 4096, len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return unsafe.String(&a.chunk[start], len(b))
}

// builder builds the values of rows that are kept: columnValue's values,
// their strings in an arena and their bags sized once.
type builder struct {
	arena   arena
	scratch []byte
	p       fastjson.Parser
	// slabs the bags and arrays of dynamic values are carved from
	vals []Value
	keys []string
	objs []Obj
}

// slab sizes: a sign-in's dynamic columns hold about 150 values
const slabValues = 512

// values returns a slice of n values carved from the slab (its capacity
// is its length: appending to it copies).
func (b *builder) values(n int) []Value {
	if len(b.vals)+n > cap(b.vals) {
		b.vals = make([]Value, 0, max(slabValues, n))
	}
	lo := len(b.vals)
	b.vals = b.vals[:lo+n]
	return b.vals[lo : lo+n : lo+n]
}

func (b *builder) strings(n int) []string {
	if len(b.keys)+n > cap(b.keys) {
		b.keys = make([]string, 0, max(slabValues, n))
	}
	lo := len(b.keys)
	b.keys = b.keys[:lo+n]
	return b.keys[lo : lo+n : lo+n]
}

func (b *builder) obj() *Obj {
	if len(b.objs) == cap(b.objs) {
		b.objs = make([]Obj, 0, slabValues/8)
	}
	b.objs = b.objs[:len(b.objs)+1]
	return &b.objs[len(b.objs)-1]
}

// column is columnValue(r, table, c, f), built in the arena.
func (b *builder) column(r *record.Record, table string, c Column, f *record.Field) Value {
	if c.Name == "Type" {
		return Str(table)
	}
	v := r.Get(f)
	var out Value
	switch c.Type {
	case "string":
		b.scratch = record.AppendText(b.scratch[:0], v)
		out = Str(b.arena.str(b.scratch))
	case "dynamic":
		out = b.dynamic(v)
	default:
		if v == nil || v.Type() == fastjson.TypeNull {
			return Null
		}
		b.scratch = record.AppendText(b.scratch[:0], v)
		out = convertString(b.arena.str(b.scratch), c.Type)
	}
	if out.T == TDynamic {
		if keys := boolMembers[c.Name]; keys != nil {
			typeBools(out, keys)
		}
	}
	return out
}

// dynamic is convert(v, "dynamic").
func (b *builder) dynamic(v *fastjson.Value) Value {
	if v == nil || v.Type() == fastjson.TypeNull {
		return Null
	}
	if v.Type() == fastjson.TypeString {
		s, _ := v.StringBytes()
		if t := bytes.TrimSpace(s); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			j, err := b.p.ParseBytes(t)
			if err != nil {
				return Value{T: TString, S: b.arena.str(t), Dyn: true}
			}
			return b.fromJSON(j)
		}
	}
	return b.fromJSON(v)
}

// fromJSON is FromJSON(j), built in the arena.
func (b *builder) fromJSON(j *fastjson.Value) Value {
	switch j.Type() {
	case fastjson.TypeObject:
		o, _ := j.Object()
		n := o.Len()
		obj := b.obj()
		obj.Keys, obj.Vals = b.strings(n)[:0], b.values(n)[:0]
		o.Visit(func(k []byte, v *fastjson.Value) {
			obj.Keys = append(obj.Keys, b.arena.str(k))
			obj.Vals = append(obj.Vals, b.fromJSON(v))
		})
		return Value{T: TDynamic, D: obj}
	case fastjson.TypeArray:
		a, _ := j.Array()
		out := b.values(len(a))
		for i, e := range a {
			out[i] = b.fromJSON(e)
		}
		return Value{T: TDynamic, D: out}
	case fastjson.TypeString:
		s, _ := j.StringBytes()
		return Value{T: TString, S: b.arena.str(s), Dyn: true}
	case fastjson.TypeNumber:
		return numberValue(j, b.scratch)
	}
	return FromJSON(j)
}
