package rule

import (
	"fmt"
	"testing"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

func rec(t testing.TB, js string) *record.Record {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	r := &record.Record{Root: v}
	r.Classify()
	return r
}

func TestMatchers(t *testing.T) {
	const js = `{"TimeGenerated":"2026-11-20T09:00:00Z","Type":"AuditLogs","OperationName":"Add member to role","Count":"42","IP":"10.1.2.3","Name":"Ünïcode Name",
		"TargetResources":[{"type":"User","modifiedProperties":[{"displayName":"Role.DisplayName","newValue":"\"Global Administrator\""}]}],"Empty":[],"Nested":"{\"a\":{\"b\":\"deep\"}}"}`
	r := rec(t, js)
	tests := []struct {
		name string
		e    Expr
		want bool
	}{
		{"equals ignores case", Eq("operationname", "ADD MEMBER TO ROLE"), true},
		{"cased equals", Match{Field: "OperationName", Op: Equals, Values: []string{"add member to role"}, Cased: true}, false},
		{"prefix", Match{Field: "OperationName", Op: Prefix, Values: []string{"add member"}}, true},
		{"suffix", Match{Field: "OperationName", Op: Suffix, Values: []string{"TO ROLE"}}, true},
		{"contains all", Match{Field: "OperationName", Op: Contains, Values: []string{"add", "role"}, All: true}, true},
		{"contains all, one missing", Match{Field: "OperationName", Op: Contains, Values: []string{"add", "group"}, All: true}, false},
		{"unicode fold", Eq("Name", "ünïcode name"), true},
		{"regex", Match{Field: "OperationName", Op: Regex, Values: []string{`^Add .* role$`}}, true},
		{"cidr", Match{Field: "IP", Op: CIDR, Values: []string{"10.0.0.0/8"}}, true},
		{"cidr outside", Match{Field: "IP", Op: CIDR, Values: []string{"192.168.0.0/16"}}, false},
		{"gt numeric string", Match{Field: "Count", Op: Gt, Values: []string{"41.5"}}, true},
		{"lte", Match{Field: "Count", Op: Lte, Values: []string{"41"}}, false},
		{"null of a missing field", Match{Field: "Missing", Op: Null}, true},
		{"exists", Match{Field: "Count", Op: Exists}, true},
		{"empty array", Match{Field: "Empty", Op: Empty}, true},
		{"'[]' equals an empty array", Eq("Empty", "[]"), true},
		{"path through arrays", Eq("TargetResources.modifiedProperties.newValue", "global administrator"), true},
		{"JSON in a string", Eq("Nested.a.b", "deep"), true},
		{"contains on an array of objects", Match{Field: "TargetResources", Op: Contains, Values: []string{"Role.DisplayName"}}, true},
		{"some element", Some{Field: "TargetResources", Where: Some{Field: "modifiedProperties", Where: And{Eq("displayName", "Role.DisplayName"), Eq("newValue", "Global Administrator")}}}, true},
		{"keyword", Keyword{Op: Contains, Values: []string{"GLOBAL ADMIN"}}, true},
		{"keyword all", Keyword{Op: Contains, Values: []string{"deep", "nothere"}, All: true}, false},
		{"not/or", Or{Not{X: Eq("OperationName", "x")}, Const(false)}, true},
		{"fieldref", Match{Field: "OperationName", Op: FieldRef, Values: []string{"OperationName"}}, true},
	}
	for _, tt := range tests {
		m, err := NewCompiler().Compile(tt.e)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := m(r); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, e := range []Expr{
		Match{Field: "x", Op: Regex, Values: []string{"("}},
		Match{Field: "x", Op: CIDR, Values: []string{"10.0.0.0/99"}},
		Match{Field: "x", Op: Gt, Values: []string{"ten"}},
		Match{Field: "", Op: Equals, Values: []string{"a"}},
		Match{Field: "x", Op: Equals},
		nil,
	} {
		if _, err := NewCompiler().Compile(e); err == nil {
			t.Errorf("%#v compiled", e)
		}
	}
}

func ExampleCompiler() {
	c := NewCompiler() // compile every rule of a set with one compiler, so fields are shared
	m, _ := c.Compile(And{
		Eq("ResourceDisplayName", "Device Registration Service"),
		Match{Field: "ResultType", Op: Zero},
		Not{X: Eq("AuthenticationRequirement", "multiFactorAuthentication")},
	})
	var p fastjson.Parser
	// A Graph sign-in: camelCase, status.errorCode as a number.
	v, _ := p.Parse(`{"createdDateTime":"2026-11-20T08:17:45Z","userPrincipalName":"megan@contoso.com","resourceDisplayName":"Device Registration Service","status":{"errorCode":0},"authenticationRequirement":"singleFactorAuthentication"}`)
	r := &record.Record{Root: v}
	r.Classify()
	fmt.Println(m(r))
	// Output: true
}
