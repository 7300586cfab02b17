package kql

import (
	"fmt"
	"maps"
	"strings"
)

// tabBinding is a tabular let or parameter: its expression and the names
// it sees (those defined before it: lets are scoped lexically, so a let
// never sees itself or a later one), or its table once evaluated.
type tabBinding struct {
	t     Tabular
	env   *evaluator
	table *Table
	busy  bool
}

func (b *tabBinding) get() (*Table, error) {
	if b.table != nil {
		return b.table, nil
	}
	if b.busy {
		return nil, &Error{b.t.Pos, "a tabular let refers to itself"}
	}
	b.busy = true
	t, err := b.env.tabular(b.t)
	b.busy = false
	if err != nil {
		return nil, err
	}
	b.table = t
	return t, nil
}

// funcBinding is a user-defined function and the names it sees: those
// defined before it.
type funcBinding struct {
	f   *Func
	env *evaluator
}

// bindLets evaluates scalar lets and records tabular lets and functions,
// in order (a later let shadows an earlier one).
func (ev *evaluator) bindLets(lets []*Let) error {
	for _, l := range lets {
		env := ev.child()
		delete(ev.lets, l.Name)
		delete(ev.tabLets, l.Name)
		delete(ev.funcs, strings.ToLower(l.Name))
		switch {
		case l.Func != nil:
			ev.funcs[strings.ToLower(l.Name)] = &funcBinding{l.Func, env}
		case l.Scalar != nil:
			v, err := env.eval(l.Scalar, nil)
			if err != nil {
				return err
			}
			ev.lets[l.Name] = v
		default:
			ev.tabLets[l.Name] = &tabBinding{t: l.Tabular, env: env}
		}
	}
	return nil
}

// child returns an evaluator with the same names, whose later bindings do
// not change ev's.
func (ev *evaluator) child() *evaluator {
	c := *ev
	c.lets = maps.Clone(ev.lets)
	c.tabLets = maps.Clone(ev.tabLets)
	c.funcs = maps.Clone(ev.funcs)
	c.subs = nil
	return &c
}

// tabArg evaluates a tabular argument: (T | …) or the name of a tabular
// let or parameter.
func (ev *evaluator) tabArg(e Expr, r *row) (*Table, error) {
	switch x := e.(type) {
	case *TabularExpr:
		return ev.subquery(x)
	case *Ident:
		if r == nil || r.t.index(x.Name) < 0 {
			if _, ok := ev.tabLets[x.Name]; ok {
				return ev.source(&TableRef{Pos: x.Pos, Name: x.Name})
			}
			if isTable(x.Name) {
				return ev.source(&TableRef{Pos: x.Pos, Name: x.Name})
			}
		}
	}
	return nil, &Error{e.Position(), "expected a tabular expression"}
}

// bind evaluates a call's arguments into a child evaluator; first, when
// set, is the table piped into invoke.
func (ev *evaluator) bind(name string, fb *funcBinding, args []Expr, first *Table, p Pos, r *row) (*evaluator, error) {
	f := fb.f
	c := fb.env.child()
	ai := 0
	for i, prm := range f.Params {
		if i == 0 && first != nil {
			if !prm.Tabular {
				return nil, &Error{p, fmt.Sprintf("invoke %s(): the first parameter is not tabular", name)}
			}
			c.tabLets[prm.Name] = &tabBinding{table: first}
			delete(c.lets, prm.Name)
			continue
		}
		if ai >= len(args) {
			if prm.Default == nil {
				return nil, &Error{p, fmt.Sprintf("%s(): missing argument %s", name, prm.Name)}
			}
			v, err := fb.env.eval(prm.Default, nil)
			if err != nil {
				return nil, err
			}
			delete(c.tabLets, prm.Name)
			c.lets[prm.Name] = castParam(v, prm.Type)
			continue
		}
		a := args[ai]
		ai++
		if prm.Tabular {
			t, err := ev.tabArg(a, r)
			if err != nil {
				return nil, err
			}
			c.tabLets[prm.Name] = &tabBinding{table: t}
			delete(c.lets, prm.Name)
			continue
		}
		v, err := ev.eval(a, r)
		if err != nil {
			return nil, err
		}
		delete(c.tabLets, prm.Name)
		c.lets[prm.Name] = castParam(v, prm.Type)
	}
	if ai < len(args) {
		return nil, &Error{p, fmt.Sprintf("%s() takes %d arguments, not %d", name, len(f.Params), len(args))}
	}
	if err := c.bindLets(f.Lets); err != nil {
		return nil, err
	}
	return c, nil
}

// castParam converts an argument to its declared scalar type where Kusto
// would (long to real, string to datetime…), else keeps it.
func castParam(v Value, typ string) Value {
	if typ == "" || typ == "dynamic" || v.IsNull() {
		return v
	}
	if c := castTo(v, typ); !c.IsNull() {
		return c
	}
	return v
}

func (ev *evaluator) callScalar(x *Call, fb *funcBinding, r *row) (Value, error) {
	if fb.f.Scalar == nil {
		return Null, &Error{x.Pos, fmt.Sprintf("%s() returns a table, not a scalar", x.Name)}
	}
	c, err := ev.bind(x.Name, fb, x.Args, nil, x.Pos, r)
	if err != nil {
		return Null, err
	}
	return c.eval(fb.f.Scalar, nil)
}

func (ev *evaluator) callTabular(name string, args []Expr, first *Table, p Pos) (*Table, error) {
	fb := ev.funcs[strings.ToLower(name)]
	if fb == nil || fb.f.Tabular.Source == nil {
		return nil, &Error{p, fmt.Sprintf("%s() is not a tabular function", name)}
	}
	c, err := ev.bind(name, fb, args, first, p, nil)
	if err != nil {
		return nil, err
	}
	return c.tabular(fb.f.Tabular)
}

// subquery evaluates (T | …) in an expression once per evaluator.
func (ev *evaluator) subquery(x *TabularExpr) (*Table, error) {
	if t, ok := ev.subs[x]; ok {
		return t, nil
	}
	t, err := ev.tabular(x.Tabular)
	if err != nil {
		return nil, err
	}
	if ev.subs == nil {
		ev.subs = map[*TabularExpr]*Table{}
	}
	ev.subs[x] = t
	return t, nil
}
