package gen

import (
	"strconv"

	"github.com/entrawatch/entrawatch/internal/jsonenc"
)

// KV is one member of an ordered JSON object.
type KV struct {
	K string
	V any
}

// Obj is a JSON object whose members keep their order, as Azure writes them.
type Obj []KV

// Text is a value written as a JSON string holding the JSON text of V, as
// Log Analytics does for its string-typed "dynamic" columns.
type Text struct{ V any }

// Num is a number written verbatim (for floats with a fixed look).
type Num string

// AppendJSON appends v as compact JSON.
func AppendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return jsonenc.AppendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case Num:
		return append(b, x...)
	case Obj:
		b = append(b, '{')
		for i, kv := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, kv.K)
			b = append(b, ':')
			b = AppendJSON(b, kv.V)
		}
		return append(b, '}')
	case []Obj:
		return appendArray(b, x, func(b []byte, o Obj) []byte { return AppendJSON(b, o) })
	case []string:
		return appendArray(b, x, jsonenc.AppendString)
	case []any:
		return appendArray(b, x, AppendJSON)
	case Text:
		inner := AppendJSON(nil, x.V)
		return jsonenc.AppendString(b, string(inner))
	}
	panic("gen: unsupported JSON value")
}

// Get returns the value of key k, or nil.
func (o Obj) Get(k string) any {
	for _, kv := range o {
		if kv.K == k {
			return kv.V
		}
	}
	return nil
}

// appendArray appends xs as a JSON array, each element written by elem.
func appendArray[T any](b []byte, xs []T, elem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, x)
	}
	return append(b, ']')
}
