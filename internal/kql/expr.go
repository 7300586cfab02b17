package kql

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/entrawatch/entrawatch/internal/record"
)

// litValue converts a literal.
func litValue(l *Lit) (Value, error) {
	switch l.Kind {
	case "null":
		return Null, nil
	case "string", "guid":
		return Str(l.Text), nil
	case "bool":
		return Bool(l.Text == "true"), nil
	case "long":
		t := l.Text
		neg := strings.HasPrefix(t, "-")
		t = strings.TrimPrefix(t, "-")
		var i int64
		var err error
		if strings.HasPrefix(strings.ToLower(t), "0x") {
			i, err = strconv.ParseInt(t[2:], 16, 64)
		} else {
			i, err = strconv.ParseInt(t, 10, 64)
		}
		if err != nil {
			return Null, &Error{l.Pos, "invalid number " + l.Text}
		}
		if neg {
			i = -i
		}
		return Long(i), nil
	case "real":
		f, err := strconv.ParseFloat(l.Text, 64)
		if err != nil {
			return Null, &Error{l.Pos, "invalid number " + l.Text}
		}
		return Real(f), nil
	case "timespan":
		d, ok := parseTimespanLit(l.Text)
		if !ok {
			return Null, &Error{l.Pos, "invalid timespan " + l.Text}
		}
		return Timespan(d), nil
	case "datetime":
		s := strings.TrimSpace(l.Text)
		if s == "" || strings.EqualFold(s, "null") {
			return Null, nil
		}
		t, ok := record.ParseTime(s)
		if !ok {
			if t2, ok2 := record.ParseTime(s + "T00:00:00Z"); ok2 {
				return Datetime(t2), nil
			}
			return Null, &Error{l.Pos, "invalid datetime " + l.Text}
		}
		return Datetime(t), nil
	case "dynamic":
		return parseDynamicLit(l)
	}
	return Null, refuse(l.Pos, "%s literal", l.Kind)
}

// parseDynamicLit reads dynamic([…]) / dynamic({…}) / dynamic(null) with
// KQL's string quoting (single or double quotes).
func parseDynamicLit(l *Lit) (Value, error) {
	toks, err := lex(l.Text)
	if err != nil {
		return Null, &Error{l.Pos, "invalid dynamic literal: " + err.Error()}
	}
	i := 0
	bad := func() (Value, error) { return Null, &Error{l.Pos, "invalid dynamic literal " + l.Text} }
	var val func() (Value, error)
	val = func() (Value, error) {
		t := toks[i]
		i++
		switch t.kind {
		case tString:
			return Value{T: TString, S: t.text, Dyn: true}, nil
		case tNumber:
			e, err := numberLit(t)
			if err != nil {
				return Null, err
			}
			v, err := litValue(e.(*Lit))
			v.Dyn = true
			return v, err
		case tIdent:
			switch strings.ToLower(t.text) {
			case "true":
				return Value{T: TBool, I: 1, Dyn: true}, nil
			case "false":
				return Value{T: TBool, Dyn: true}, nil
			case "null":
				return Null, nil
			}
		case tPunct:
			switch t.text {
			case "-":
				v, err := val()
				if err != nil {
					return v, err
				}
				v.I, v.F = -v.I, -v.F
				return v, nil
			case "[":
				arr := []Value{}
				for toks[i].kind != tEOF && !(toks[i].kind == tPunct && toks[i].text == "]") {
					v, err := val()
					if err != nil {
						return v, err
					}
					arr = append(arr, v)
					if toks[i].kind == tPunct && toks[i].text == "," {
						i++
					}
				}
				if toks[i].kind == tEOF {
					return bad()
				}
				i++
				return Value{T: TDynamic, D: arr}, nil
			case "{":
				obj := &Obj{}
				for toks[i].kind != tEOF && !(toks[i].kind == tPunct && toks[i].text == "}") {
					k := toks[i]
					i++
					if k.kind != tString && k.kind != tIdent || toks[i].kind != tPunct || toks[i].text != ":" {
						return bad()
					}
					i++
					v, err := val()
					if err != nil {
						return v, err
					}
					obj.Keys = append(obj.Keys, k.text)
					obj.Vals = append(obj.Vals, v)
					if toks[i].kind == tPunct && toks[i].text == "," {
						i++
					}
				}
				if toks[i].kind == tEOF {
					return bad()
				}
				i++
				return Value{T: TDynamic, D: obj}, nil
			}
		}
		return bad()
	}
	v, err := val()
	if err != nil {
		return v, err
	}
	if toks[i].kind != tEOF {
		return bad()
	}
	return v, nil
}

// row is the evaluation context of one row. Its values may hold lazy
// columns (lazy.go), computed when read through get.
type row struct {
	t    *Table
	vals []Value
	// live resolves the placeholders of a row streamed from a record.
	live *liveRecord
}

// get returns the row's value of column i, computing it first when lazy.
func (r *row) get(i int) Value {
	v := r.vals[i]
	if v.T != tLazy {
		return v
	}
	if v.D == nil && r.live != nil {
		v = r.live.column(int(v.I))
	} else {
		v = resolved(v)
	}
	r.vals[i] = v
	return v
}

func (ev *evaluator) eval(e Expr, r *row) (Value, error) {
	switch x := e.(type) {
	case *Lit:
		if v, ok := ev.lits[x]; ok {
			return v, nil
		}
		v, err := litValue(x)
		if err != nil {
			return v, err
		}
		ev.lits[x] = v
		return v, nil
	case *Ident:
		if r != nil {
			if i := r.t.index(x.Name); i >= 0 {
				return r.get(i), nil
			}
		}
		if v, ok := ev.lets[x.Name]; ok {
			return v, nil
		}
		return Null, &Error{x.Pos, fmt.Sprintf("unknown column or name %q", x.Name)}
	case *Binary:
		return ev.binary(x, r)
	case *Unary:
		v, err := ev.eval(x.X, r)
		if err != nil {
			return v, err
		}
		return unary(x, v)
	case *In:
		return ev.in(x, r)
	case *Between:
		v, err := ev.eval(x.X, r)
		if err != nil {
			return v, err
		}
		lo, err := ev.eval(x.Lo, r)
		if err != nil {
			return v, err
		}
		hi, err := ev.eval(x.Hi, r)
		if err != nil {
			return v, err
		}
		return between(x, v, lo, hi)
	case *Call:
		return ev.call(x, r)
	case *Member:
		v, err := ev.eval(x.X, r)
		if err != nil {
			return v, err
		}
		return member(v, x.Name, x.Pos)
	case *Index:
		v, err := ev.eval(x.X, r)
		if err != nil {
			return v, err
		}
		idx, err := ev.eval(x.Index, r)
		if err != nil {
			return v, err
		}
		return index(x, v, idx)
	}
	return Null, refuse(e.Position(), "expression %T", e)
}

// unary applies -x or +x to the operand's value.
func unary(x *Unary, v Value) (Value, error) {
	if x.Op == "+" {
		return v, nil
	}
	switch v.T {
	case TLong, TTimespan:
		v.I = -v.I
		return v, nil
	case TReal:
		v.F = -v.F
		return v, nil
	case TNull:
		return v, nil
	}
	return Null, &Error{x.Pos, "cannot negate a " + v.T.String()}
}

// between applies x between (lo .. hi) to the values.
func between(x *Between, v, lo, hi Value) (Value, error) {
	if v.T == TDatetime && lo.T == TDatetime && hi.T == TTimespan {
		hi = Value{T: TDatetime, I: lo.I + hi.I}
	}
	if v.IsNull() || lo.IsNull() || hi.IsNull() {
		return Null, nil
	}
	c1, err := compare(v, lo, x.Pos)
	if err != nil {
		return Null, err
	}
	c2, err := compare(v, hi, x.Pos)
	if err != nil {
		return Null, err
	}
	in := c1 >= 0 && c2 <= 0
	return Bool(in != x.Not), nil
}

// index applies x[i] (a member when i is a string) to the values.
func index(x *Index, v, idx Value) (Value, error) {
	if idx.T == TString {
		return member(v, idx.S, x.Pos)
	}
	if v.IsNull() {
		return Null, nil
	}
	arr, ok := v.D.([]Value)
	if v.T != TDynamic || !ok {
		if v.T == TString && !v.Dyn {
			return Null, &Error{x.Pos, "indexing a string column (use parse_json first)"}
		}
		return Null, nil
	}
	if idx.T != TLong {
		return Null, &Error{x.Pos, "array index must be a long, not " + idx.T.String()}
	}
	i := idx.I
	if i < 0 {
		i += int64(len(arr))
	}
	if i < 0 || i >= int64(len(arr)) {
		return Null, nil
	}
	return arr[i], nil
}

func member(v Value, name string, p Pos) (Value, error) {
	if v.IsNull() {
		return Null, nil
	}
	if v.T == TDynamic {
		if o, ok := v.D.(*Obj); ok {
			m, _ := o.Get(name)
			return m, nil
		}
		return Null, nil
	}
	if v.T == TString && !v.Dyn {
		return Null, &Error{p, fmt.Sprintf("member access .%s on a string column (use parse_json first)", name)}
	}
	return Null, nil
}

func (ev *evaluator) binary(x *Binary, r *row) (Value, error) {
	l, err := ev.eval(x.L, r)
	if err != nil {
		return l, err
	}
	switch x.Op {
	case "and":
		if l.T == TBool && l.I == 0 {
			return Bool(false), nil
		}
		rv, err := ev.eval(x.R, r)
		if err != nil {
			return rv, err
		}
		return andValues(l, rv), nil
	case "or":
		if l.True() {
			return Bool(true), nil
		}
		rv, err := ev.eval(x.R, r)
		if err != nil {
			return rv, err
		}
		return orValues(l, rv), nil
	}
	rv, err := ev.eval(x.R, r)
	if err != nil {
		return rv, err
	}
	return ev.binaryValues(x, l, rv)
}

// andValues is l and rv, when l is not false.
func andValues(l, rv Value) Value {
	if rv.T == TBool && rv.I == 0 {
		return Bool(false)
	}
	if l.True() && rv.True() {
		return Bool(true)
	}
	return Null
}

// orValues is l or rv, when l is not true.
func orValues(l, rv Value) Value {
	if rv.True() {
		return Bool(true)
	}
	if l.T == TBool && rv.T == TBool {
		return Bool(false)
	}
	return Null
}

// binaryValues applies a binary operator other than and/or to its
// operands' values.
func (ev *evaluator) binaryValues(x *Binary, l, rv Value) (Value, error) {
	switch x.Op {
	case "==", "!=":
		if l.IsNull() || rv.IsNull() {
			return Null, nil
		}
		eq, err := equal(l, rv, x.Pos)
		if err != nil {
			return Null, err
		}
		return Bool(eq == (x.Op == "==")), nil
	case "=~", "!~":
		eq := strings.EqualFold(l.Text(), rv.Text())
		return Bool(eq == (x.Op == "=~")), nil
	case "<", "<=", ">", ">=":
		if l.IsNull() || rv.IsNull() {
			return Null, nil
		}
		c, err := compare(l, rv, x.Pos)
		if err != nil {
			if l.Dyn || rv.Dyn {
				return Null, nil
			}
			return Null, err
		}
		switch x.Op {
		case "<":
			return Bool(c < 0), nil
		case "<=":
			return Bool(c <= 0), nil
		case ">":
			return Bool(c > 0), nil
		}
		return Bool(c >= 0), nil
	case "+", "-", "*", "/", "%":
		return arith(x.Op, l, rv, x.Pos)
	case "matches regex":
		re, err := ev.regex(rv.Text(), x.Pos)
		if err != nil {
			return Null, err
		}
		return Bool(re.MatchString(l.Text())), nil
	}
	// string operators
	op := x.Op
	neg := strings.HasPrefix(op, "!")
	op = strings.TrimPrefix(op, "!")
	cs := strings.HasSuffix(op, "_cs")
	op = strings.TrimSuffix(op, "_cs")
	res := strOp(op, l.Text(), rv.Text(), cs)
	return Bool(res != neg), nil
}

func strOp(op, s, sub string, cs bool) bool {
	if !cs {
		s, sub = strings.ToLower(s), strings.ToLower(sub)
	}
	switch op {
	case "contains":
		return strings.Contains(s, sub)
	case "startswith":
		return strings.HasPrefix(s, sub)
	case "endswith":
		return strings.HasSuffix(s, sub)
	case "has":
		return hasTerm(s, sub)
	}
	return false
}

func isAlnum(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// hasTerm reports whether sub occurs in s as whole terms: not preceded or
// followed by an alphanumeric character where sub itself starts or ends
// with one.
func hasTerm(s, sub string) bool {
	if sub == "" {
		return true
	}
	first, _ := firstRune(sub)
	last := lastRune(sub)
	for off := 0; off <= len(s); {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(sub)
		okL := !isAlnum(first) || i == 0 || !isAlnum(lastRune(s[:i]))
		okR := !isAlnum(last) || end == len(s) || !isAlnum(func() rune { r, _ := firstRune(s[end:]); return r }())
		if okL && okR {
			return true
		}
		off = i + 1
	}
	return false
}

func firstRune(s string) (rune, int) {
	for _, r := range s {
		return r, 0
	}
	return 0, 0
}

func lastRune(s string) rune {
	rs := []rune(s)
	if len(rs) == 0 {
		return 0
	}
	return rs[len(rs)-1]
}

func (ev *evaluator) regex(pat string, p Pos) (*regexp.Regexp, error) {
	if re, ok := ev.regexes[pat]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, &Error{p, "invalid regular expression: " + err.Error()}
	}
	ev.regexes[pat] = re
	return re, nil
}

// equal compares two non-null values. Values of different types are an
// error, unless one came out of a dynamic value (then they are unequal).
func equal(a, b Value, p Pos) (bool, error) {
	if x, ok := a.number(); ok {
		if y, ok := b.number(); ok {
			if a.T == TLong && b.T == TLong {
				return a.I == b.I, nil
			}
			return x == y, nil
		}
	}
	if a.T == b.T {
		switch a.T {
		case TString:
			return a.S == b.S, nil
		case TDynamic:
			return a.Text() == b.Text(), nil
		}
		return a.I == b.I, nil
	}
	if a.Dyn || b.Dyn || a.T == TDynamic || b.T == TDynamic {
		return false, nil
	}
	// A string against a number (SigninLogs' ResultType == 0, as
	// Sentinel's rules write it): equal when the string is that number.
	if a.T == TString && (b.T == TLong || b.T == TReal) {
		a, b = b, a
	}
	if b.T == TString && (a.T == TLong || a.T == TReal) {
		x, _ := a.number()
		f, err := strconv.ParseFloat(strings.TrimSpace(b.S), 64)
		return err == nil && f == x, nil
	}
	return false, &Error{p, fmt.Sprintf("cannot compare a %s with a %s", a.T, b.T)}
}

// compare orders two non-null values of comparable types.
func compare(a, b Value, p Pos) (int, error) {
	if x, ok := a.number(); ok {
		if y, ok := b.number(); ok {
			if a.T == TLong && b.T == TLong {
				return cmpInt(a.I, b.I), nil
			}
			switch {
			case x < y:
				return -1, nil
			case x > y:
				return 1, nil
			}
			return 0, nil
		}
	}
	if a.T == b.T {
		switch a.T {
		case TString:
			return strings.Compare(a.S, b.S), nil
		case TDynamic:
			return strings.Compare(a.Text(), b.Text()), nil
		}
		return cmpInt(a.I, b.I), nil
	}
	return 0, &Error{p, fmt.Sprintf("cannot compare a %s with a %s", a.T, b.T)}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func arith(op string, a, b Value, p Pos) (Value, error) {
	if a.IsNull() || b.IsNull() {
		return Null, nil
	}
	bad := func() (Value, error) {
		return Null, &Error{p, fmt.Sprintf("operator %s cannot take a %s and a %s", op, a.T, b.T)}
	}
	switch {
	case a.T == TLong && b.T == TLong:
		switch op {
		case "+":
			return Long(a.I + b.I), nil
		case "-":
			return Long(a.I - b.I), nil
		case "*":
			return Long(a.I * b.I), nil
		case "/":
			if b.I == 0 {
				return Null, nil
			}
			return Long(a.I / b.I), nil
		case "%":
			if b.I == 0 {
				return Null, nil
			}
			return Long(a.I % b.I), nil
		}
	case (a.T == TLong || a.T == TReal) && (b.T == TLong || b.T == TReal):
		x, _ := a.number()
		y, _ := b.number()
		switch op {
		case "+":
			return Real(x + y), nil
		case "-":
			return Real(x - y), nil
		case "*":
			return Real(x * y), nil
		case "/":
			return Real(x / y), nil
		case "%":
			return Real(math.Mod(x, y)), nil
		}
	case a.T == TDatetime && b.T == TDatetime && op == "-":
		return Value{T: TTimespan, I: a.I - b.I}, nil
	case a.T == TDatetime && b.T == TTimespan && (op == "+" || op == "-"):
		if op == "-" {
			return Value{T: TDatetime, I: a.I - b.I}, nil
		}
		return Value{T: TDatetime, I: a.I + b.I}, nil
	case a.T == TTimespan && b.T == TDatetime && op == "+":
		return Value{T: TDatetime, I: a.I + b.I}, nil
	case a.T == TTimespan && b.T == TTimespan:
		switch op {
		case "+":
			return Value{T: TTimespan, I: a.I + b.I}, nil
		case "-":
			return Value{T: TTimespan, I: a.I - b.I}, nil
		case "/":
			if b.I == 0 {
				return Null, nil
			}
			return Real(float64(a.I) / float64(b.I)), nil
		}
	case a.T == TTimespan && (b.T == TLong || b.T == TReal) && (op == "*" || op == "/"):
		y, _ := b.number()
		if op == "*" {
			return Value{T: TTimespan, I: int64(float64(a.I) * y)}, nil
		}
		if y == 0 {
			return Null, nil
		}
		return Value{T: TTimespan, I: int64(float64(a.I) / y)}, nil
	case (a.T == TLong || a.T == TReal) && b.T == TTimespan && op == "*":
		x, _ := a.number()
		return Value{T: TTimespan, I: int64(float64(b.I) * x)}, nil
	}
	return bad()
}

func (ev *evaluator) in(x *In, r *row) (Value, error) {
	v, err := ev.eval(x.X, r)
	if err != nil {
		return v, err
	}
	items, err := ev.inItems(x, r)
	if err != nil {
		return Null, err
	}
	return inValues(x, v, items)
}

// inItems evaluates the list of an in-like operator: dynamic arrays are
// flattened, subqueries and tabular lets give their first column.
func (ev *evaluator) inItems(x *In, r *row) ([]Value, error) {
	var items []Value
	for _, e := range x.List {
		var tab *Table
		var err error
		if id, ok := e.(*Ident); ok && ev.isTabularName(id.Name, r) {
			if tab, err = ev.tabLets[id.Name].get(); err != nil {
				return nil, err
			}
		} else if t, ok := e.(*TabularExpr); ok {
			if tab, err = ev.subquery(t); err != nil {
				return nil, err
			}
		}
		if tab != nil {
			for _, rw := range tab.Rows {
				if len(rw) > 0 {
					items = append(items, resolved(rw[0]))
				}
			}
			continue
		}
		iv, err := ev.eval(e, r)
		if err != nil {
			return nil, err
		}
		if arr, ok := iv.D.([]Value); ok && iv.T == TDynamic {
			items = append(items, arr...)
		} else {
			items = append(items, iv)
		}
	}
	return items, nil
}

// inValues applies an in-like operator to a value and its list's items.
func inValues(x *In, v Value, items []Value) (Value, error) {
	neg := strings.HasPrefix(x.Op, "!")
	switch x.Op {
	case "has_any", "has_all":
		s := strings.ToLower(v.Text())
		all := true
		for _, it := range items {
			h := hasTerm(s, strings.ToLower(it.Text()))
			if h && x.Op == "has_any" {
				return Bool(true), nil
			}
			all = all && h
		}
		return Bool(x.Op == "has_all" && all && len(items) > 0), nil
	case "in~", "!in~":
		s := v.Text()
		for _, it := range items {
			if !v.IsNull() && !it.IsNull() && strings.EqualFold(s, it.Text()) {
				return Bool(!neg), nil
			}
		}
		return Bool(neg), nil
	}
	for _, it := range items {
		if v.IsNull() || it.IsNull() {
			continue
		}
		eq, err := equal(v, it, x.Pos)
		if err != nil {
			return Null, err
		}
		if eq {
			return Bool(!neg), nil
		}
	}
	return Bool(neg), nil
}

// isTabularName reports whether name, where a scalar is expected, names a
// tabular let (not shadowed by a column or a scalar let).
func (ev *evaluator) isTabularName(name string, r *row) bool {
	if r != nil && r.t.index(name) >= 0 {
		return false
	}
	if _, ok := ev.lets[name]; ok {
		return false
	}
	_, ok := ev.tabLets[name]
	return ok
}
