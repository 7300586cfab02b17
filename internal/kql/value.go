package kql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

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
)

var typeNames = [...]string{"null", "bool", "long", "real", "string", "datetime", "timespan", "dynamic"}

func (t Type) String() string { return typeNames[t] }

// Value is one scalar value. Scalars taken out of a dynamic value keep
// their own type and have Dyn set (comparisons with them never fail on a
// type mismatch: they are just false).
type Value struct {
	T   Type
	I   int64 // bool (0/1), long, timespan (ns), datetime (Unix ns)
	F   float64
	S   string
	D   any // []Value or *Obj for TDynamic
	Dyn bool
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
		obj := &Obj{}
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
		raw := j.MarshalTo(nil)
		if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return Value{T: TLong, I: i, Dyn: true}
		}
		return Value{T: TReal, F: j.GetFloat64(), Dyn: true}
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

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r < 0x20:
			dst = append(dst, fmt.Sprintf(`\u%04x`, r)...)
		default:
			dst = append(dst, string(r)...)
		}
	}
	return append(dst, '"')
}

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
		return v.Time().Format("2006-01-02T15:04:05.9999999Z")
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
func (v Value) key() string {
	switch v.T {
	case TNull:
		return "\x00"
	case TDynamic:
		return "d" + v.Text()
	case TReal:
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1e18 {
			return "n" + strconv.FormatInt(int64(v.F), 10)
		}
		return "r" + v.Text()
	case TLong:
		return "n" + v.Text()
	}
	return string(rune('a'+v.T)) + v.Text()
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
