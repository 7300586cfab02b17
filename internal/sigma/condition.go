package sigma

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
)

// Cond is a node of a parsed Sigma condition. The set is closed: CondAnd,
// CondOr, CondNot, CondRef and CondOf.
type Cond interface{ cond() }

// CondAnd holds when both sides hold.
type CondAnd struct{ L, R Cond }

// CondOr holds when either side holds.
type CondOr struct{ L, R Cond }

// CondNot holds when X does not.
type CondNot struct{ X Cond }

// CondRef names one search identifier.
type CondRef struct {
	Name string
	Pos  int // 1-based column in the condition
}

// CondOf is "1 of PATTERN", "all of them", "N of selection_*".
type CondOf struct {
	// N is the count needed; 0 means all.
	N int
	// Pattern is a search-identifier pattern with * wildcards; "them"
	// means every identifier not starting with "_".
	Pattern string
	Pos     int
}

func (CondAnd) cond() {}
func (CondOr) cond()  {}
func (CondNot) cond() {}
func (CondRef) cond() {}
func (CondOf) cond()  {}

type token struct {
	text string
	pos  int
}

func lexCondition(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{string(c), i + 1})
			i++
		case c == '|':
			return nil, fmt.Errorf("column %d: the pipe (aggregation) syntax of Sigma v1 was replaced by correlation rules in Sigma 2", i+1)
		default:
			j := i
			for j < len(s) {
				r := rune(s[j])
				if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '(' || r == ')' || r == '|' {
					break
				}
				if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '*' || r == '.' || r >= 0x80) {
					return nil, fmt.Errorf("column %d: unexpected character %q", j+1, r)
				}
				j++
			}
			toks = append(toks, token{s[i:j], i + 1})
			i = j
		}
	}
	return toks, nil
}

type condParser struct {
	toks []token
	i    int
}

// ParseCondition parses a Sigma condition expression.
func ParseCondition(s string) (Cond, error) {
	toks, err := lexCondition(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty condition")
	}
	p := &condParser{toks: toks}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		return nil, fmt.Errorf("column %d: unexpected %q", t.pos, t.text)
	}
	return c, nil
}

func (p *condParser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *condParser) is(word string) bool {
	t, ok := p.peek()
	return ok && strings.EqualFold(t.text, word)
}

func (p *condParser) or() (Cond, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.is("or") {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = CondOr{l, r}
	}
	return l, nil
}

func (p *condParser) and() (Cond, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.is("and") {
		p.i++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = CondAnd{l, r}
	}
	return l, nil
}

func (p *condParser) not() (Cond, error) {
	if p.is("not") {
		p.i++
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return CondNot{x}, nil
	}
	return p.primary()
}

var reserved = map[string]bool{"and": true, "or": true, "not": true, "of": true}

func (p *condParser) primary() (Cond, error) {
	t, ok := p.peek()
	if !ok {
		end := 1
		if len(p.toks) > 0 {
			last := p.toks[len(p.toks)-1]
			end = last.pos + len(last.text)
		}
		return nil, fmt.Errorf("column %d: condition ends where an identifier or '(' was expected", end)
	}
	switch {
	case t.text == "(":
		p.i++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.is(")") {
			return nil, fmt.Errorf("column %d: missing ')'", t.pos)
		}
		p.i++
		return c, nil
	case t.text == ")":
		return nil, fmt.Errorf("column %d: unexpected ')'", t.pos)
	}
	// Quantifier: "1 of x", "all of x", "any of x", "N of x".
	if p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1].text, "of") {
		n := -1
		switch strings.ToLower(t.text) {
		case "all":
			n = 0
		case "any":
			n = 1
		default:
			if v, err := strconv.Atoi(t.text); err == nil && v > 0 {
				n = v
			}
		}
		if n < 0 {
			return nil, fmt.Errorf("column %d: %q before \"of\" is not a count (1, 2…, any or all)", t.pos, t.text)
		}
		p.i += 2
		target, ok := p.peek()
		if !ok || target.text == "(" || target.text == ")" || reserved[strings.ToLower(target.text)] {
			return nil, fmt.Errorf("column %d: \"of\" needs \"them\" or an identifier pattern", t.pos)
		}
		p.i++
		return CondOf{N: n, Pattern: target.text, Pos: t.pos}, nil
	}
	if reserved[strings.ToLower(t.text)] {
		return nil, fmt.Errorf("column %d: unexpected %q", t.pos, t.text)
	}
	if strings.Contains(t.text, "*") {
		return nil, fmt.Errorf("column %d: a pattern such as %q needs a quantifier (\"1 of %s\" or \"all of %s\")", t.pos, t.text, t.text, t.text)
	}
	p.i++
	return CondRef{Name: t.text, Pos: t.pos}, nil
}

// matchPattern matches a search identifier against a condition pattern.
func matchPattern(pattern, name string) bool {
	if pattern == "them" {
		return !strings.HasPrefix(name, "_")
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}
