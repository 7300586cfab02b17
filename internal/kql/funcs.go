package kql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/record"
)

func (ev *evaluator) call(x *Call, r *row) (Value, error) {
	if f := ev.funcs[strings.ToLower(x.Name)]; f != nil {
		return ev.callScalar(x, f, r)
	}
	// lazily evaluated
	switch x.Name {
	case "iff", "iif":
		c, err := ev.eval(x.Args[0], r)
		if err != nil {
			return c, err
		}
		if c.True() {
			return ev.eval(x.Args[1], r)
		}
		return ev.eval(x.Args[2], r)
	case "coalesce":
		for _, a := range x.Args {
			v, err := ev.eval(a, r)
			if err != nil {
				return v, err
			}
			if !v.IsNull() && !(v.T == TString && v.S == "") {
				return v, nil
			}
		}
		return Null, nil
	case "case":
		for i := 0; i+1 < len(x.Args); i += 2 {
			c, err := ev.eval(x.Args[i], r)
			if err != nil {
				return c, err
			}
			if c.True() {
				return ev.eval(x.Args[i+1], r)
			}
		}
		return ev.eval(x.Args[len(x.Args)-1], r)
	case "toscalar":
		t, err := ev.tabArg(x.Args[0], r)
		if err != nil {
			return Null, err
		}
		if len(t.Rows) == 0 || len(t.Columns) == 0 {
			return Null, nil
		}
		return resolved(t.Rows[0][0]), nil
	}
	args := make([]Value, len(x.Args))
	for i, a := range x.Args {
		if x.Name == "extract" && i == 3 {
			continue
		}
		v, err := ev.eval(a, r)
		if err != nil {
			return v, err
		}
		args[i] = v
	}
	return ev.applyCall(x, args)
}

// applyCall applies a function whose arguments are all evaluated first
// (extract's type argument is left null) to their values.
func (ev *evaluator) applyCall(x *Call, args []Value) (Value, error) {
	var a Value
	if len(args) > 0 {
		a = args[0]
	}
	switch x.Name {
	case "isempty", "isnotempty":
		empty := a.IsNull() || a.T == TString && a.S == ""
		return Bool(empty == (x.Name == "isempty")), nil
	case "isnull", "isnotnull":
		return Bool(a.IsNull() == (x.Name == "isnull")), nil
	case "not":
		if a.T != TBool {
			if a.IsNull() {
				return Null, nil
			}
			return Null, &Error{x.Pos, "not() takes a bool, not a " + a.T.String()}
		}
		return Bool(a.I == 0), nil
	case "tostring":
		if a.IsNull() {
			return Str(""), nil
		}
		return Str(a.Text()), nil
	case "toint", "tolong":
		switch a.T {
		case TLong:
			return Long(a.I), nil
		case TReal:
			if math.IsNaN(a.F) || math.IsInf(a.F, 0) {
				return Null, nil
			}
			return Long(int64(a.F)), nil
		case TBool:
			return Long(a.I), nil
		case TString:
			s := strings.TrimSpace(a.S)
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return Long(i), nil
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return Long(int64(f)), nil
			}
		}
		return Null, nil
	case "todouble", "toreal":
		switch a.T {
		case TLong, TBool:
			return Real(float64(a.I)), nil
		case TReal:
			return a, nil
		case TString:
			if f, err := strconv.ParseFloat(strings.TrimSpace(a.S), 64); err == nil {
				return Real(f), nil
			}
		}
		return Null, nil
	case "tobool", "toboolean":
		switch a.T {
		case TBool:
			return Bool(a.I != 0), nil
		case TLong:
			return Bool(a.I != 0), nil
		case TString:
			switch strings.ToLower(strings.TrimSpace(a.S)) {
			case "true", "1":
				return Bool(true), nil
			case "false", "0":
				return Bool(false), nil
			}
		}
		return Null, nil
	case "todatetime":
		switch a.T {
		case TDatetime:
			return Value{T: TDatetime, I: a.I}, nil
		case TString:
			if t, ok := record.ParseTime(a.S); ok {
				return Datetime(t), nil
			}
		}
		return Null, nil
	case "totimespan":
		switch a.T {
		case TTimespan:
			return Value{T: TTimespan, I: a.I}, nil
		case TString:
			if d, ok := parseTimespanLit(a.S); ok && strings.Contains(a.S, ":") {
				return Timespan(d), nil
			}
		}
		return Null, nil
	case "tolower":
		return Str(strings.ToLower(a.Text())), nil
	case "toupper":
		return Str(strings.ToUpper(a.Text())), nil
	case "strcat":
		var b strings.Builder
		for _, v := range args {
			b.WriteString(v.Text())
		}
		return Str(b.String()), nil
	case "strlen":
		return Long(int64(utf8.RuneCountInString(a.Text()))), nil
	case "trim":
		re, err := ev.regex("^(?:"+a.Text()+")+|(?:"+a.Text()+")+$", x.Pos)
		if err != nil {
			return Null, err
		}
		return Str(re.ReplaceAllString(args[1].Text(), "")), nil
	case "ago":
		if a.T != TTimespan {
			return Null, &Error{x.Pos, "ago() takes a timespan, not a " + a.T.String()}
		}
		return Value{T: TDatetime, I: ev.now.UnixNano() - a.I}, nil
	case "now":
		return Datetime(ev.now), nil
	case "parse_json", "todynamic":
		if a.T == TString {
			if a.S == "" {
				return Null, nil
			}
			return ParseDynamic(a.S), nil
		}
		return a, nil
	case "array_length":
		if arr, ok := a.D.([]Value); ok && a.T == TDynamic {
			return Long(int64(len(arr))), nil
		}
		return Null, nil
	case "long", "int", "real", "double", "bool":
		return castTo(a, x.Name), nil
	case "bin", "floor":
		return bin(a, args[1], x.Pos)
	}
	if v, ok, err := ev.call2(x, args); ok {
		return v, err
	}
	return Null, refuse(x.Pos, "function %s()", x.Name)
}

func bin(v, size Value, p Pos) (Value, error) {
	if v.IsNull() || size.IsNull() {
		return Null, nil
	}
	switch {
	case v.T == TDatetime && size.T == TTimespan:
		if size.I <= 0 {
			return Null, nil
		}
		n := v.I / size.I * size.I
		if v.I < 0 && v.I%size.I != 0 {
			n -= size.I
		}
		return Value{T: TDatetime, I: n}, nil
	case v.T == TTimespan && size.T == TTimespan:
		if size.I <= 0 {
			return Null, nil
		}
		return Value{T: TTimespan, I: v.I / size.I * size.I}, nil
	case v.T == TLong && size.T == TLong:
		if size.I <= 0 {
			return Null, nil
		}
		n := v.I / size.I * size.I
		if v.I < 0 && v.I%size.I != 0 {
			n -= size.I
		}
		return Long(n), nil
	}
	x, ok1 := v.number()
	y, ok2 := size.number()
	if ok1 && ok2 && y > 0 {
		return Real(math.Floor(x/y) * y), nil
	}
	return Null, &Error{p, fmt.Sprintf("bin() cannot take a %s and a %s", v.T, size.T)}
}

// newestTime returns the latest time of the tables' rows (TimeGenerated,
// else the first datetime column).
func newestTime(tables map[string]*Table) time.Time {
	var best int64
	found := false
	for _, t := range tables {
		i := TimeColumn(t.Columns)
		if i < 0 {
			continue
		}
		for _, r := range t.Rows {
			if v := resolved(r[i]); v.T == TDatetime && (!found || v.I > best) {
				best, found = v.I, true
			}
		}
	}
	if !found {
		return time.Now().UTC()
	}
	return time.Unix(0, best).UTC()
}
