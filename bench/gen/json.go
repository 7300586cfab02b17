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
		b = append(b, '[')
		for i, o := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSON(b, o)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, s)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSON(b, e)
		}
		return append(b, ']')
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
