package rule

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// textPred tests the text of one value.
type textPred func(b []byte) bool

// valueText returns the text of a scalar value (strings unquoted once,
// numbers by their literal, booleans as true/false) and whether it has one.
func valueText(v *fastjson.Value, _ []byte) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return record.Unquote(b), true
	case fastjson.TypeNumber:
		// Only numbers need their literal written out (an allocation); the
		// common case, strings, reads the parser's bytes in place.
		return v.MarshalTo(nil), true
	case fastjson.TypeTrue:
		return []byte("true"), true
	case fastjson.TypeFalse:
		return []byte("false"), true
	}
	return nil, false
}

// anyText reports whether pred holds for v's text, for the text of any
// element when v is an array, or else for the compact JSON of an array or
// object (so that "contains" searches a complex value as Log Analytics
// searches a dynamic column, and '[]' equals an empty array).
func anyText(v *fastjson.Value, pred textPred) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, e := range a {
			if b, ok := valueText(e, nil); ok && pred(b) {
				return true
			}
		}
		return pred(v.MarshalTo(nil))
	case fastjson.TypeObject:
		return pred(v.MarshalTo(nil))
	}
	b, ok := valueText(v, nil)
	return ok && pred(b)
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFoldLower compares b with a lower-case needle, ignoring case.
func equalFoldLower(b []byte, lower string) bool {
	if len(b) != len(lower) {
		if isASCII(b) {
			return false
		}
		return bytes.EqualFold(b, []byte(lower))
	}
	for i := 0; i < len(b); i++ {
		if c := b[i]; c >= utf8.RuneSelf {
			return bytes.EqualFold(b, []byte(lower))
		} else if lowerASCII(c) != lower[i] {
			return false
		}
	}
	return true
}

// indexFoldLower finds a lower-case needle in b, ignoring case.
func indexFoldLower(b []byte, lower string) int {
	if len(lower) == 0 {
		return 0
	}
	if !isASCII(b) {
		return bytes.Index(bytes.ToLower(b), []byte(lower))
	}
	first := lower[0]
	for i := 0; i+len(lower) <= len(b); i++ {
		if lowerASCII(b[i]) != first {
			continue
		}
		j := 1
		for ; j < len(lower); j++ {
			if lowerASCII(b[i+j]) != lower[j] {
				break
			}
		}
		if j == len(lower) {
			return i
		}
	}
	return -1
}

// TextPredicate builds the test of one value for a text operator.
func TextPredicate(op Op, value string, cased bool) (func([]byte) bool, error) {
	p, err := textPredicate(op, value, cased)
	return p, err
}

func textPredicate(op Op, value string, cased bool) (textPred, error) {
	lower := strings.ToLower(value)
	switch op {
	case Equals:
		if cased {
			return func(b []byte) bool { return string(b) == value }, nil
		}
		return func(b []byte) bool { return equalFoldLower(b, lower) }, nil
	case Prefix:
		if cased {
			return func(b []byte) bool { return bytes.HasPrefix(b, []byte(value)) }, nil
		}
		return func(b []byte) bool {
			if isASCII(b) {
				return len(b) >= len(lower) && equalFoldLower(b[:len(lower)], lower)
			}
			return strings.HasPrefix(strings.ToLower(string(b)), lower)
		}, nil
	case Suffix:
		if cased {
			return func(b []byte) bool { return bytes.HasSuffix(b, []byte(value)) }, nil
		}
		return func(b []byte) bool {
			if isASCII(b) {
				return len(b) >= len(lower) && equalFoldLower(b[len(b)-len(lower):], lower)
			}
			return strings.HasSuffix(strings.ToLower(string(b)), lower)
		}, nil
	case Contains:
		if cased {
			return func(b []byte) bool { return bytes.Contains(b, []byte(value)) }, nil
		}
		return func(b []byte) bool { return indexFoldLower(b, lower) >= 0 }, nil
	case Regex:
		re, err := regexp.Compile(value)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %v", value, err)
		}
		return re.Match, nil
	case CIDR:
		pfx, err := netip.ParsePrefix(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("invalid CIDR block %q: %v", value, err)
		}
		pfx = pfx.Masked()
		return func(b []byte) bool {
			a, err := netip.ParseAddr(strings.TrimSpace(string(b)))
			if err != nil {
				return false
			}
			return pfx.Contains(a.Unmap()) || pfx.Contains(a)
		}, nil
	case Gt, Gte, Lt, Lte:
		x, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("%s needs a number, got %q", op, value)
		}
		return func(b []byte) bool {
			f, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
			if err != nil {
				return false
			}
			switch op {
			case Gt:
				return f > x
			case Gte:
				return f >= x
			case Lt:
				return f < x
			}
			return f <= x
		}, nil
	}
	return nil, fmt.Errorf("operator %s does not compare text", op)
}

func (c *Compiler) compileMatch(m Match, inScope bool) (scoped, error) {
	if m.Field == "" {
		return nil, fmt.Errorf("match without a field")
	}
	get := c.getter(m.Field, inScope)
	switch m.Op {
	case Empty:
		return func(r *record.Record, s *fastjson.Value) bool { return record.IsEmpty(get(r, s)) }, nil
	case False:
		return func(r *record.Record, s *fastjson.Value) bool { return record.IsFalse(get(r, s)) }, nil
	case True:
		return func(r *record.Record, s *fastjson.Value) bool { return record.IsTrue(get(r, s)) }, nil
	case Zero:
		return func(r *record.Record, s *fastjson.Value) bool { return record.IsZero(get(r, s)) }, nil
	case Exists:
		return func(r *record.Record, s *fastjson.Value) bool {
			v := get(r, s)
			return v != nil && v.Type() != fastjson.TypeNull
		}, nil
	case Null:
		return func(r *record.Record, s *fastjson.Value) bool {
			v := get(r, s)
			return v == nil || v.Type() == fastjson.TypeNull
		}, nil
	case FieldRef:
		if len(m.Values) == 0 {
			return nil, fmt.Errorf("fieldref on %s needs a field name", m.Field)
		}
		others := make([]func(*record.Record, *fastjson.Value) *fastjson.Value, len(m.Values))
		for i, n := range m.Values {
			others[i] = c.getter(n, inScope)
		}
		cased := m.Cased
		return func(r *record.Record, s *fastjson.Value) bool {
			v := get(r, s)
			if v == nil {
				return false
			}
			var sa, sb [32]byte
			a, ok := valueText(v, sa[:0])
			if !ok {
				return false
			}
			hit := 0
			for _, o := range others {
				ov := o(r, s)
				if ov == nil {
					continue
				}
				b, ok := valueText(ov, sb[:0])
				if ok && (cased && bytes.Equal(a, b) || !cased && bytes.EqualFold(a, b)) {
					hit++
				}
			}
			if m.All {
				return hit == len(others)
			}
			return hit > 0
		}, nil
	}
	if len(m.Values) == 0 {
		return nil, fmt.Errorf("%s on %s needs at least one value", m.Op, m.Field)
	}
	preds := make([]textPred, len(m.Values))
	for i, x := range m.Values {
		p, err := textPredicate(m.Op, x, m.Cased)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Field, err)
		}
		preds[i] = p
	}
	// Where the field's path crosses an array, every element is tried
	// (record.Each); the closures are built here, once.
	var f *record.Field
	if !inScope {
		f = c.Field(m.Field)
	}
	fanOut := make([]func(*fastjson.Value) bool, len(preds))
	for i, p := range preds {
		fanOut[i] = func(v *fastjson.Value) bool { return anyText(v, p) }
	}
	one := func(r *record.Record, s *fastjson.Value, i int) bool {
		if v := get(r, s); v != nil {
			return anyText(v, preds[i]) || anyHeldElement(r, v, preds[i])
		}
		return f != nil && r.Each(f, fanOut[i])
	}
	if m.All {
		return func(r *record.Record, s *fastjson.Value) bool {
			for i := range preds {
				if !one(r, s, i) {
					return false
				}
			}
			return true
		}, nil
	}
	if len(preds) == 1 {
		return func(r *record.Record, s *fastjson.Value) bool { return one(r, s, 0) }, nil
	}
	return func(r *record.Record, s *fastjson.Value) bool {
		for i := range preds {
			if one(r, s, i) {
				return true
			}
		}
		return false
	}, nil
}

// compileKeyword compiles a keyword search over every text value of the
// record.
func (c *Compiler) compileKeyword(k Keyword) (scoped, error) {
	if len(k.Values) == 0 {
		return nil, fmt.Errorf("keyword search without values")
	}
	preds := make([]textPred, len(k.Values))
	for i, x := range k.Values {
		p, err := textPredicate(k.Op, x, k.Cased)
		if err != nil {
			return nil, err
		}
		preds[i] = p
	}
	if k.All {
		return func(r *record.Record, _ *fastjson.Value) bool {
			for _, p := range preds {
				if !anyValue(r.Root, p, 0) {
					return false
				}
			}
			return true
		}, nil
	}
	// One walk of the record tries every value.
	pred := preds[0]
	if len(preds) > 1 {
		pred = func(b []byte) bool {
			for _, p := range preds {
				if p(b) {
					return true
				}
			}
			return false
		}
	}
	return func(r *record.Record, _ *fastjson.Value) bool { return anyValue(r.Root, pred, 0) }, nil
}

// anyHeldElement reports whether pred holds for an element of an array
// held as JSON text in a string (a Log Analytics dynamic column exported
// as text), so that the string column matches as the array itself does.
func anyHeldElement(r *record.Record, v *fastjson.Value, pred textPred) bool {
	if b := heldJSON(v); len(b) == 0 || b[0] != '[' {
		return false
	}
	for _, e := range r.Elements(v) {
		if b, ok := valueText(e, nil); ok && pred(b) {
			return true
		}
	}
	return false
}

// heldJSON returns the text of a string value that holds a JSON object or
// array, or nil.
func heldJSON(v *fastjson.Value) []byte {
	if v.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := v.StringBytes()
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	if len(b) < 2 || (b[0] != '{' && b[0] != '[') {
		return nil
	}
	return b
}

// heldParsers parse the JSON held in strings during keyword searches.
var heldParsers fastjson.ParserPool

// anyValue walks every scalar value of v, descending into objects, arrays
// and the JSON objects and arrays held in strings (the dynamic columns of
// Log Analytics exports), and reports whether pred holds for one. Keys are
// not searched, in either form.
func anyValue(v *fastjson.Value, pred textPred, depth int) bool {
	if v == nil || depth > 64 {
		return false
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		found := false
		o.Visit(func(_ []byte, x *fastjson.Value) {
			if !found && anyValue(x, pred, depth+1) {
				found = true
			}
		})
		return found
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, x := range a {
			if anyValue(x, pred, depth+1) {
				return true
			}
		}
		return false
	case fastjson.TypeString:
		if b := heldJSON(v); b != nil {
			p := heldParsers.Get()
			x, err := p.ParseBytes(b)
			found := err == nil && anyValue(x, pred, depth+1)
			heldParsers.Put(p)
			if err == nil {
				return found
			}
		}
	}
	b, ok := valueText(v, nil)
	return ok && pred(b)
}
