package kql

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// moreFuncs are the string, dynamic, datetime and IP functions added to
// scalarFuncs (argument counts as there).
var moreFuncs = map[string][2]int{
	"split": {2, 3}, "extract": {3, 4}, "extract_all": {2, 3}, "replace_string": {3, 3},
	"substring": {2, 3}, "trim_start": {2, 2}, "trim_end": {2, 2}, "indexof": {2, 3},
	"toscalar": {1, 1}, "pack": {0, -1}, "bag_pack": {0, -1}, "pack_array": {0, -1},
	"bag_keys": {1, 1}, "case": {3, -1}, "startofday": {1, 2}, "format_datetime": {2, 2},
	"ipv4_is_private": {1, 1}, "ipv4_is_in_range": {2, 2}, "hash_sha256": {1, 1}, "tohex": {1, 2},
}

func init() {
	for k, v := range moreFuncs {
		scalarFuncs[k] = v
	}
}

func dyn(d any) Value { return Value{T: TDynamic, D: d} }

func strs(ss []string) Value {
	out := make([]Value, len(ss))
	for i, s := range ss {
		out[i] = Value{T: TString, S: s, Dyn: true}
	}
	return dyn(out)
}

// call2 evaluates the functions of moreFuncs (case and toscalar, whose
// arguments are not all evaluated first, are in call); ok is false for
// other names.
func (ev *evaluator) call2(x *Call, args []Value) (Value, bool, error) {
	var a Value
	if len(args) > 0 {
		a = args[0]
	}
	longArg := func(i int) (int64, bool, error) {
		v := args[i]
		if v.IsNull() {
			return 0, false, nil
		}
		if v.T != TLong {
			return 0, false, &Error{x.Args[i].Position(), fmt.Sprintf("%s() takes a long here, not a %s", x.Name, v.T)}
		}
		return v.I, true, nil
	}
	switch x.Name {
	case "split":
		parts := strings.Split(a.Text(), args[1].Text())
		if len(args) == 3 {
			i, ok, err := longArg(2)
			if err != nil || !ok {
				return Null, true, err
			}
			if i < 0 || i >= int64(len(parts)) {
				return dyn([]Value{}), true, nil
			}
			return strs(parts[i : i+1]), true, nil
		}
		return strs(parts), true, nil
	case "extract", "extract_all":
		if x.Name == "extract_all" && len(args) == 3 {
			return Null, true, refuse(x.Pos, "extract_all() with capture-group indexes")
		}
		re, err := ev.regex(a.Text(), x.Pos)
		if err != nil {
			return Null, true, err
		}
		if x.Name == "extract_all" {
			if args[1].IsNull() {
				return Null, true, nil
			}
			ms := re.FindAllStringSubmatch(args[1].Text(), -1)
			if len(ms) == 0 {
				return Null, true, nil
			}
			var out []Value
			for _, m := range ms {
				switch len(m) {
				case 1:
					out = append(out, Value{T: TString, S: m[0], Dyn: true})
				case 2:
					out = append(out, Value{T: TString, S: m[1], Dyn: true})
				default:
					out = append(out, strs(m[1:]))
				}
			}
			return dyn(out), true, nil
		}
		g, ok, err := longArg(1)
		if err != nil || !ok {
			return Null, true, err
		}
		if g < 0 || int(g) > re.NumSubexp() {
			return Null, true, &Error{x.Pos, fmt.Sprintf("extract(): no capture group %d", g)}
		}
		m := re.FindStringSubmatch(args[2].Text())
		if m == nil {
			if len(args) == 4 {
				return Null, true, nil
			}
			return Str(""), true, nil
		}
		s := Str(m[g])
		if len(args) == 4 {
			return convertString(m[g], typeArg(x.Args[3])), true, nil
		}
		return s, true, nil
	case "replace_string":
		return Str(strings.ReplaceAll(a.Text(), args[1].Text(), args[2].Text())), true, nil
	case "substring":
		rs := []rune(a.Text())
		start, ok, err := longArg(1)
		if err != nil || !ok {
			return Null, true, err
		}
		if start < 0 {
			start = 0
		}
		end := int64(len(rs))
		if len(args) == 3 {
			n, ok, err := longArg(2)
			if err != nil || !ok {
				return Null, true, err
			}
			if n < 0 {
				n = 0
			}
			end = min(end, start+n)
		}
		if start >= end {
			return Str(""), true, nil
		}
		return Str(string(rs[start:end])), true, nil
	case "trim_start", "trim_end":
		pat := "^(?:" + a.Text() + ")+"
		if x.Name == "trim_end" {
			pat = "(?:" + a.Text() + ")+$"
		}
		re, err := ev.regex(pat, x.Pos)
		if err != nil {
			return Null, true, err
		}
		return Str(re.ReplaceAllString(args[1].Text(), "")), true, nil
	case "indexof":
		if a.IsNull() || args[1].IsNull() {
			return Null, true, nil
		}
		s := a.Text()
		start := int64(0)
		if len(args) == 3 {
			n, ok, err := longArg(2)
			if err != nil || !ok {
				return Null, true, err
			}
			start = n
		}
		rs := []rune(s)
		if start < 0 || start > int64(len(rs)) {
			return Long(-1), true, nil
		}
		i := strings.Index(string(rs[start:]), args[1].Text())
		if i < 0 {
			return Long(-1), true, nil
		}
		return Long(start + int64(utf8.RuneCountInString(string(rs[start:])[:i]))), true, nil
	case "pack", "bag_pack":
		if len(args)%2 != 0 {
			return Null, true, &Error{x.Pos, x.Name + "() takes key, value pairs"}
		}
		o := &Obj{}
		for i := 0; i < len(args); i += 2 {
			if args[i].T != TString {
				return Null, true, &Error{x.Args[i].Position(), x.Name + "() keys must be strings"}
			}
			o.Keys = append(o.Keys, args[i].S)
			o.Vals = append(o.Vals, dynItem(args[i+1]))
		}
		return dyn(o), true, nil
	case "pack_array":
		out := make([]Value, len(args))
		for i, v := range args {
			out[i] = dynItem(v)
		}
		return dyn(out), true, nil
	case "bag_keys":
		o, ok := a.D.(*Obj)
		if a.T != TDynamic || !ok {
			return Null, true, nil
		}
		return strs(o.Keys), true, nil
	case "startofday":
		if a.IsNull() {
			return Null, true, nil
		}
		if a.T != TDatetime {
			return Null, true, &Error{x.Pos, "startofday() takes a datetime, not a " + a.T.String()}
		}
		t := a.Time()
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		if len(args) == 2 {
			n, ok, err := longArg(1)
			if err != nil || !ok {
				return Null, true, err
			}
			d = d.AddDate(0, 0, int(n))
		}
		return Datetime(d), true, nil
	case "format_datetime":
		if a.IsNull() {
			return Str(""), true, nil
		}
		if a.T != TDatetime {
			return Null, true, &Error{x.Pos, "format_datetime() takes a datetime, not a " + a.T.String()}
		}
		s, err := formatDatetime(a.Time(), args[1].Text())
		if err != nil {
			return Null, true, &Error{x.Args[1].Position(), err.Error()}
		}
		return Str(s), true, nil
	case "ipv4_is_private":
		ip, ok := ipv4(a.Text())
		if !ok {
			return Null, true, nil
		}
		return Bool(ip.IsPrivate()), true, nil
	case "ipv4_is_in_range":
		ip, ok := ipv4(a.Text())
		if !ok {
			return Null, true, nil
		}
		rng := args[1].Text()
		if !strings.Contains(rng, "/") {
			rng += "/32"
		}
		pfx, err := netip.ParsePrefix(rng)
		if err != nil || !pfx.Addr().Is4() {
			return Null, true, nil
		}
		return Bool(pfx.Contains(ip)), true, nil
	case "hash_sha256":
		if a.IsNull() {
			return Null, true, nil
		}
		h := sha256.Sum256([]byte(a.Text()))
		return Str(hex.EncodeToString(h[:])), true, nil
	case "tohex":
		if a.T != TLong {
			return Null, true, nil
		}
		s := strconv.FormatUint(uint64(a.I), 16)
		if len(args) == 2 {
			n, ok, err := longArg(1)
			if err != nil || !ok {
				return Null, true, err
			}
			for int64(len(s)) < n {
				s = "0" + s
			}
		}
		return Str(s), true, nil
	}
	return Null, false, nil
}

// dynItem is v stored inside a dynamic value.
func dynItem(v Value) Value {
	if v.T == TDatetime || v.T == TTimespan {
		return Value{T: TString, S: v.Text(), Dyn: true}
	}
	v.Dyn = v.T != TDynamic && v.T != TNull
	return v
}

func typeArg(e Expr) string {
	if c, ok := e.(*Call); ok && c.Name == "typeof" && len(c.Args) == 1 {
		if id, ok := c.Args[0].(*Ident); ok {
			return strings.ToLower(id.Name)
		}
	}
	return ""
}

func ipv4(s string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || !ip.Is4() {
		return netip.Addr{}, false
	}
	return ip, true
}

// formatDatetime formats t with Kusto's format specifiers (yyyy, yy, MM,
// M, dd, d, HH, H, hh, h, mm, m, ss, s, f…, tt) and separators.
func formatDatetime(t time.Time, f string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		tok := f[i : i+n]
		switch {
		case tok == "yyyy":
			fmt.Fprintf(&b, "%04d", t.Year())
		case tok == "yy":
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case c == 'M' && n <= 2:
			fmt.Fprintf(&b, "%0*d", n, int(t.Month()))
		case c == 'd' && n <= 2:
			fmt.Fprintf(&b, "%0*d", n, t.Day())
		case c == 'H' && n <= 2:
			fmt.Fprintf(&b, "%0*d", n, t.Hour())
		case c == 'h' && n <= 2:
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%0*d", n, h)
		case c == 'm' && n <= 2:
			fmt.Fprintf(&b, "%0*d", n, t.Minute())
		case c == 's' && n <= 2:
			fmt.Fprintf(&b, "%0*d", n, t.Second())
		case (c == 'f' || c == 'F') && n <= 7:
			frac := fmt.Sprintf("%09d", t.Nanosecond())[:n]
			if c == 'F' {
				frac = strings.TrimRight(frac, "0")
			}
			b.WriteString(frac)
		case tok == "tt":
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case strings.ContainsRune(" /-:,._[]T", rune(c)):
			b.WriteString(tok)
		default:
			return "", fmt.Errorf("format_datetime(): unsupported format %q", tok)
		}
		i += n
	}
	return b.String(), nil
}
