package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/suggest"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// decoder walks the YAML tree, collecting problems and warnings.
type decoder struct {
	now   time.Time
	errs  problems
	warns problems
}

func (d *decoder) errorf(n *yamltree.Node, format string, args ...any) {
	line, col := pos(n)
	d.errs.add(line, col, fmt.Sprintf(format, args...))
}

func (d *decoder) warnf(n *yamltree.Node, format string, args ...any) {
	line, col := pos(n)
	d.warns.add(line, col, fmt.Sprintf(format, args...))
}

// pos is where a node starts: a block mapping's first key (the parser
// places the mapping itself at that key's colon).
func pos(n *yamltree.Node) (int, int) {
	if n == nil {
		return 0, 0
	}
	if n.Kind == yamltree.Map && len(n.Keys) > 0 {
		return n.Keys[0].Line, n.Keys[0].Col
	}
	return n.Line, n.Col
}

// absent reports whether a value is missing or null.
func absent(n *yamltree.Node) bool { return n == nil || n.Kind == yamltree.Null }

// describe names a node for "want X, got Y" messages.
func describe(n *yamltree.Node) string {
	switch {
	case absent(n):
		return "nothing"
	case n.Kind == yamltree.Map:
		return "a mapping"
	case n.Kind == yamltree.Seq:
		return "a list"
	}
	switch n.Type {
	case yamltree.Int, yamltree.Float:
		return "the number " + clip(n.Str)
	case yamltree.Bool:
		return n.Str
	}
	return "the string " + quote(n.Str)
}

// quote quotes an attacker-controlled string for a message, bounded.
func quote(s string) string {
	if c := clip(s); len(c) < len(s) {
		return strconv.Quote(c[:len(c)-len("…")]) + "…"
	}
	return strconv.Quote(s)
}

// clip bounds a string for a message, ending a cut one with "…".
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// keyName formats a key for a message: `key`, or quoted when odd.
func keyName(s string) string {
	if s != "" && len(s) <= 64 {
		ok := true
		for _, r := range s {
			if r == '`' || r < 0x20 || r == 0x7f || r > 0x7e {
				ok = false
				break
			}
		}
		if ok {
			return "`" + s + "`"
		}
	}
	return quote(s)
}

// object walks a mapping, remembering the keys read so that the rest can
// be reported as unknown.
type object struct {
	d    *decoder
	path string
	n    *yamltree.Node // nil when absent or not a mapping
	read []string
}

// object returns a walker over n at path; a value that is not a mapping
// is reported and walked as empty.
func (d *decoder) object(n *yamltree.Node, path string) *object {
	o := &object{d: d, path: path}
	switch {
	case absent(n):
	case n.Kind != yamltree.Map:
		d.errorf(n, "%s: want a mapping, got %s", path, describe(n))
	default:
		o.n = n
	}
	return o
}

// item returns a walker over a list item, which must be a mapping.
func (d *decoder) item(n *yamltree.Node, path string) *object {
	if absent(n) {
		d.errorf(n, "%s is empty: want a mapping", path)
	}
	return d.object(n, path)
}

// at names a key under the object's path.
func (o *object) at(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// get returns key's value, nil when missing or null.
func (o *object) get(key string) *yamltree.Node {
	o.read = append(o.read, key)
	if o.n == nil {
		return nil
	}
	v := o.n.Get(key)
	if absent(v) {
		return nil
	}
	return v
}

// has reports whether the mapping holds key (even null) without marking
// it read.
func (o *object) has(key string) bool { return o.n != nil && o.n.Get(key) != nil }

// keyNode returns key's key node, for positions.
func (o *object) keyNode(key string) *yamltree.Node {
	if o.n != nil {
		for _, k := range o.n.Keys {
			if k.Str == key {
				return k
			}
		}
	}
	return o.n
}

// done reports the keys never read. other, if not nil, explains a key
// that is valid elsewhere ("`token` is not a key of a webhook sink");
// it returns "" for a key it does not know.
func (o *object) done(other func(key string) string) {
	if o.n == nil {
		return
	}
	for _, k := range o.n.Keys {
		if contains(o.read, k.Str) {
			continue
		}
		if other != nil {
			if msg := other(k.Str); msg != "" {
				o.d.errorf(k, "%s", msg)
				continue
			}
		}
		where := "in " + o.path
		if o.path == "" {
			where = "at the top level"
		}
		o.d.errorf(k, "unknown key %s %s%s", keyName(k.Str), where, didYouMean(k.Str, o.read))
	}
}

// required reports a missing key.
func (o *object) required(key, hint string) {
	at := o.n
	if at == nil {
		return // the parent reported the missing or mistyped mapping
	}
	o.d.errorf(at, "%s is required%s", o.at(key), hint)
}

// str reads an optional string: any scalar but a boolean.
func (o *object) str(key string) (string, *yamltree.Node) {
	n := o.get(key)
	if n == nil {
		return "", nil
	}
	if n.Kind != yamltree.Scalar || n.Type == yamltree.Bool {
		o.d.errorf(n, "%s: want a string, got %s", o.at(key), describe(n))
		return "", nil
	}
	return n.Str, n
}

// reqStr reads a required, non-empty string.
func (o *object) reqStr(key string) (string, *yamltree.Node) {
	s, n := o.str(key)
	switch {
	case n != nil && strings.TrimSpace(s) == "":
		o.d.errorf(n, "%s must not be empty", o.at(key))
		return "", nil
	case n == nil && !o.has(key):
		o.required(key, "")
	case n == nil && absent(o.n.Get(key)):
		o.d.errorf(o.keyNode(key), "%s must not be empty", o.at(key))
	}
	return s, n
}

// boolean reads an optional boolean.
func (o *object) boolean(key string, def bool) bool {
	n := o.get(key)
	if n == nil {
		return def
	}
	if n.Kind != yamltree.Scalar || n.Type != yamltree.Bool {
		o.d.errorf(n, "%s: want true or false, got %s", o.at(key), describe(n))
		return def
	}
	return n.Str == "true"
}

// integer reads an optional integer in [lo, hi].
func (o *object) integer(key string, def, lo, hi int) int {
	n := o.get(key)
	if n == nil {
		return def
	}
	if n.Kind != yamltree.Scalar || n.Type != yamltree.Int {
		o.d.errorf(n, "%s: want a whole number, got %s", o.at(key), describe(n))
		return def
	}
	v, err := strconv.ParseInt(n.Str, 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		o.d.errorf(n, "%s: %s is out of range (%d to %d)", o.at(key), quote(n.Str), lo, hi)
		return def
	}
	return int(v)
}

// duration reads an optional duration of at least min.
func (o *object) duration(key string, def, min time.Duration) time.Duration {
	n := o.get(key)
	if n == nil {
		return def
	}
	if n.Kind != yamltree.Scalar || n.Type == yamltree.Bool || n.Type == yamltree.Float {
		o.d.errorf(n, "%s: want a duration such as 5m, 2h or 7d, got %s", o.at(key), describe(n))
		return def
	}
	v, err := parseDuration(n.Str)
	if err != nil {
		o.d.errorf(n, "%s: %v", o.at(key), err)
		return def
	}
	if v < min {
		if min == 0 {
			o.d.errorf(n, "%s: %s must not be negative", o.at(key), quote(n.Str))
		} else {
			o.d.errorf(n, "%s: %s is shorter than the minimum, %s", o.at(key), quote(n.Str), formatDuration(min))
		}
		return def
	}
	return v
}

// enum reads an optional string that must be one of names.
func (o *object) enum(key, def string, names ...string) (string, *yamltree.Node) {
	s, n := o.str(key)
	if n == nil {
		return def, nil
	}
	if !contains(names, s) {
		o.d.errorf(n, "%s: %s is not one of %s%s", o.at(key), quote(s), strings.Join(names, ", "), didYouMean(s, names))
		return def, nil
	}
	return s, n
}

// list returns the items of an optional list.
func (o *object) list(key string) []*yamltree.Node {
	n := o.get(key)
	if n == nil {
		return nil
	}
	if n.Kind != yamltree.Seq {
		o.d.errorf(n, "%s: want a list, got %s", o.at(key), describe(n))
		return nil
	}
	return n.Items
}

// strs reads an optional list of non-empty strings, with the node of
// each.
func (o *object) strs(key string) ([]string, []*yamltree.Node) {
	var out []string
	var nodes []*yamltree.Node
	for i, it := range o.list(key) {
		if it.Kind != yamltree.Scalar || it.Type == yamltree.Bool {
			o.d.errorf(it, "%s[%d]: want a string, got %s", o.at(key), i, describe(it))
			continue
		}
		if strings.TrimSpace(it.Str) == "" {
			o.d.errorf(it, "%s[%d] must not be empty", o.at(key), i)
			continue
		}
		out = append(out, it.Str)
		nodes = append(nodes, it)
	}
	return out, nodes
}

// secretMsg is the error for a secret written inline.
const secretMsg = "secrets must come from an environment variable or a file: use {env: NAME} or {file: PATH}"

// secret reads an optional secret reference.
func (o *object) secret(key string) Secret {
	n := o.get(key)
	if n == nil {
		return Secret{}
	}
	return o.d.secret(n, o.at(key))
}

func (d *decoder) secret(n *yamltree.Node, path string) Secret {
	if n.Kind == yamltree.Scalar {
		// Never echo the value: it is a credential.
		d.errorf(n, "%s: %s", path, secretMsg)
		return Secret{}
	}
	if n.Kind != yamltree.Map {
		d.errorf(n, "%s: want {env: NAME} or {file: PATH}, got %s", path, describe(n))
		return Secret{}
	}
	o := d.object(n, path)
	env, en := o.str("env")
	file, fn := o.str("file")
	o.done(func(key string) string {
		return fmt.Sprintf("%s: %s is neither env nor file: want {env: NAME} or {file: PATH}", path, keyName(key))
	})
	line, col := pos(n)
	switch {
	case en != nil && fn != nil:
		d.errorf(n, "%s: give either env or file, not both", path)
	case en != nil:
		if !validEnvName(env) {
			d.errorf(en, "%s: %s is not an environment variable name (letters, digits and _, not starting with a digit)", path, quote(env))
			return Secret{}
		}
		return Secret{env: env, line: line, col: col}
	case fn != nil:
		if strings.TrimSpace(file) == "" {
			d.errorf(fn, "%s: file must not be empty", path)
			return Secret{}
		}
		return Secret{file: file, line: line, col: col}
	case o.has("env") || o.has("file"):
		// A null or mistyped env or file, already reported if mistyped.
		if k := o.keyNode("env"); o.has("env") && absent(n.Get("env")) {
			d.errorf(k, "%s: env must name an environment variable", path)
		} else if k := o.keyNode("file"); o.has("file") && absent(n.Get("file")) {
			d.errorf(k, "%s: file must name a file", path)
		}
	case len(n.Keys) == 0:
		d.errorf(n, "%s: want {env: NAME} or {file: PATH}", path)
	}
	return Secret{}
}

func validEnvName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// parseDuration reads a Go duration ("90m", "2h30m"), days ("7d") or both
// ("1d12h"), or 0.
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%s is not a duration (use a Go duration such as 5m or 2h30m, or days such as 7d)", quote(s))
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	neg := strings.HasPrefix(t, "-")
	var days int64
	if i := strings.IndexByte(t, 'd'); i >= 0 {
		ds := strings.TrimPrefix(t[:i], "-")
		if ds == "" || strings.Trim(ds, "0123456789") != "" || len(ds) > 5 {
			return 0, bad
		}
		days, _ = strconv.ParseInt(ds, 10, 64)
		t = t[i+1:]
		if t == "" {
			d := time.Duration(days) * 24 * time.Hour
			if neg {
				d = -d
			}
			return d, nil
		}
		if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
			return 0, bad
		}
	} else if _, err := strconv.ParseFloat(t, 64); err == nil {
		return 0, fmt.Errorf("%s has no unit (use a Go duration such as 5m or 2h30m, or days such as 7d)", quote(s))
	}
	rest, err := time.ParseDuration(t)
	if err != nil {
		return 0, bad
	}
	if days > 0 {
		if rest < 0 || rest > math.MaxInt64-time.Duration(days)*24*time.Hour {
			return 0, bad
		}
		rest += time.Duration(days) * 24 * time.Hour
		if neg {
			rest = -rest
		}
	}
	return rest, nil
}

// formatDuration prints whole days as "90d", anything else as Go does.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// checkAddr checks a host:port address; it returns the host.
func checkAddr(s string, hostRequired bool) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%s is not a host:port address", quote(s))
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 || (p == 0 && hostRequired) {
		return "", fmt.Errorf("%s: bad port %s", quote(s), quote(port))
	}
	if host == "" {
		if hostRequired {
			return "", fmt.Errorf("%s has no host", quote(s))
		}
		return "", nil
	}
	if net.ParseIP(host) == nil && !validHostname(host) {
		return "", fmt.Errorf("%s: %s is neither an IP address nor a host name", quote(s), quote(host))
	}
	return host, nil
}

// isLoopback reports whether a listen host is a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHostname checks a DNS name (one label or more).
func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// checkURL checks an absolute http(s) URL (https only if httpsOnly),
// without credentials or a fragment; a query only if query.
func checkURL(s string, httpsOnly, query bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("is not a URL")
	}
	switch {
	case httpsOnly && u.Scheme != "https":
		return fmt.Errorf("is not an https URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("is not an http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("has no host")
	case u.User != nil:
		return fmt.Errorf("must not hold a user name or password")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("must not hold a fragment (#…)")
	case !query && (u.RawQuery != "" || u.ForceQuery):
		return fmt.Errorf("must not hold a query (?…)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("has a bad port")
		}
	}
	return nil
}

// isGUID reports whether s is a GUID (8-4-4-4-12 hex digits).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isDomain reports whether s is a domain name of two labels or more.
func isDomain(s string) bool {
	return strings.Contains(strings.TrimSuffix(s, "."), ".") && !strings.Contains(s, "_") && validHostname(s)
}

// validName checks a tenant name: [a-z0-9_-], at most 64.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// didYouMean returns ` (did you mean "x"?)` for the closest candidate, or
// "".
func didYouMean(s string, cands []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestD := "", 1<<30
	ls := strings.ToLower(s)
	for _, c := range cands {
		if c == s {
			continue
		}
		d := suggest.Distance(ls, strings.ToLower(c))
		limit := 2
		if len(c) <= 4 {
			limit = 1
		}
		if d <= limit && 2*d < max(len(s), len(c)) && d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + keyName(best) + "?)"
}
