package kql

// The AST is closed: every node type is listed here and implements the
// marker method of its family, so that an evaluator's type switches are
// exhaustive.

// Query is a whole query: let statements and a tabular expression.
type Query struct {
	Lets []*Let
	Body Tabular
}

// Let binds a name to a scalar, a tabular expression or a function.
type Let struct {
	Pos  Pos
	Name string
	// Exactly one of Scalar, Tabular and Func is set.
	Scalar  Expr
	Tabular Tabular
	Func    *Func
}

// Func is a user-defined function: let f = (a:string, b:int = 1) { … }.
type Func struct {
	Params []Param
	Lets   []*Let
	// Exactly one of Scalar and Tabular is set.
	Scalar  Expr
	Tabular Tabular
}

// Param is a function parameter.
type Param struct {
	Name, Type string
	Default    Expr
	// Tabular is set for a tabular parameter (T:(*)).
	Tabular bool
}

// Tabular is a tabular expression: a source and the operators piped after it.
type Tabular struct {
	Pos    Pos
	Source Source
	Ops    []Operator
}

// Source is where rows come from.
type Source interface{ source() }

// TableRef names a table, a tabular let or a function returning a table.
type TableRef struct {
	Pos  Pos
	Name string
	// Args is set when the name is called: f(x).
	Args []Expr
	Call bool
}

// Union is union [kind=…] [isfuzzy=true] T1, (T2 | …), ….
type Union struct {
	Pos     Pos
	IsFuzzy bool
	Kind    string
	Tables  []Tabular
}

// Datatable is datatable(col:type, …) [values].
type Datatable struct {
	Pos     Pos
	Columns []Param
	Values  []Expr
}

// Subquery is a parenthesised tabular expression used as a source.
type Subquery struct{ Tabular Tabular }

func (*TableRef) source()  {}
func (*Union) source()     {}
func (*Datatable) source() {}
func (*Subquery) source()  {}

// Operator is one tabular operator after a pipe.
type Operator interface{ operator() }

// Where filters rows.
type Where struct {
	Pos  Pos
	Pred Expr
}

// Assign is "name = expr", or a bare expr (its column name derived).
type Assign struct {
	Pos  Pos
	Name string   // "" when not given
	Tup  []string // (a, b) = … for functions returning several columns
	Expr Expr
}

// Extend adds columns.
type Extend struct {
	Pos     Pos
	Columns []Assign
}

// Project keeps, renames or computes columns.
type Project struct {
	Pos     Pos
	Columns []Assign
}

// ProjectAway drops columns (names may have * wildcards).
type ProjectAway struct {
	Pos   Pos
	Names []string
}

// ProjectKeep keeps columns (names may have * wildcards).
type ProjectKeep struct {
	Pos   Pos
	Names []string
}

// ProjectRename renames columns: new = old.
type ProjectRename struct {
	Pos   Pos
	Pairs [][2]string
}

// ProjectReorder moves columns first.
type ProjectReorder struct {
	Pos   Pos
	Names []string
}

// Summarize aggregates.
type Summarize struct {
	Pos  Pos
	Aggs []Assign
	By   []Assign
}

// SortKey is one key of order by / top.
type SortKey struct {
	Expr       Expr
	Asc        bool
	NullsFirst bool
	NullsSet   bool
}

// Sort is order by / sort by.
type Sort struct {
	Pos  Pos
	Keys []SortKey
}

// Top is top N by key.
type Top struct {
	Pos Pos
	N   Expr
	Key SortKey
}

// Take is take/limit N.
type Take struct {
	Pos Pos
	N   Expr
}

// Distinct keeps distinct rows of the columns.
type Distinct struct {
	Pos     Pos
	Columns []Expr
	All     bool // distinct *
}

// Count replaces the rows by their count.
type Count struct{ Pos Pos }

// Join joins with a right-hand table.
type Join struct {
	Pos   Pos
	Kind  string // innerunique (default), inner, leftouter, …
	Right Tabular
	// On holds "col" (same name on both sides) or $left.a == $right.b pairs.
	On []JoinKey
}

// JoinKey is one equality of a join.
type JoinKey struct{ Left, Right string }

// MvExpand expands dynamic arrays into rows.
type MvExpand struct {
	Pos     Pos
	Columns []MvColumn
	Limit   Expr
}

// MvColumn is one expanded column: [name =] expr [to typeof(t)].
type MvColumn struct {
	Name string
	Expr Expr
	Type string
}

// MvApply runs a subquery per row over expanded arrays.
type MvApply struct {
	Pos     Pos
	Columns []MvColumn
	Body    Tabular // the subquery, whose Source is the per-row table
}

// ParseOp extracts columns from a string by a pattern.
type ParseOp struct {
	Pos   Pos
	Expr  Expr
	Kind  string // "", "simple", "regex", "relaxed"
	Parts []ParsePart
}

// ParsePart is a literal or a column to capture.
type ParsePart struct {
	Literal string
	Column  string
	Type    string
	IsCol   bool
}

// UnionOp is "| union T2, …".
type UnionOp struct {
	Pos   Pos
	Union *Union
}

// Invoke is "| invoke f(…)".
type Invoke struct {
	Pos  Pos
	Call *Call
}

func (*Where) operator()          {}
func (*Extend) operator()         {}
func (*Project) operator()        {}
func (*ProjectAway) operator()    {}
func (*ProjectKeep) operator()    {}
func (*ProjectRename) operator()  {}
func (*ProjectReorder) operator() {}
func (*Summarize) operator()      {}
func (*Sort) operator()           {}
func (*Top) operator()            {}
func (*Take) operator()           {}
func (*Distinct) operator()       {}
func (*Count) operator()          {}
func (*Join) operator()           {}
func (*MvExpand) operator()       {}
func (*MvApply) operator()        {}
func (*ParseOp) operator()        {}
func (*UnionOp) operator()        {}
func (*Invoke) operator()         {}

// Expr is a scalar expression.
type Expr interface {
	expr()
	Position() Pos
}

// Ident names a column, a scalar let or a parameter.
type Ident struct {
	Pos  Pos
	Name string
}

// Lit is a literal value.
type Lit struct {
	Pos Pos
	// Kind is "string", "long", "real", "bool", "datetime", "timespan",
	// "dynamic", "guid" or "null".
	Kind string
	// Text is the literal's text (for dynamic, its JSON).
	Text string
}

// Binary is a binary operator: arithmetic, comparison, string operators
// (has, contains, startswith… and their negations and _cs forms),
// matches regex, and, or.
type Binary struct {
	Pos  Pos
	Op   string
	L, R Expr
}

// Unary is -x or +x.
type Unary struct {
	Pos Pos
	Op  string
	X   Expr
}

// In is x in (…), !in, in~, !in~, has_any, has_all.
type In struct {
	Pos  Pos
	Op   string
	X    Expr
	List []Expr
}

// Between is x between (a .. b), or !between.
type Between struct {
	Pos    Pos
	Not    bool
	X      Expr
	Lo, Hi Expr
}

// Call is a function call.
type Call struct {
	Pos  Pos
	Name string
	Args []Expr
}

// Member is x.name or x["name"].
type Member struct {
	Pos  Pos
	X    Expr
	Name string
}

// Index is x[i].
type Index struct {
	Pos   Pos
	X     Expr
	Index Expr
}

// Star is * in count(*)-like positions or in project.
type Star struct{ Pos Pos }

// TabularExpr wraps a tabular expression used as a scalar argument
// (toscalar(T | …), x in (T | project y)).
type TabularExpr struct {
	Pos     Pos
	Tabular Tabular
}

func (*Ident) expr()       {}
func (*Lit) expr()         {}
func (*Binary) expr()      {}
func (*Unary) expr()       {}
func (*In) expr()          {}
func (*Between) expr()     {}
func (*Call) expr()        {}
func (*Member) expr()      {}
func (*Index) expr()       {}
func (*Star) expr()        {}
func (*TabularExpr) expr() {}

// Position returns the node's position.
func (e *Ident) Position() Pos       { return e.Pos }
func (e *Lit) Position() Pos         { return e.Pos }
func (e *Binary) Position() Pos      { return e.Pos }
func (e *Unary) Position() Pos       { return e.Pos }
func (e *In) Position() Pos          { return e.Pos }
func (e *Between) Position() Pos     { return e.Pos }
func (e *Call) Position() Pos        { return e.Pos }
func (e *Member) Position() Pos      { return e.Pos }
func (e *Index) Position() Pos       { return e.Pos }
func (e *Star) Position() Pos        { return e.Pos }
func (e *TabularExpr) Position() Pos { return e.Pos }
