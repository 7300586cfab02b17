// Package rule is entrawatch's condition language: a closed AST of field
// tests, compiled once into matchers that evaluate a record without
// reflection or allocation. Built-in detections are written in it; Sigma
// rules compile to it.
package rule

import (
	"fmt"
	"strings"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// Expr is a node of the condition AST. The set of node types is closed.
type Expr interface{ isExpr() }

// And holds when every operand holds.
type And []Expr

// Or holds when any operand holds.
type Or []Expr

// Not holds when X does not.
type Not struct{ X Expr }

// Op is a field test.
type Op uint8

// Field tests. Text comparisons ignore ASCII case and one level of JSON
// quoting; numbers compare by their literal.
const (
	Equals   Op = iota + 1 // field equals one of Values
	Prefix                 // field starts with one of Values
	Contains               // field contains one of Values
	Empty                  // field is missing, null, "", [] or "[]"
	False                  // field is false or "false"
	True                   // field is true or "true"
	Zero                   // field is 0 or "0"
	Exists                 // field is present and not null
	Suffix                 // field ends with one of Values
	Regex                  // field matches one of Values (RE2 syntax, unanchored)
	CIDR                   // field is an IP address inside one of Values (CIDR blocks)
	Gt                     // field is a number greater than Values[0]
	Gte                    // field is a number at least Values[0]
	Lt                     // field is a number less than Values[0]
	Lte                    // field is a number at most Values[0]
	FieldRef               // field equals the value of one of the fields named in Values
	Null                   // field is missing or null
)

var opNames = map[Op]string{Equals: "equals", Prefix: "startswith", Contains: "contains", Empty: "empty", False: "false", True: "true", Zero: "zero", Exists: "exists",
	Suffix: "endswith", Regex: "re", CIDR: "cidr", Gt: "gt", Gte: "gte", Lt: "lt", Lte: "lte", FieldRef: "fieldref", Null: "null"}

func (o Op) String() string { return opNames[o] }

// Match tests one field. With All, every value must match (else any one).
// Cased makes text comparisons case-sensitive.
type Match struct {
	Field  string
	Op     Op
	Values []string
	All    bool
	Cased  bool
}

// Keyword holds when some text value anywhere in the record (or the raw
// record for line formats) matches the values: Sigma keyword searches.
type Keyword struct {
	Op     Op // Equals (the whole value), Contains, Prefix, Suffix or Regex
	Values []string
	All    bool
	Cased  bool
}

// Some holds when at least one element of the array Field satisfies Where;
// fields inside Where are relative to the element.
type Some struct {
	Field string
	Where Expr
}

func (And) isExpr()     {}
func (Or) isExpr()      {}
func (Not) isExpr()     {}
func (Match) isExpr()   {}
func (Some) isExpr()    {}
func (Keyword) isExpr() {}

// Const is an expression that always (or never) holds.
type Const bool

func (Const) isExpr() {}

// Eq is shorthand for an Equals match.
func Eq(field string, values ...string) Match { return Match{Field: field, Op: Equals, Values: values} }

// Matcher evaluates a compiled expression on a record.
type Matcher func(r *record.Record) bool

type scoped func(r *record.Record, scope *fastjson.Value) bool

// Compiler compiles expressions, sharing compiled fields between all the
// rules it compiles so that a record resolves each field once, and their
// case-insensitive Equals values, so that a record looks a field's value
// up once for all of them (literals.go).
type Compiler struct {
	fields map[string]*record.Field
	rels   map[string]*record.Rel
	// literals are the Equals values of every rule, per field
	// (literals.go).
	literals map[*record.Field]*literalSet
}

// NewCompiler returns an empty Compiler.
func NewCompiler() *Compiler {
	return &Compiler{fields: map[string]*record.Field{}, rels: map[string]*record.Rel{}, literals: map[*record.Field]*literalSet{}}
}

// Field returns the shared compiled form of a record field.
func (c *Compiler) Field(name string) *record.Field {
	k := strings.ToLower(name)
	if f, ok := c.fields[k]; ok {
		return f
	}
	f := record.CompileField(name)
	c.fields[k] = f
	return f
}

func (c *Compiler) rel(name string) *record.Rel {
	k := strings.ToLower(name)
	if f, ok := c.rels[k]; ok {
		return f
	}
	f := record.CompileRel(name)
	c.rels[k] = f
	return f
}

// Compile compiles e into a Matcher.
func (c *Compiler) Compile(e Expr) (Matcher, error) {
	m, err := c.compile(e, false)
	if err != nil {
		return nil, err
	}
	return func(r *record.Record) bool { return m(r, nil) }, nil
}

func (c *Compiler) compile(e Expr, inScope bool) (scoped, error) {
	switch e := e.(type) {
	case And:
		ms, err := c.compileAll(e, inScope)
		if err != nil {
			return nil, err
		}
		return func(r *record.Record, s *fastjson.Value) bool {
			for _, m := range ms {
				if !m(r, s) {
					return false
				}
			}
			return true
		}, nil
	case Or:
		ms, err := c.compileAll(e, inScope)
		if err != nil {
			return nil, err
		}
		return func(r *record.Record, s *fastjson.Value) bool {
			for _, m := range ms {
				if m(r, s) {
					return true
				}
			}
			return false
		}, nil
	case Not:
		m, err := c.compile(e.X, inScope)
		if err != nil {
			return nil, err
		}
		return func(r *record.Record, s *fastjson.Value) bool { return !m(r, s) }, nil
	case Match:
		return c.compileMatch(e, inScope)
	case Const:
		v := bool(e)
		return func(*record.Record, *fastjson.Value) bool { return v }, nil
	case Keyword:
		return c.compileKeyword(e)
	case Some:
		get := c.getter(e.Field, inScope)
		m, err := c.compile(e.Where, true)
		if err != nil {
			return nil, err
		}
		return func(r *record.Record, s *fastjson.Value) bool {
			for _, el := range r.Elements(get(r, s)) {
				if m(r, el) {
					return true
				}
			}
			return false
		}, nil
	case nil:
		return nil, fmt.Errorf("empty expression")
	}
	return nil, fmt.Errorf("unknown expression %T", e)
}

func (c *Compiler) compileAll(es []Expr, inScope bool) ([]scoped, error) {
	ms := make([]scoped, len(es))
	for i, e := range es {
		m, err := c.compile(e, inScope)
		if err != nil {
			return nil, err
		}
		ms[i] = m
	}
	return ms, nil
}

func (c *Compiler) getter(name string, inScope bool) func(*record.Record, *fastjson.Value) *fastjson.Value {
	if inScope {
		rel := c.rel(name)
		return func(r *record.Record, s *fastjson.Value) *fastjson.Value { return r.GetFrom(s, rel) }
	}
	f := c.Field(name)
	return func(r *record.Record, _ *fastjson.Value) *fastjson.Value { return r.Get(f) }
}
