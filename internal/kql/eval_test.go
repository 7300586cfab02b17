package kql

import (
	"strings"
	"testing"
	"time"
)

func runQuery(t *testing.T, src string) (*Table, error) {
	t.Helper()
	q, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	db := NewDB()
	db.Now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	return Run(q, db)
}

// TestRefused checks that what the parser accepts and the evaluator does
// not implement is refused before running, with its name and position.
func TestRefused(t *testing.T) {
	for _, tt := range []struct{ q, want string }{
		{"SigninLogs | parse UserPrincipalName with user \"@\" domain:guid", "1:14: parse column type guid is not supported"},
		{"SigninLogs | parse kind=regex UserPrincipalName with \"(\" x", "1:14: parse: invalid pattern"},
		{"SigninLogs\n| mv-apply t = TargetResources to typeof(guid) on (take 1)", "2:3: mv-apply to typeof(guid) is not supported"},
		{"SigninLogs | mv-apply t = TargetResources on (where series_stats(t))", "1:53: function series_stats() is not supported"},
		{"let f = (T:(*)) { T | take 1 }; SigninLogs | invoke f(1)", "1:53: f() takes 0 to 0 arguments, not 1"},
		{"let f = (a:string) { a }; SigninLogs | invoke f()", "1:40: invoke f() is not supported"},
		{"let f = (a:string) { f(a) }; SigninLogs", "1:22: function f() is not supported"},
		{"let f = (a:string) { a }; f('x')", "1:27: function call f() is not supported"},
		{"let f = (a:string, b:long = 1) { a }; SigninLogs | where f() == 'x'", "1:58: f() takes 1 to 2 arguments, not 0"},
		{"let f = (a:guid) { a }; SigninLogs", "1:1: parameter type guid is not supported"},
		{"SigninLogs | invoke g()", "1:14: invoke g() is not supported"},
		{"SigninLogs | where replace_regex(Identity, 'a', 'b') == 'x'", "1:20: function replace_regex() is not supported"},
		{"SigninLogs | extend (a, b) = series_decompose_anomalies(x)", "1:30: function series_decompose_anomalies() is not supported"},
		{"SigninLogs | where extract('a', 0, Identity, typeof(guid)) == 'x'", "1:46: extract() type other than typeof(scalar type) is not supported"},
		{"SigninLogs | where toscalar(1) == 1", "1:29: expected a tabular expression"},
		{"SigninLogs | where Identity hasprefix 'a'", "1:29: operator hasprefix is not supported"},
		{"SigninLogs | where Identity has_cs 'a' and Identity hassuffix 'b'", "1:53: operator hassuffix is not supported"},
		{"SigninLogs\n| extend n = count()", "2:14: aggregation count() outside summarize is not supported"},
		{"SigninLogs | summarize percentiles(DurationMs, 95)", "1:24: aggregation percentiles() is not supported"},
		{"SigninLogs | where percentile(DurationMs, 95) > 1", "1:20: aggregation percentile() outside summarize is not supported"},
		{"SigninLogs | summarize x = DurationMs + 1", "summarize expression that is not an aggregation call is not supported"},
		{"AzureActivity | take 1", "1:1: table AzureActivity is not supported"},
		{"SigninLogs | join (SecurityAlert | take 1) on Id", `1:20: unknown table "SecurityAlert"`},
		{"let x = 1; x | take 1", `1:12: unknown table "x"`},
		{"union kind=weird SigninLogs, AuditLogs", "union kind=weird is not supported"},
		{"SigninLogs | join kind=rightouter (AuditLogs) on Id", "1:14: join kind=rightouter is not supported"},
		{"SigninLogs | project *", "project * is not supported"},
		{"SigninLogs | extend (a, b) = tostring(x)", "tuple assignment (a, b) is not supported"},
		{"SigninLogs | where Identity matches regex Identity", "matches regex with a non-literal pattern is not supported"},
		{"SigninLogs | where tostring(1, 2) == ''", "tostring() takes 1 arguments, not 2"},
		{"SigninLogs | mv-expand x = TargetResources to typeof(guid)", "mv-expand to typeof(guid) is not supported"},
		{"SigninLogs | where TimeGenerated > datetime(yesterday)", "invalid datetime yesterday"},
		{"SigninLogs | where x == dynamic({\"a\" 1})", "1:25: invalid dynamic literal"},
	} {
		_, err := runQuery(t, tt.q)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.q, err, tt.want)
		}
	}
}

// TestRuntimeErrors checks type errors found while running.
func TestRuntimeErrors(t *testing.T) {
	for _, tt := range []struct{ q, want string }{
		{`datatable(a:string) ["x"] | where a < 1`, "1:37: cannot compare a string with a long"},
		{`datatable(a:datetime) [datetime(2026-01-01)] | where a == "2026-01-01"`, "cannot compare a datetime with a string"},
		{`datatable(a:string) ["{}"] | where a.b == 1`, "member access .b on a string column (use parse_json first)"},
		{`datatable(a:string) ["x"] | where b == 1`, `unknown column or name "b"`},
		{`datatable(a:string) ["x"] | extend c = a + 1`, "operator + cannot take a string and a long"},
		{`datatable(a:string) ["x"] | where a`, "where needs a bool, not a string"},
		{`datatable(a:string) ["x"] | join (datatable(b:string) ["x"]) on a`, `join: the right side has no column "a"`},
	} {
		_, err := runQuery(t, tt.q)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.q, err, tt.want)
		}
	}
}

func TestScalars(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{`1 + 2 * 3`, `7`},
		{`10 / 4`, `2`},
		{`10 / 4.0`, `2.5`},
		{`1 / 0`, `null`},
		{`datetime(2026-01-02) - datetime(2026-01-01T12:00:00Z)`, `"12:00:00"`},
		{`datetime(2026-01-01) + 1d + 90m`, `"2026-01-02T01:30:00Z"`},
		{`2h * 3`, `"06:00:00"`},
		{`1d / 1h`, `24`},
		{`-1d`, `"-1.00:00:00"`},
		{`"Hello World" has "world"`, `true`},
		{`"Hello World" has "wor"`, `false`},
		{`"user@contoso.com" has "contoso.com"`, `true`},
		{`"Hello World" has_cs "world"`, `false`},
		{`"Hello World" !has "planet"`, `true`},
		{`"abc" contains "B"`, `true`},
		{`"abc" contains_cs "B"`, `false`},
		{`"abc" !contains_cs "B"`, `true`},
		{`"abc" startswith_cs "A"`, `false`},
		{`"abc" !endswith "C"`, `false`},
		{`"abc" endswith_cs "c"`, `true`},
		{`"a" in ("A", "b")`, `false`},
		{`"a" in~ ("A", "b")`, `true`},
		{`"a" !in~ ("A", "b")`, `false`},
		{`"a" !in ("A", "b")`, `true`},
		{`2 in (dynamic([1, 2]), 5)`, `true`},
		{`"failed to add member" has_any ("add", "remove")`, `true`},
		{`5 between (1 .. 5)`, `true`},
		{`5 !between (1 .. 4)`, `true`},
		{`1.5 between (1 .. 2)`, `true`},
		{`not(true)`, `false`},
		{`true and bool(null)`, `null`},
		{`false and bool(null)`, `false`},
		{`true or bool(null)`, `true`},
		{`isnull(long(null) == 1)`, `true`},
		{`dynamic({"a": {"b": [1, 2, 3]}}).a.b[-1]`, `3`},
		{`dynamic({"a": {"b": [1, 2, 3]}})["a"]["b"][5]`, `null`},
		{`dynamic({"isCompliant": false}).isCompliant == false`, `true`},
		{`dynamic({"n": "5"}).n == 5`, `false`},
		{`array_length(dynamic([1, [2, 3]]))`, `2`},
		{`parse_json('{"a": 1}').a + 1`, `2`},
		{`parse_json("not json")`, `"not json"`},
		{`tostring(dynamic({"b": 1, "a": [true, null]}))`, `"{\"b\":1,\"a\":[true,null]}"`},
		{`toint("12") + tolong("x")`, `null`},
		{`tobool("FALSE")`, `false`},
		{`todatetime("11/20/2026, 9:14:03.512 AM")`, `"2026-11-20T09:14:03.512Z"`},
		{`ago(1d)`, `"2026-11-26T00:00:00Z"`},
		{`now() - 2h`, `"2026-11-26T22:00:00Z"`},
		{`bin(datetime(2026-11-20T13:47:00Z), 1h)`, `"2026-11-20T13:00:00Z"`},
		{`bin(17, 5)`, `15`},
		{`coalesce(long(null), 0, 1)`, `0`},
		{`strcat("a", 1, true, 1.5)`, `"a1true1.5"`},
		{`trim(" ", "  x  ")`, `"x"`},
		{`"abc" matches regex "^a.c$"`, `true`},
		{`1 == 1.0`, `true`},
		{`"0" == 0`, `true`},
		{`0 != "0"`, `false`},
		{`"50126" in (50126, 50053)`, `true`},
		{`"x" == 0`, `false`},
		{`"a" < "b"`, `true`},
		{`split("a@b.com", "@")`, `["a","b.com"]`},
		{`split("a@b.com", "@", 1)`, `["b.com"]`},
		{`split("a@b.com", "@", 5)`, `[]`},
		{`tostring(split("a@b.com", "@", 0)[0])`, `"a"`},
		{`array_length(split("a,b,c", ","))`, `3`},
		{`extract("([0-9.]+) port", 1, "from 10.1.2.3 port 22")`, `"10.1.2.3"`},
		{`extract("x(\\d)", 1, "abc")`, `""`},
		{`extract("n=(\\d+)", 1, "n=42", typeof(long)) + 1`, `43`},
		{`extract_all("(\\d+)", "a1b22c333")`, `["1","22","333"]`},
		{`extract_all("(\\w)(\\d)", "a1b2")`, `[["a","1"],["b","2"]]`},
		{`replace_string("a.b.c", ".", "-")`, `"a-b-c"`},
		{`substring("abcdef", 2, 3)`, `"cde"`},
		{`substring("abcdef", 4)`, `"ef"`},
		{`substring("abc", 5, 1)`, `""`},
		{`strlen("héllo")`, `5`},
		{`trim_start("x", "xxaxx")`, `"axx"`},
		{`trim_end("x", "xxaxx")`, `"xxa"`},
		{`indexof("abcabc", "c")`, `2`},
		{`indexof("abcabc", "c", 3)`, `5`},
		{`indexof("abc", "z")`, `-1`},
		{`pack("a", 1, "b", "x")`, `{"a":1,"b":"x"}`},
		{`bag_pack("t", datetime(2026-01-01))`, `{"t":"2026-01-01T00:00:00Z"}`},
		{`pack_array(1, "a", dynamic([2]))`, `[1,"a",[2]]`},
		{`bag_keys(dynamic({"a": 1, "b": 2}))`, `["a","b"]`},
		{`case(x > 5, "big", x > 0, "small", "none")`, `"small"`},
		{`case(x > 5, "big", "none")`, `"none"`},
		{`startofday(datetime(2026-11-20T13:47:00Z))`, `"2026-11-20T00:00:00Z"`},
		{`startofday(datetime(2026-11-20T13:47:00Z), -1)`, `"2026-11-19T00:00:00Z"`},
		{`format_datetime(datetime(2026-11-20T13:47:05.123Z), "yyyy-MM-dd HH:mm:ss.fff")`, `"2026-11-20 13:47:05.123"`},
		{`format_datetime(datetime(2026-11-20T13:47:05Z), "M/d/yy h:mm tt")`, `"11/20/26 1:47 PM"`},
		{`ipv4_is_private("10.1.2.3")`, `true`},
		{`ipv4_is_private("192.168.0.1")`, `true`},
		{`ipv4_is_private("172.32.0.1")`, `false`},
		{`ipv4_is_private("8.8.8.8")`, `false`},
		{`ipv4_is_private("nonsense")`, `null`},
		{`ipv4_is_in_range("10.1.2.3", "10.1.0.0/16")`, `true`},
		{`ipv4_is_in_range("10.2.2.3", "10.1.0.0/16")`, `false`},
		{`ipv4_is_in_range("10.1.2.3", "10.1.2.3")`, `true`},
		{`hash_sha256("abc")`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{`tohex(255)`, `"ff"`},
		{`tohex(255, 4)`, `"00ff"`},
		{`todynamic('[1]')[0]`, `1`},
		{`isnotempty(dynamic({"a": 1}).a)`, `true`},
		{`isempty(dynamic({"a": 1}).b)`, `true`},
		{`isempty(dynamic({"a": ""}).a)`, `true`},
		{`isempty(dynamic([]))`, `false`},
		{`isnotempty(dynamic({}))`, `true`},
		{`isempty(parse_json(""))`, `true`},
		{`toscalar(datatable(n:long) [7, 8] | where n > 7)`, `8`},
		{`toscalar(datatable(n:long) [7] | where n > 7)`, `null`},
	} {
		tab, err := runQuery(t, "datatable(x:long) [1] | project v = "+tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		got := string(tab.Rows[0][0].AppendJSON(nil))
		if got != tt.want {
			t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
		}
	}
}
