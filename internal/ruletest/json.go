package ruletest

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/entrawatch/entrawatch/internal/jsonenc"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// appendJSON appends a YAML node as compact JSON, keeping the mapping keys
// in document order. Numbers keep their YAML spelling when it is a JSON
// number (so 0 stays 0 and 1.50 stays 1.50); other YAML spellings (0x1F,
// 1_000) are converted; strings, quoted or not, stay strings.
func appendJSON(b []byte, n *yamltree.Node) []byte {
	switch n.Kind {
	case yamltree.Null:
		return append(b, "null"...)
	case yamltree.Map:
		b = append(b, '{')
		for i, k := range n.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, k.Str)
			b = append(b, ':')
			b = appendJSON(b, n.Values[i])
		}
		return append(b, '}')
	case yamltree.Seq:
		b = append(b, '[')
		for i, it := range n.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, it)
		}
		return append(b, ']')
	}
	switch n.Type {
	case yamltree.Bool:
		return append(b, n.Str...)
	case yamltree.Int, yamltree.Float:
		if json.Valid([]byte(n.Str)) {
			return append(b, n.Str...)
		}
		s := strings.ReplaceAll(n.Str, "_", "")
		if n.Type == yamltree.Int {
			if strings.HasPrefix(s, "0o") || strings.HasPrefix(s, "-0o") || strings.HasPrefix(s, "+0o") {
				s = strings.Replace(s, "0o", "0", 1)
			}
			if v, err := strconv.ParseInt(s, 0, 64); err == nil {
				return strconv.AppendInt(b, v, 10)
			}
		}
		if v, err := strconv.ParseFloat(strings.TrimPrefix(s, "+"), 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	}
	return jsonenc.AppendString(b, n.Str)
}
