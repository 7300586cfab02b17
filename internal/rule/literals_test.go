package rule

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// refText is the text of a scalar as the matchers have always read it.
func refText(v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return record.Unquote(b), true
	case fastjson.TypeNumber:
		return v.MarshalTo(nil), true
	case fastjson.TypeTrue:
		return []byte("true"), true
	case fastjson.TypeFalse:
		return []byte("false"), true
	}
	return nil, false
}

// refAny is the reference test of one value: its text, each element's
// text and the compact JSON of an array, an object's compact JSON, and the
// elements of an array held as JSON text in a string.
func refAny(r *record.Record, v *fastjson.Value, p textPred, held bool) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, e := range a {
			if b, ok := refText(e); ok && p(b) {
				return true
			}
		}
		return p(v.MarshalTo(nil))
	case fastjson.TypeObject:
		return p(v.MarshalTo(nil))
	}
	if b, ok := refText(v); ok && p(b) {
		return true
	}
	if !held {
		return false
	}
	if h := heldJSON(v); len(h) > 0 && h[0] == '[' {
		for _, e := range r.Elements(v) {
			if b, ok := refText(e); ok && p(b) {
				return true
			}
		}
	}
	return false
}

// refMatch evaluates a Match the way compileMatch did before values were
// shared between rules and texts written once per record.
func refMatch(t *testing.T, r *record.Record, m Match) bool {
	t.Helper()
	f := record.CompileField(m.Field)
	one := func(x string) bool {
		p, err := textPredicate(m.Op, x, m.Cased)
		if err != nil {
			t.Fatal(err)
		}
		if v := r.Get(f); v != nil {
			return refAny(r, v, p, true)
		}
		return r.Each(f, func(v *fastjson.Value) bool { return refAny(r, v, p, false) })
	}
	for _, x := range m.Values {
		if hit := one(x); hit != m.All {
			return hit
		}
	}
	return m.All
}

const diffRecords = `{"TimeGenerated":"2026-11-20T09:00:00Z","Type":"AuditLogs","OperationName":"Add member to role","ResultType":0,"Code":"50126","Name":"Ünïcode Name","Kelvin":"\u212a","Empty":[],"Obj":{"a":1,"b":"Two"},"Held":"[\"x\",\"Y\",3]","HeldObj":"{\"k\":\"v\"}","Quoted":"\"Global Administrator\"","Arr":["a","B",2,true,null,{"c":"d"}],"TargetResources":[{"type":"User","modifiedProperties":[{"displayName":"Role.DisplayName","newValue":"\"Global Administrator\""},{"displayName":"Role.TemplateId","newValue":"\"62e90394-69f5-4237-9190-012177145e10\""}]},{"type":"Role","displayName":"Cloud Device Administrator"}]}
{"createdDateTime":"2026-11-20T08:17:45Z","userPrincipalName":"megan@contoso.com","status":{"errorCode":50126,"failureReason":"Invalid"},"deviceDetail":{"deviceId":"","isCompliant":false},"networkLocationDetails":[],"authenticationRequirement":"singleFactorAuthentication","resourceDisplayName":"Device Registration Service"}
{"time":"2026-11-20T08:17:45Z","category":"SignInLogs","operationName":"Sign-in activity","resultType":"0","properties":{"status":{"errorCode":0},"userAgent":"AzureHound/2.0 BAV2ROPC","deviceDetail":{"deviceId":"d1","isCompliant":"false"},"networkLocationDetails":[{"networkType":"namedNetwork"}],"riskEventTypes":["unfamiliarFeatures","anonymizedIPAddress"]}}`

// TestMatchersAgreeWithReference compiles random rules, many per compiler
// so that Equals values share one set per field, and checks every match
// against refMatch on records of every shape.
func TestMatchersAgreeWithReference(t *testing.T) {
	fields := []string{"ResultType", "Code", "OperationName", "Name", "Kelvin", "Empty", "Obj", "Held", "HeldObj", "Quoted", "Arr",
		"TargetResources.modifiedProperties.newValue", "TargetResources.displayName", "TargetResources.type", "status", "Status",
		"DeviceDetail.isCompliant", "DeviceDetail.deviceId", "NetworkLocationDetails", "userAgent", "riskEventTypes", "Missing", "properties.message"}
	values := []string{"0", "50126", "add member to role", "ADD MEMBER TO ROLE", "ünïcode name", "ÜNÏCODE NAME", "k", "K", "[]", "", "x", "y", "3",
		"global administrator", `"Global Administrator"`, "a", "b", "2", "true", "false", `{"a":1,"b":"Two"}`, `{"c":"d"}`, "user", "role",
		"62e90394-69f5-4237-9190-012177145e10", "cloud device administrator", "invalid", "d1", "bav2ropc", "azurehound", "namednetwork",
		"unfamiliarfeatures", `[{"networkType":"namedNetwork"}]`, "Two", "zzz", "add", "administrator", "{", "v"}
	ops := []Op{Equals, Equals, Equals, Contains, Prefix, Suffix}
	var recs []*record.Record
	var p fastjson.Parser
	for _, line := range strings.Split(diffRecords, "\n") {
		v, err := p.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		// Each record gets its own parsed copy: the parser is reused.
		b := v.MarshalTo(nil)
		var q fastjson.Parser
		w, _ := q.ParseBytes(b)
		r := &record.Record{Root: w, Raw: b}
		r.Classify()
		recs = append(recs, r)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 40; iter++ {
		c := NewCompiler()
		var ms []Match
		var compiled []Matcher
		for k := 0; k < 60; k++ {
			m := Match{Field: fields[rng.IntN(len(fields))], Op: ops[rng.IntN(len(ops))], All: rng.IntN(4) == 0, Cased: rng.IntN(6) == 0}
			for n := 1 + rng.IntN(4); n > 0; n-- {
				m.Values = append(m.Values, values[rng.IntN(len(values))])
			}
			fn, err := c.Compile(m)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
			compiled = append(compiled, fn)
		}
		for ri, r := range recs {
			// Twice: the second pass reads the hits kept on the record.
			for pass := 0; pass < 2; pass++ {
				for i, m := range ms {
					if got, want := compiled[i](r), refMatch(t, r, m); got != want {
						t.Fatalf("record %d, pass %d: %+v: got %v, want %v", ri, pass, m, got, want)
					}
				}
			}
			r.Release()
		}
	}
}

// A rule compiled after a record was evaluated must see its own values:
// the record's hits are per version of the set.
func TestLiteralSetGrowsBetweenEvaluations(t *testing.T) {
	r := rec(t, `{"TimeGenerated":"2026-11-20T09:00:00Z","Type":"SigninLogs","ResultType":"50126"}`)
	c := NewCompiler()
	a, _ := c.Compile(Eq("ResultType", "0"))
	if a(r) {
		t.Fatal("0 matched 50126")
	}
	b, _ := c.Compile(Eq("ResultType", "50126"))
	if !b(r) || a(r) {
		t.Fatal("the second rule's value was not looked up")
	}
}

func TestIndexFoldLower(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := "aAbB-_ zZ0"
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		n := make([]byte, rng.IntN(4))
		for j := range n {
			n[j] = alphabet[rng.IntN(len(alphabet))]
		}
		lower := strings.ToLower(string(n))
		want := bytes.Index(bytes.ToLower(b), []byte(lower))
		if got := indexFoldLower(b, lower); got != want {
			t.Fatalf("indexFoldLower(%q, %q) = %d, want %d", b, lower, got, want)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	r := rec(t, `{"TimeGenerated":"2026-11-20T09:00:00Z","Type":"SigninLogs","ResultType":50126,"Status":{"errorCode":50126},"UserAgent":"AzureHound/2.0","NetworkLocationDetails":[]}`)
	c := NewCompiler()
	var ms []Matcher
	for _, e := range []Expr{
		Eq("ResultType", "0", "50126"), Eq("ResultType", "53003"),
		Match{Field: "Status", Op: Contains, Values: []string{"MFA denied"}},
		Match{Field: "UserAgent", Op: Contains, Values: []string{"azurehound", "bav2ropc"}},
		Eq("NetworkLocationDetails", "[]"),
	} {
		m, err := c.Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	run := func() {
		for _, m := range ms {
			m(r)
		}
		r.Release()
	}
	run()
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("%v allocations per record, want 0", n)
	}
	_ = fmt.Sprint
}
