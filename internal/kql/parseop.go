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
	re, err := ev.regex(parsePattern(o), o.Pos)
	if err != nil {
		return nil, err
	}
	var cols []ParsePart
	for _, p := range o.Parts {
		if p.IsCol && p.Column != "" {
			cols = append(cols, p)
		}
	}
	vals := make([][]Value, len(cols))
	for i := range vals {
		vals[i] = make([]Value, len(t.Rows))
	}
	for ri, r := range t.Rows {
		v, err := ev.eval(o.Expr, &row{t, r})
		if err != nil {
			return nil, err
		}
		m := re.FindStringSubmatch(v.Text())
		got := make([]Value, len(cols))
		ok := m != nil && !v.IsNull()
		for i, c := range cols {
			if !ok {
				break
			}
			got[i] = parseValue(m[i+1], c.Type)
			ok = !got[i].IsNull() || o.Kind == "relaxed"
		}
		for i, c := range cols {
			switch {
			case ok && (!got[i].IsNull() || c.Type != "string"):
				vals[i][ri] = got[i]
			case c.Type == "string":
				vals[i][ri] = Str("")
			}
		}
	}
	for i, c := range cols {
		t = setColumn(t, c.Column, vals[i])
		t.Columns[t.index(c.Column)].Type = canonicalType(c.Type)
	}
	return t, nil
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
