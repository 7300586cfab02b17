package kql

import (
	"bytes"
	"strings"
	"testing"
)

// TestTabularAdditions checks mv-apply, user-defined functions, invoke,
// toscalar and parse on small tables: each query's JSON lines.
func TestTabularAdditions(t *testing.T) {
	for _, tt := range []struct{ q, want string }{
		{`datatable(k:string, a:dynamic) ["x", dynamic([3, 1, 2]), "y", dynamic([5])]
		  | mv-apply a to typeof(long) on (top 2 by a)`,
			`{"k":"x","a":3}|{"k":"x","a":2}|{"k":"y","a":5}`},
		{`datatable(k:string, a:dynamic) ["x", dynamic([3, 1, 2]), "y", dynamic([])]
		  | mv-apply v = a on (summarize n = count(), s = sum(toint(v)))`,
			`{"k":"x","a":[3,1,2],"n":3,"s":6}|{"k":"y","a":[],"n":0,"s":0}`},
		{`datatable(k:string, a:dynamic, b:dynamic) ["x", dynamic([1, 2]), dynamic(["p", "q"])]
		  | mv-apply a, b on (take 1 | project pair = strcat(a, b), k)`,
			`{"pair":"1p","k":"x"}`},
		{`datatable(k:string, a:dynamic) ["x", dynamic([{"t":"u","n":"a"},{"t":"r","n":"b"}])]
		  | mv-apply e = a on (where e.t == "r" | extend n = tostring(e.n) | project-away e)`,
			`{"k":"x","a":[{"t":"u","n":"a"},{"t":"r","n":"b"}],"n":"b"}`},
		{`let T = datatable(n:long) [1, 2, 3];
		  let big = (X:(n:long), lim:long = 1) { X | where n > lim };
		  T | invoke big() | invoke big(2)`,
			`{"n":3}`},
		{`let T = datatable(n:long) [1, 2, 3];
		  let count_over = (lim:long) { toscalar(T | where n > lim | count) };
		  print x = count_over(0), y = count_over(2)`,
			`{"x":3,"y":1}`},
		{`let T = datatable(n:long) [4, 5];
		  let firstT = toscalar(T);
		  datatable(m:long) [4, 5, 6] | where m in (T) and m != firstT`,
			`{"m":5}`},
		{`let f = (s:string) { let u = toupper(s); strcat(u, "!") };
		  datatable(s:string) ["a"] | extend t = f(s), w = f("b")`,
			`{"s":"a","t":"A!","w":"B!"}`},
		{`let g = (t:datetime, d:timespan = 1d) { t + d };
		  print a = g(datetime(2026-01-01)), b = g(datetime(2026-01-01), 2h)`,
			`{"a":"2026-01-02T00:00:00Z","b":"2026-01-01T02:00:00Z"}`},
		{`datatable(s:string) ["id=42; user=bob smith", "id=x; user=eve"]
		  | parse s with "id=" Id:long "; user=" User`,
			`{"s":"id=42; user=bob smith","Id":42,"User":"bob smith"}|{"s":"id=x; user=eve","Id":null,"User":""}`},
		{`datatable(s:string) ["n=1 m=x", "n=y m=2"]
		  | parse kind=relaxed s with "n=" N:long " m=" M:long`,
			`{"s":"n=1 m=x","N":1,"M":null}|{"s":"n=y m=2","N":null,"M":2}`},
		{`let f = (a:string, b:int=1) { strcat(a, b) };
		  print x = f("a"), y = f("b", 2)`,
			`{"x":"a1","y":"b2"}`},
		// Lets are scoped lexically: a let sees the names defined before it.
		{`let T = datatable(n:long) [1, 2]; let U = T | take 1; let T = U | extend m = n * 10; T`,
			`{"n":1,"m":10}`},
		{`let f = (a:long) { a }; let f = (a:long) { f(a) + 1 }; print x = f(1)`,
			`{"x":2}`},
		{`let k = 1; let f = () { k }; let k = 5; print x = f(), y = k`,
			`{"x":1,"y":5}`},
	} {
		if !strings.Contains(tt.q, "print") {
			tt.q = strings.TrimSpace(tt.q)
		}
		tab, err := runQuery(t, strings.Replace(tt.q, "print ", "datatable(z:long) [0] | project ", 1))
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, tab); err != nil {
			t.Fatal(err)
		}
		got := strings.ReplaceAll(strings.TrimSpace(b.String()), "\n", "|")
		if got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.q, got, tt.want)
		}
	}
}
