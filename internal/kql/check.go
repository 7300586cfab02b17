package kql

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
)

// scalarFuncs are the scalar functions the evaluator implements, with their
// accepted argument counts (min, max; -1: any).
var scalarFuncs = map[string][2]int{
	"isempty": {1, 1}, "isnotempty": {1, 1}, "isnull": {1, 1}, "isnotnull": {1, 1},
	"tostring": {1, 1}, "toint": {1, 1}, "tolong": {1, 1}, "todouble": {1, 1}, "toreal": {1, 1},
	"tobool": {1, 1}, "toboolean": {1, 1}, "todatetime": {1, 1}, "totimespan": {1, 1},
	"tolower": {1, 1}, "toupper": {1, 1}, "strcat": {1, -1}, "strlen": {1, 1}, "trim": {2, 2},
	"iff": {3, 3}, "iif": {3, 3}, "coalesce": {1, -1}, "ago": {1, 1}, "now": {0, 0},
	"parse_json": {1, 1}, "todynamic": {1, 1}, "array_length": {1, 1}, "not": {1, 1},
	"bin": {2, 2}, "floor": {2, 2},
	// typed literals: long(null), real(1.5), bool(null)…
	"long": {1, 1}, "int": {1, 1}, "real": {1, 1}, "double": {1, 1}, "bool": {1, 1},
}

// aggFuncs are the aggregations summarize implements.
var aggFuncs = map[string][2]int{
	"count": {0, 0}, "countif": {1, 1}, "dcount": {1, 2}, "sum": {1, 1}, "min": {1, 1}, "max": {1, 1},
	"avg": {1, 1}, "make_set": {1, 2}, "make_list": {1, 2}, "arg_max": {2, -1}, "arg_min": {2, -1},
	"any": {1, -1}, "take_any": {1, -1},
}

var supportedBinary = map[string]bool{
	"and": true, "or": true, "==": true, "!=": true, "=~": true, "!~": true, "<": true, "<=": true, ">": true, ">=": true,
	"+": true, "-": true, "*": true, "/": true, "%": true, "matches regex": true,
	"has": true, "!has": true, "has_cs": true, "!has_cs": true,
	"contains": true, "!contains": true, "contains_cs": true, "!contains_cs": true,
	"startswith": true, "!startswith": true, "startswith_cs": true, "!startswith_cs": true,
	"endswith": true, "!endswith": true, "endswith_cs": true, "!endswith_cs": true,
}

func refuse(p Pos, format string, args ...any) error {
	return &Error{p, fmt.Sprintf(format, args...) + " is not supported by entrawatch query"}
}

// Check walks the query once and refuses, with its position, anything the
// evaluator does not implement: a query either runs exactly or not at all.
func Check(q *Query) error {
	c := &checker{tabLets: map[string]bool{}, funcs: map[string]*Func{}}
	if err := c.lets(q.Lets); err != nil {
		return err
	}
	return c.tabular(q.Body)
}

type checker struct {
	tabLets map[string]bool
	funcs   map[string]*Func
}

func (c *checker) lets(lets []*Let) error {
	for _, l := range lets {
		// A let sees the names defined before it, not itself.
		switch {
		case l.Func != nil:
			if err := c.function(l.Func, l.Pos); err != nil {
				return err
			}
		case l.Scalar != nil:
			if err := c.expr(l.Scalar, false); err != nil {
				return err
			}
		default:
			if err := c.tabular(l.Tabular); err != nil {
				return err
			}
		}
		c.tabLets[l.Name] = l.Tabular.Source != nil
		delete(c.funcs, strings.ToLower(l.Name))
		if l.Func != nil {
			c.funcs[strings.ToLower(l.Name)] = l.Func
		}
	}
	return nil
}

// function checks a user-defined function's body, its tabular parameters
// known as tables. A function is known only after its definition: it
// cannot call itself.
func (c *checker) function(f *Func, pos Pos) error {
	in := &checker{tabLets: maps.Clone(c.tabLets), funcs: maps.Clone(c.funcs)}
	for _, p := range f.Params {
		if !p.Tabular && !knownType(p.Type) {
			return refuse(pos, "parameter type %s", p.Type)
		}
		if p.Default != nil {
			if err := c.expr(p.Default, false); err != nil {
				return err
			}
		}
		in.tabLets[p.Name] = p.Tabular
		delete(in.funcs, strings.ToLower(p.Name))
	}
	if err := in.lets(f.Lets); err != nil {
		return err
	}
	if f.Scalar != nil {
		return in.expr(f.Scalar, false)
	}
	return in.tabular(f.Tabular)
}

// userCall checks the arguments of a call of a user-defined function;
// skip is 1 for invoke, whose first parameter is the piped table.
func (c *checker) userCall(name string, f *Func, args []Expr, p Pos, skip int) error {
	req := 0
	for _, prm := range f.Params {
		if prm.Default == nil {
			req++
		}
	}
	if len(args)+skip < req || len(args)+skip > len(f.Params) {
		return &Error{p, fmt.Sprintf("%s() takes %d to %d arguments, not %d", name, req-skip, len(f.Params)-skip, len(args))}
	}
	for i, a := range args {
		if f.Params[i+skip].Tabular {
			if err := c.tabArg(a); err != nil {
				return err
			}
			continue
		}
		if err := c.expr(a, false); err != nil {
			return err
		}
	}
	return nil
}

// tabArg checks a tabular argument: (T | …) or a table or tabular let name.
func (c *checker) tabArg(e Expr) error {
	switch x := e.(type) {
	case *TabularExpr:
		return c.tabular(x.Tabular)
	case *Ident:
		return c.tabular(Tabular{Pos: x.Pos, Source: &TableRef{Pos: x.Pos, Name: x.Name}})
	}
	return &Error{e.Position(), "expected a tabular expression"}
}

func (c *checker) tabular(t Tabular) error {
	switch s := t.Source.(type) {
	case *TableRef:
		if s.Call {
			f := c.funcs[strings.ToLower(s.Name)]
			if f == nil || f.Tabular.Source == nil {
				return refuse(s.Pos, "function call %s()", s.Name)
			}
			if err := c.userCall(s.Name, f, s.Args, s.Pos, 0); err != nil {
				return err
			}
			break
		}
		switch {
		case c.tabLets[s.Name]:
		case isTable(s.Name):
			if _, ok := Schemas[canonicalTable(s.Name)]; !ok {
				return refuse(s.Pos, "table %s", s.Name)
			}
		default:
			return &Error{s.Pos, fmt.Sprintf("unknown table %q (entrawatch query presents %s)", s.Name, strings.Join(supportedTables(), ", "))}
		}
	case *Union:
		if err := c.union(s); err != nil {
			return err
		}
	case *Datatable:
		for _, col := range s.Columns {
			if !knownType(col.Type) {
				return refuse(s.Pos, "datatable column type %s", col.Type)
			}
		}
		for _, v := range s.Values {
			if err := c.expr(v, false); err != nil {
				return err
			}
		}
	case *Subquery:
		if err := c.tabular(s.Tabular); err != nil {
			return err
		}
	}
	for _, op := range t.Ops {
		if err := c.op(op); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) union(u *Union) error {
	if u.Kind != "" && u.Kind != "outer" && u.Kind != "inner" {
		return refuse(u.Pos, "union kind=%s", u.Kind)
	}
	for _, t := range u.Tables {
		if err := c.tabular(t); err != nil {
			return err
		}
	}
	return nil
}

func knownType(t string) bool {
	switch t {
	case "string", "long", "int", "real", "double", "bool", "boolean", "datetime", "date", "timespan", "time", "dynamic":
		return true
	}
	return false
}

func (c *checker) assigns(as []Assign, agg bool) error {
	for _, a := range as {
		if len(a.Tup) > 0 {
			// Name the function first: it is what is missing.
			if call, ok := a.Expr.(*Call); ok {
				if err := c.expr(call, agg); err != nil {
					return err
				}
			}
			return refuse(a.Pos, "tuple assignment (%s)", strings.Join(a.Tup, ", "))
		}
		if err := c.expr(a.Expr, agg); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) op(op Operator) error {
	switch o := op.(type) {
	case *Where:
		return c.expr(o.Pred, false)
	case *Extend:
		return c.assigns(o.Columns, false)
	case *Project:
		for _, a := range o.Columns {
			if _, ok := a.Expr.(*Star); ok {
				return refuse(a.Pos, "project *")
			}
		}
		return c.assigns(o.Columns, false)
	case *ProjectAway, *ProjectKeep, *ProjectRename, *ProjectReorder, *Count:
		return nil
	case *Summarize:
		for _, a := range o.Aggs {
			call, ok := a.Expr.(*Call)
			if !ok {
				return refuse(a.Pos, "summarize expression that is not an aggregation call")
			}
			if _, ok := aggFuncs[call.Name]; !ok {
				return refuse(call.Pos, "aggregation %s()", call.Name)
			}
			if len(a.Tup) > 0 {
				return refuse(a.Pos, "tuple assignment")
			}
			if err := c.call(call, true); err != nil {
				return err
			}
		}
		return c.assigns(o.By, false)
	case *Sort:
		for _, k := range o.Keys {
			if err := c.expr(k.Expr, false); err != nil {
				return err
			}
		}
		return nil
	case *Top:
		if err := c.expr(o.N, false); err != nil {
			return err
		}
		return c.expr(o.Key.Expr, false)
	case *Take:
		return c.expr(o.N, false)
	case *Distinct:
		for _, e := range o.Columns {
			if err := c.expr(e, false); err != nil {
				return err
			}
		}
		return nil
	case *Join:
		switch o.Kind {
		case "innerunique", "inner", "leftouter", "leftanti", "leftsemi", "rightanti", "rightsemi", "fullouter", "leftantisemi", "rightantisemi":
		default:
			return refuse(o.Pos, "join kind=%s", o.Kind)
		}
		return c.tabular(o.Right)
	case *MvExpand:
		for _, col := range o.Columns {
			if col.Type != "" && !knownType(col.Type) {
				return refuse(o.Pos, "mv-expand to typeof(%s)", col.Type)
			}
			if err := c.expr(col.Expr, false); err != nil {
				return err
			}
		}
		if o.Limit != nil {
			return c.expr(o.Limit, false)
		}
		return nil
	case *UnionOp:
		return c.union(o.Union)
	case *MvApply:
		for _, col := range o.Columns {
			if col.Type != "" && !knownType(col.Type) {
				return refuse(o.Pos, "mv-apply to typeof(%s)", col.Type)
			}
			if col.Name == "" {
				return refuse(o.Pos, "mv-apply of an unnamed expression")
			}
			if err := c.expr(col.Expr, false); err != nil {
				return err
			}
		}
		for _, op := range o.Body.Ops {
			if err := c.op(op); err != nil {
				return err
			}
		}
		return nil
	case *ParseOp:
		for _, p := range o.Parts {
			if p.IsCol && p.Column != "" {
				if _, ok := parseTypes[p.Type]; !ok {
					return refuse(o.Pos, "parse column type %s", p.Type)
				}
			}
		}
		if _, err := regexp.Compile(parsePattern(o)); err != nil {
			return &Error{o.Pos, "parse: invalid pattern: " + err.Error()}
		}
		return c.expr(o.Expr, false)
	case *Invoke:
		f := c.funcs[strings.ToLower(o.Call.Name)]
		if f == nil || f.Tabular.Source == nil || len(f.Params) == 0 || !f.Params[0].Tabular {
			return refuse(o.Pos, "invoke %s()", o.Call.Name)
		}
		return c.userCall(o.Call.Name, f, o.Call.Args, o.Call.Pos, 1)
	}
	return fmt.Errorf("unknown operator %T", op)
}

func (c *checker) call(e *Call, agg bool) error {
	if f := c.funcs[strings.ToLower(e.Name)]; f != nil {
		if f.Scalar == nil {
			return refuse(e.Pos, "tabular function %s() as a scalar", e.Name)
		}
		return c.userCall(e.Name, f, e.Args, e.Pos, 0)
	}
	switch e.Name {
	case "toscalar":
		if len(e.Args) != 1 {
			return &Error{e.Pos, "toscalar() takes 1 argument"}
		}
		return c.tabArg(e.Args[0])
	case "extract":
		if len(e.Args) == 4 {
			if t := typeArg(e.Args[3]); t == "" || !knownType(t) {
				return refuse(e.Args[3].Position(), "extract() type other than typeof(scalar type)")
			}
			e = &Call{Pos: e.Pos, Name: e.Name, Args: e.Args[:3]}
		}
	case "case":
		if len(e.Args)%2 == 0 {
			return &Error{e.Pos, "case() takes predicate, value pairs and a default"}
		}
	}
	n, ok := aggFuncs[e.Name]
	if !ok || !agg {
		if ok {
			return refuse(e.Pos, "aggregation %s() outside summarize", e.Name)
		}
		n, ok = scalarFuncs[e.Name]
		if !ok {
			return refuse(e.Pos, "function %s()", e.Name)
		}
	}
	if len(e.Args) < n[0] || n[1] >= 0 && len(e.Args) > n[1] {
		return &Error{e.Pos, fmt.Sprintf("%s() takes %s arguments, not %d", e.Name, argCount(n), len(e.Args))}
	}
	for _, a := range e.Args {
		if _, ok := a.(*Star); ok && (e.Name == "arg_max" || e.Name == "arg_min" || e.Name == "argmax" || e.Name == "argmin" || e.Name == "any" || e.Name == "take_any") {
			continue
		}
		if err := c.expr(a, false); err != nil {
			return err
		}
	}
	return nil
}

func argCount(n [2]int) string {
	switch {
	case n[1] < 0:
		return fmt.Sprintf("%d or more", n[0])
	case n[0] == n[1]:
		return fmt.Sprint(n[0])
	}
	return fmt.Sprintf("%d to %d", n[0], n[1])
}

func (c *checker) expr(e Expr, agg bool) error {
	switch x := e.(type) {
	case *Ident:
		return nil
	case *Lit:
		switch x.Kind {
		case "datetime":
			if _, err := litValue(x); err != nil {
				return err
			}
		case "timespan", "dynamic":
			if _, err := litValue(x); err != nil {
				return err
			}
		}
		return nil
	case *Binary:
		if !supportedBinary[x.Op] {
			return refuse(x.Pos, "operator %s", x.Op)
		}
		if err := c.expr(x.L, false); err != nil {
			return err
		}
		if x.Op == "matches regex" {
			if _, ok := x.R.(*Lit); !ok {
				return refuse(x.Pos, "matches regex with a non-literal pattern")
			}
		}
		return c.expr(x.R, false)
	case *Unary:
		return c.expr(x.X, false)
	case *In:
		if x.Op != "in" && x.Op != "!in" && x.Op != "in~" && x.Op != "!in~" && x.Op != "has_any" && x.Op != "has_all" {
			return refuse(x.Pos, "operator %s", x.Op)
		}
		if err := c.expr(x.X, false); err != nil {
			return err
		}
		for _, l := range x.List {
			if t, ok := l.(*TabularExpr); ok {
				if err := c.tabular(t.Tabular); err != nil {
					return err
				}
				continue
			}
			if err := c.expr(l, false); err != nil {
				return err
			}
		}
		return nil
	case *Between:
		for _, y := range []Expr{x.X, x.Lo, x.Hi} {
			if err := c.expr(y, false); err != nil {
				return err
			}
		}
		return nil
	case *Call:
		return c.call(x, agg)
	case *Member:
		return c.expr(x.X, false)
	case *Index:
		if err := c.expr(x.X, false); err != nil {
			return err
		}
		return c.expr(x.Index, false)
	case *Star:
		return refuse(x.Pos, "* here")
	case *TabularExpr:
		return refuse(x.Pos, "tabular expression as a scalar")
	}
	return fmt.Errorf("unknown expression %T", e)
}

// canonicalTable returns the canonical spelling of a table name.
func canonicalTable(name string) string {
	for _, t := range TableNames {
		if strings.EqualFold(t, name) {
			return t
		}
	}
	return name
}

func supportedTables() []string {
	var out []string
	for _, t := range TableNames {
		if _, ok := Schemas[t]; ok {
			out = append(out, t)
		}
	}
	return out
}
