package rule

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// textPred tests the text of one value.
type textPred func(b []byte) bool

// eachText calls fn with every text a rule compares for v, until fn
// returns true, and reports whether it did: a scalar's text; each scalar
// element of an array, then the array's compact JSON (so that "contains"
// searches a complex value as Log Analytics searches a dynamic column,
// and '[]' equals an empty array); an object's compact JSON; and, for a
// string holding a JSON array (a Log Analytics dynamic column exported as
// text), the string and then each element of the array it holds. Numbers
// compare by their literal, booleans as true/false. The texts are written
// out once per record (Record.ScalarText, Record.CompactJSON): nothing is
// allocated.
func eachText(r *record.Record, v *fastjson.Value, fn func(b []byte) bool) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, e := range a {
			if b, ok := r.ScalarText(e); ok && fn(b) {
				return true
			}
		}
		return fn(r.CompactJSON(v))
	case fastjson.TypeObject:
		return fn(r.CompactJSON(v))
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if fn(record.Unquote(b)) {
			return true
		}
		if h := heldJSON(v); len(h) > 0 && h[0] == '[' {
			for _, e := range r.Elements(v) {
				if b, ok := r.ScalarText(e); ok && fn(b) {
					return true
				}
			}
		}
		return false
	}
	b, ok := r.ScalarText(v)
	return ok && fn(b)
}

// anyText reports whether pred holds for v's text, for the text of any
// element when v is an array, or else for the compact JSON of an array or
// object (eachText without the elements of arrays held in strings: the
// test applied to each value a path crossing arrays reaches).
func anyText(r *record.Record, v *fastjson.Value, pred textPred) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeArray, fastjson.TypeObject:
		return eachText(r, v, pred)
	}
	b, ok := r.ScalarText(v)
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

// indexFoldLower finds a lower-case needle in b, ignoring case. Candidate
// positions are found with bytes.IndexByte on the needle's first letter in
// either case.
func indexFoldLower(b []byte, lower string) int {
	if len(lower) == 0 {
		return 0
	}
	if !isASCII(b) {
		return bytes.Index(bytes.ToLower(b), []byte(lower))
	}
	first := lower[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper = first - ('a' - 'A')
	}
	last := len(b) - len(lower) // last possible start
	for i := 0; i <= last; i++ {
		j := indexEither(b[i:last+1], first, upper)
		if j < 0 {
			return -1
		}
		i += j
		k := 1
		for ; k < len(lower); k++ {
			if lowerASCII(b[i+k]) != lower[k] {
				break
			}
		}
		if k == len(lower) {
			return i
		}
	}
	return -1
}

// indexEither returns the index of the first byte of b equal to x or y.
func indexEither(b []byte, x, y byte) int {
	i := bytes.IndexByte(b, x)
	if x == y {
		return i
	}
	if i >= 0 {
		b = b[:i]
	}
	if j := bytes.IndexByte(b, y); j >= 0 {
		return j
	}
	return i
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
			a, ok := r.ScalarText(v)
			if !ok {
				return false
			}
			hit := 0
			for _, o := range others {
				ov := o(r, s)
				if ov == nil {
					continue
				}
				b, ok := r.ScalarText(ov)
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
	var f *record.Field
	if !inScope {
		f = c.Field(m.Field)
	}
	all := m.All
	// through tests the field when its path crosses an array and Get
	// finds nothing: every value the path reaches through every element
	// (record.Each), each on its own.
	through := func(r *record.Record) bool {
		if f == nil {
			return false
		}
		for _, p := range preds {
			hit := r.Each(f, func(v *fastjson.Value) bool { return anyText(r, v, p) })
			if hit != all {
				return hit
			}
		}
		return all
	}
	if m.Op == Equals && !m.Cased && f != nil {
		// Every Equals value of every rule on this field goes into one
		// set: a record looks its value up once for the whole rule set.
		set := c.literalSet(f)
		set.users++
		ids := make([]uint32, 0, len(m.Values))
		for _, x := range m.Values {
			ids = append(ids, set.add(x))
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		own := textTest(preds, all, get, through)
		return func(r *record.Record, s *fastjson.Value) bool {
			if set.users == 1 {
				return own(r, s) // no other rule tests these values
			}
			v, hits := set.hits(r, f)
			if v == nil {
				return through(r)
			}
			if all {
				for _, id := range ids {
					if !slices.Contains(hits, id) {
						return false
					}
				}
				return true
			}
			for _, h := range hits {
				if _, found := slices.BinarySearch(ids, h); found {
					return true
				}
			}
			return false
		}, nil
	}
	return textTest(preds, all, get, through), nil
}

// textTest returns the test of a field's texts against a match's values:
// it resolves the value and writes out its texts once per evaluation, then
// tries every value of the match on them.
func textTest(preds []textPred, all bool, get func(*record.Record, *fastjson.Value) *fastjson.Value, through func(*record.Record) bool) scoped {
	if all && len(preds) <= 64 {
		full := uint64(1)<<len(preds) - 1
		if len(preds) == 64 {
			full = ^uint64(0)
		}
		return func(r *record.Record, s *fastjson.Value) bool {
			v := get(r, s)
			if v == nil {
				return through(r)
			}
			var held uint64
			eachText(r, v, func(b []byte) bool {
				for i, p := range preds {
					if held&(1<<i) == 0 && p(b) {
						held |= 1 << i
					}
				}
				return held == full
			})
			return held == full
		}
	}
	if all {
		return func(r *record.Record, s *fastjson.Value) bool {
			v := get(r, s)
			if v == nil {
				return through(r)
			}
			for _, p := range preds {
				if !eachText(r, v, p) {
					return false
				}
			}
			return true
		}
	}
	if len(preds) == 1 {
		p := preds[0]
		return func(r *record.Record, s *fastjson.Value) bool {
			v := get(r, s)
			if v == nil {
				return through(r)
			}
			return eachText(r, v, p)
		}
	}
	return func(r *record.Record, s *fastjson.Value) bool {
		v := get(r, s)
		if v == nil {
			return through(r)
		}
		return eachText(r, v, func(b []byte) bool {
			for _, p := range preds {
				if p(b) {
					return true
				}
			}
			return false
		})
	}
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
				if !anyValue(r, r.Root, p, 0) {
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
	return func(r *record.Record, _ *fastjson.Value) bool { return anyValue(r, r.Root, pred, 0) }, nil
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
func anyValue(r *record.Record, v *fastjson.Value, pred textPred, depth int) bool {
	if v == nil || depth > 64 {
		return false
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		found := false
		o.Visit(func(_ []byte, x *fastjson.Value) {
			if !found && anyValue(r, x, pred, depth+1) {
				found = true
			}
		})
		return found
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, x := range a {
			if anyValue(r, x, pred, depth+1) {
				return true
			}
		}
		return false
	case fastjson.TypeString:
		if b := heldJSON(v); b != nil {
			p := heldParsers.Get()
			x, err := p.ParseBytes(b)
			found := err == nil && anyValue(r, x, pred, depth+1)
			heldParsers.Put(p)
			if err == nil {
				return found
			}
		}
	}
	b, ok := r.ScalarText(v)
	return ok && pred(b)
}
