package kql

import (
	"regexp"
	"strings"
)

// parseTypes are the column types parse extracts, with the regular
// expression a value of the type must match in the text.
var parseTypes = map[string]string{
	"string": `(.*?)`, "long": `(-?\d+)`, "int": `(-?\d+)`,
	"real": `(-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|-?\.\d+(?:[eE][+-]?\d+)?)`, "double": `(-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|-?\.\d+(?:[eE][+-]?\d+)?)`,
	"bool": `((?i:true|false))`, "boolean": `((?i:true|false))`,
	"datetime": `(.*?)`, "date": `(.*?)`, "timespan": `(.*?)`, "time": `(.*?)`, "dynamic": `(.*?)`,
}

// parsePattern builds the regular expression of a parse operator: the
// whole text must match; literals are quoted (kind=regex: taken as
// regular expressions), * is .*? and a column its type's expression.
func parsePattern(o *ParseOp) string {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, p := range o.Parts {
		switch {
		case !p.IsCol && o.Kind == "regex":
			b.WriteString("(?:" + p.Literal + ")")
		case !p.IsCol:
			b.WriteString(regexp.QuoteMeta(p.Literal))
		case p.Column == "":
			b.WriteString(`.*?`)
		case o.Kind == "relaxed":
			b.WriteString(`(.*?)`)
		default:
			b.WriteString(parseTypes[p.Type])
		}
	}
	b.WriteString(`)$`)
	return b.String()
}

// parseText runs the parse operator: the parsed columns are appended (or
// replace columns of the same name); a text that does not match the
// pattern, or a value that does not convert to its column's type, gives
// "" for string columns and null for the others, in every parsed column
// (kind=relaxed: a value that does not convert is null in its column only,
// every column capturing text as a string column does).
func (ev *evaluator) parseText(o *ParseOp, t *Table) (*Table, error) {
	p, err := ev.newParser(o)
	if err != nil {
		return nil, err
	}
	vals := make([][]Value, len(p.cols))
	for i := range vals {
		vals[i] = make([]Value, len(t.Rows))
	}
	got := make([]Value, len(p.cols))
	for ri, r := range t.Rows {
		v, err := ev.eval(o.Expr, &row{t: t, vals: r})
		if err != nil {
			return nil, err
		}
		p.parse(v, got)
		for i := range got {
			vals[i][ri] = got[i]
		}
	}
	for i, c := range p.cols {
		t = setColumn(t, c.Column, vals[i])
		t.Columns[t.index(c.Column)].Type = canonicalType(c.Type)
	}
	return t, nil
}

// textParser is a parse operator prepared: its pattern and columns.
type textParser struct {
	o    *ParseOp
	re   *regexp.Regexp
	cols []ParsePart
}

func (ev *evaluator) newParser(o *ParseOp) (*textParser, error) {
	re, err := ev.regex(parsePattern(o), o.Pos)
	if err != nil {
		return nil, err
	}
	p := &textParser{o: o, re: re}
	for _, part := range o.Parts {
		if part.IsCol && part.Column != "" {
			p.cols = append(p.cols, part)
		}
	}
	return p, nil
}

// parse fills out (one value per parsed column) from the text v.
func (p *textParser) parse(v Value, out []Value) {
	m := p.re.FindStringSubmatch(v.Text())
	got := out
	clear(got)
	ok := m != nil && !v.IsNull()
	parsed := make([]Value, len(p.cols))
	for i, c := range p.cols {
		if !ok {
			break
		}
		parsed[i] = parseValue(m[i+1], c.Type)
		ok = !parsed[i].IsNull() || p.o.Kind == "relaxed"
	}
	for i, c := range p.cols {
		switch {
		case ok && (!parsed[i].IsNull() || c.Type != "string"):
			got[i] = parsed[i]
		case c.Type == "string":
			got[i] = Str("")
		}
	}
}

func parseValue(s, typ string) Value {
	switch typ {
	case "string":
		return Str(s)
	case "dynamic":
		return ParseDynamic(s)
	case "bool", "boolean":
		return Bool(strings.EqualFold(s, "true"))
	case "timespan", "time":
		if d, ok := parseTimespanLit(s); ok {
			return Timespan(d)
		}
		return Null
	case "real", "double":
		return convertString(s, "real")
	}
	return convertString(s, typ)
}

func canonicalType(t string) string {
	switch t {
	case "int":
		return "int"
	case "double":
		return "real"
	case "boolean":
		return "bool"
	case "date":
		return "datetime"
	case "time":
		return "timespan"
	}
	return t
}
