package kql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"
)

// Type is the type of a Value.
type Type uint8

// Value types.
const (
	TNull Type = iota
	TBool
	TLong
	TReal
	TString
	TDatetime
	TTimespan
	TDynamic // an array ([]Value) or a property bag (*Obj)

	// tLazy marks a column value not computed yet (lazy.go): a placeholder
	// for a column of the record a streamed row comes from, or a column of
	// a loaded row computed on first use. Rows are resolved before a table
	// leaves the package.
	tLazy
)

var typeNames = [...]string{"null", "bool", "long", "real", "string", "datetime", "timespan", "dynamic", "lazy"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// Value is one scalar value. Scalars taken out of a dynamic value keep
// their own type and have Dyn set (comparisons with them never fail on a
// type mismatch: they are just false).
type Value struct {
	T   Type
	Dyn bool
	I   int64 // bool (0/1), long, timespan (ns), datetime (Unix ns)
	F   float64
	S   string
	D   any // []Value or *Obj for TDynamic
}

// Obj is a property bag with its keys in order.
type Obj struct {
	Keys []string
	Vals []Value
}

// Get returns the value of key: exact match first, then ignoring case
// (records come in camelCase and PascalCase spellings).
func (o *Obj) Get(key string) (Value, bool) {
	for i, k := range o.Keys {
		if k == key {
			return o.Vals[i], true
		}
	}
	for i, k := range o.Keys {
		if strings.EqualFold(k, key) {
			return o.Vals[i], true
		}
	}
	return Value{}, false
}

// Null is the null value.
var Null = Value{}

// Bool, Long, Real, Str, Datetime and Timespan build values.
func Bool(b bool) Value {
	if b {
		return Value{T: TBool, I: 1}
	}
	return Value{T: TBool}
}
func Long(i int64) Value             { return Value{T: TLong, I: i} }
func Real(f float64) Value           { return Value{T: TReal, F: f} }
func Str(s string) Value             { return Value{T: TString, S: s} }
func Datetime(t time.Time) Value     { return Value{T: TDatetime, I: t.UnixNano()} }
func Timespan(d time.Duration) Value { return Value{T: TTimespan, I: int64(d)} }

// Time returns a datetime value's time.
func (v Value) Time() time.Time { return time.Unix(0, v.I).UTC() }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.T == TNull }

// True reports whether v is the boolean true.
func (v Value) True() bool { return v.T == TBool && v.I != 0 }

// FromJSON converts a parsed JSON value into a Value: objects and arrays
// become dynamic, scalars keep their type (marked Dyn).
func FromJSON(j *fastjson.Value) Value {
	if j == nil {
		return Null
	}
	switch j.Type() {
	case fastjson.TypeObject:
		o, _ := j.Object()
		n := o.Len()
		obj := &Obj{Keys: make([]string, 0, n), Vals: make([]Value, 0, n)}
		o.Visit(func(k []byte, v *fastjson.Value) {
			obj.Keys = append(obj.Keys, string(k))
			obj.Vals = append(obj.Vals, FromJSON(v))
		})
		return Value{T: TDynamic, D: obj}
	case fastjson.TypeArray:
		a, _ := j.Array()
		out := make([]Value, len(a))
		for i, e := range a {
			out[i] = FromJSON(e)
		}
		return Value{T: TDynamic, D: out}
	case fastjson.TypeString:
		b, _ := j.StringBytes()
		return Value{T: TString, S: string(b), Dyn: true}
	case fastjson.TypeNumber:
		var scratch [32]byte
		return numberValue(j, scratch[:0])
	case fastjson.TypeTrue:
		v := Bool(true)
		v.Dyn = true
		return v
	case fastjson.TypeFalse:
		v := Bool(false)
		v.Dyn = true
		return v
	}
	return Null
}

// numberValue is FromJSON of a JSON number: a long when its literal is
// one, else a real; scratch is room for the literal.
func numberValue(j *fastjson.Value, scratch []byte) Value {
	raw := j.MarshalTo(scratch[:0])
	if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return Value{T: TLong, I: i, Dyn: true}
	}
	return Value{T: TReal, F: j.GetFloat64(), Dyn: true}
}

// ParseDynamic parses JSON text into a dynamic value; text that is not
// JSON becomes a string (as parse_json does).
func ParseDynamic(s string) Value {
	var p fastjson.Parser
	j, err := p.Parse(s)
	if err != nil {
		return Value{T: TString, S: s, Dyn: true}
	}
	return FromJSON(j)
}

// AppendJSON appends v as JSON.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.T {
	case TNull:
		return append(dst, "null"...)
	case TBool:
		return strconv.AppendBool(dst, v.I != 0)
	case TLong:
		return strconv.AppendInt(dst, v.I, 10)
	case TReal:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return strconv.AppendQuote(dst, v.Text())
		}
		return strconv.AppendFloat(dst, v.F, 'g', -1, 64)
	case TString, TDatetime, TTimespan:
		return appendJSONString(dst, v.Text())
	case TDynamic:
		switch d := v.D.(type) {
		case []Value:
			dst = append(dst, '[')
			for i, e := range d {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = e.AppendJSON(dst)
			}
			return append(dst, ']')
		case *Obj:
			dst = append(dst, '{')
			for i, k := range d.Keys {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, k)
				dst = append(dst, ':')
				dst = d.Vals[i].AppendJSON(dst)
			}
			return append(dst, '}')
		}
	}
	return append(dst, "null"...)
}

// appendJSONBytes is appendJSONString of b's text.
func appendJSONBytes(dst, b []byte) []byte {
	return appendJSONString(dst, unsafe.String(unsafe.SliceData(b), len(b))) // not kept
}

func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainJSON[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			// invalid UTF-8 is written as U+FFFD
			dst = append(dst, s[start:i]...)
			dst = utf8.AppendRune(dst, r)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainJSON marks the bytes a JSON string holds as they are: ASCII but
// control characters, quote and backslash.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// datetimeLayout is how datetimes are written.
const datetimeLayout = "2006-01-02T15:04:05.9999999Z"

// Text is tostring(v): "" for null, compact JSON for dynamic arrays and
// bags, RFC 3339 (UTC, up to 7 fractional digits) for datetimes and
// [-][d.]hh:mm:ss[.fffffff] for timespans.
func (v Value) Text() string {
	switch v.T {
	case TNull:
		return ""
	case TBool:
		return strconv.FormatBool(v.I != 0)
	case TLong:
		return strconv.FormatInt(v.I, 10)
	case TReal:
		switch {
		case math.IsNaN(v.F):
			return "NaN"
		case math.IsInf(v.F, 1):
			return "Infinity"
		case math.IsInf(v.F, -1):
			return "-Infinity"
		}
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case TString:
		return v.S
	case TDatetime:
		return v.Time().Format(datetimeLayout)
	case TTimespan:
		return formatTimespan(time.Duration(v.I))
	case TDynamic:
		return string(v.AppendJSON(nil))
	}
	return ""
}

func formatTimespan(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	d -= s * time.Second
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, s)
	if ticks := d / 100; ticks > 0 {
		fmt.Fprintf(&b, ".%07d", ticks)
	}
	return b.String()
}

// parseTimespanLit reads a timespan literal: 1d, 2h, 30m, 10s, 100ms…, or
// the text of timespan(…): a literal or [d.]hh:mm[:ss[.f]].
func parseTimespanLit(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unit := s[:i], strings.ToLower(s[i:])
	var d time.Duration
	if unit != "" && !strings.Contains(unit, ":") {
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, false
		}
		var u time.Duration
		switch unit {
		case "d", "day", "days":
			u = 24 * time.Hour
		case "h", "hr", "hrs", "hour", "hours":
			u = time.Hour
		case "m", "min", "minute", "minutes":
			u = time.Minute
		case "s", "sec", "second", "seconds":
			u = time.Second
		case "ms", "milli", "millis", "millisecond", "milliseconds":
			u = time.Millisecond
		case "microsecond", "micro", "micros", "microseconds":
			u = time.Microsecond
		case "tick", "ticks":
			u = 100
		default:
			return 0, false
		}
		d = time.Duration(f * float64(u))
	} else if strings.Contains(s, ":") {
		days := 0
		rest := s
		if k := strings.Index(s, "."); k >= 0 && k < strings.Index(s, ":") {
			n, err := strconv.Atoi(s[:k])
			if err != nil {
				return 0, false
			}
			days, rest = n, s[k+1:]
		}
		parts := strings.Split(rest, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return 0, false
		}
		h, err1 := strconv.Atoi(parts[0])
		m, err2 := strconv.Atoi(parts[1])
		if err1 != nil || err2 != nil {
			return 0, false
		}
		sec := 0.0
		if len(parts) == 3 {
			f, err := strconv.ParseFloat(parts[2], 64)
			if err != nil {
				return 0, false
			}
			sec = f
		}
		d = time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second))
	} else {
		// a bare number in timespan(…) is days
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, false
		}
		d = time.Duration(f * 24 * float64(time.Hour))
	}
	if neg {
		d = -d
	}
	return d, true
}

// key returns a string that identifies v for grouping, distinct and joins
// (type-tagged so that "1" and 1 differ).
func (v Value) key() string { return string(v.appendKey(nil)) }

// appendKey appends v's key.
func (v Value) appendKey(dst []byte) []byte {
	switch v.T {
	case TNull:
		return append(dst, 0)
	case TDynamic:
		return v.AppendJSON(append(dst, 'd'))
	case TReal:
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1e18 {
			return strconv.AppendInt(append(dst, 'n'), int64(v.F), 10)
		}
		return append(append(dst, 'r'), v.Text()...)
	case TLong:
		return strconv.AppendInt(append(dst, 'n'), v.I, 10)
	case TString:
		return append(append(dst, byte('a'+v.T)), v.S...)
	case TDatetime:
		return v.Time().AppendFormat(append(dst, byte('a'+v.T)), datetimeLayout)
	}
	return append(append(dst, byte('a'+v.T)), v.Text()...)
}

// number returns v as a float and whether it is numeric.
func (v Value) number() (float64, bool) {
	switch v.T {
	case TLong:
		return float64(v.I), true
	case TReal:
		return v.F, true
	}
	return 0, false
}
