package record

import (
	"bytes"
	"strconv"

	"github.com/valyala/fastjson"
)

// Text returns the value as users read it: a string's content, a number's
// literal, "true" or "false", "" for null or a missing value, and compact JSON
// for objects and arrays. JSON-quoted strings (as in audit modifiedProperties,
// "\"Global Administrator\"") are unquoted.
func Text(v *fastjson.Value) string {
	return string(appendText(nil, v))
}

// AppendText appends Text(v) to dst.
func AppendText(dst []byte, v *fastjson.Value) []byte { return appendText(dst, v) }

func appendText(dst []byte, v *fastjson.Value) []byte {
	if v == nil {
		return dst
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return append(dst, Unquote(b)...)
	case fastjson.TypeNull:
		return dst
	case fastjson.TypeTrue:
		return append(dst, "true"...)
	case fastjson.TypeFalse:
		return append(dst, "false"...)
	default:
		return v.MarshalTo(dst)
	}
}

// Unquote strips one level of JSON string quoting from b when b is itself a
// JSON string literal ("\"x\"" -> "x"); other input is returned unchanged.
func Unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		if bytes.IndexByte(b[1:len(b)-1], '\\') < 0 {
			return b[1 : len(b)-1]
		}
		if s, err := strconv.Unquote(string(b)); err == nil {
			return []byte(s)
		}
	}
	return b
}

// stringish returns the bytes of a string or number value and whether it was
// one.
func stringish(v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return Unquote(trimSpaceBytes(b)), true
	case fastjson.TypeNumber:
		return v.MarshalTo(nil), true
	}
	return nil, false
}

// EqualFold reports whether v, read as text, equals s ignoring ASCII case.
// Numbers compare by their literal, booleans as "true"/"false".
func EqualFold(v *fastjson.Value, s string) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return asciiEqualFold([]byte("true"), s)
	case fastjson.TypeFalse:
		return asciiEqualFold([]byte("false"), s)
	}
	b, ok := stringish(v)
	return ok && asciiEqualFold(b, s)
}

// HasPrefixFold reports whether v, read as text, starts with prefix ignoring
// ASCII case.
func HasPrefixFold(v *fastjson.Value, prefix string) bool {
	if v == nil {
		return false
	}
	b, ok := stringish(v)
	return ok && len(b) >= len(prefix) && asciiEqualFold(b[:len(prefix)], prefix)
}

// IsFalse reports whether v is false: JSON false or the string "false" in any
// case.
func IsFalse(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	if v.Type() == fastjson.TypeFalse {
		return true
	}
	b, ok := stringish(v)
	return ok && v.Type() == fastjson.TypeString && asciiEqualFold(b, "false")
}

// IsTrue reports whether v is true: JSON true or the string "true" in any case.
func IsTrue(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	if v.Type() == fastjson.TypeTrue {
		return true
	}
	b, ok := stringish(v)
	return ok && v.Type() == fastjson.TypeString && asciiEqualFold(b, "true")
}

// IsEmpty reports whether v carries nothing: missing, null, "", an empty array
// or object, or their JSON text "[]" and "{}".
func IsEmpty(v *fastjson.Value) bool {
	if v == nil {
		return true
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeArray:
		a, _ := v.Array()
		return len(a) == 0
	case fastjson.TypeObject:
		o, _ := v.Object()
		return o.Len() == 0
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		b = trimSpaceBytes(b)
		if len(b) == 0 || string(b) == "[]" || string(b) == "{}" || string(b) == `""` {
			return true
		}
		if b[0] == '[' || b[0] == '{' {
			b = bytes.Map(func(r rune) rune {
				if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
					return -1
				}
				return r
			}, b)
			return string(b) == "[]" || string(b) == "{}"
		}
		return false
	}
	return false
}

// IsZero reports whether v is the number zero, as a JSON number or a string
// ("0", "0.0").
func IsZero(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	b, ok := stringish(v)
	if !ok || len(b) == 0 {
		return false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return err == nil && f == 0
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Elements returns the elements of an array value, descending into an array
// held as JSON text in a string.
func (r *Record) Elements(v *fastjson.Value) []*fastjson.Value {
	v = r.descend(v)
	if v == nil || v.Type() != fastjson.TypeArray {
		return nil
	}
	a, _ := v.Array()
	return a
}

// Child returns the value of key (case-insensitive) in an object value,
// descending into an object held as JSON text.
func (r *Record) Child(v *fastjson.Value, key string) *fastjson.Value {
	v = r.descend(v)
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	o, _ := v.Object()
	return GetFold(o, key)
}
