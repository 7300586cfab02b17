package sigma

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/valyala/fastjson"
)

// fuzzRecords are records of each kind a Sigma rule may read, with values
// that the seeds' rules test.
var fuzzRecords = []string{
	`{"createdDateTime":"2026-11-20T10:00:00Z","userPrincipalName":"admin@contoso.com","appDisplayName":"Azure Portal","ipAddress":"203.0.113.7","userAgent":"powershell -enc SW52b2tlLU1pbWlrYXR6","status":{"errorCode":50126},"deviceDetail":{"deviceId":"","isCompliant":false},"authenticationMethodsUsed":["Password"]}`,
	`{"TimeGenerated":"2026-11-20T10:00:00Z","Type":"SigninLogs","ResultType":"0","UserPrincipalName":"alice@contoso.com","DeviceDetail":"{\"isCompliant\":\"false\"}","NetworkLocationDetails":"[]","UserAgent":"cmd /c ping -n 1"}`,
	`{"time":"2026-11-20T10:00:00Z","category":"AuditLogs","operationName":"Add member to role","properties":{"activityDisplayName":"Add member to role","targetResources":[{"type":"User","modifiedProperties":[{"displayName":"Role.DisplayName","newValue":"\"Global Administrator\""}]}]}}`,
	`{"activityDateTime":"2026-11-20T10:00:00Z","activityDisplayName":"Read BitLocker key","initiatedBy":{"user":{"userPrincipalName":"admin@contoso.com"}},"additionalDetails":"[{\"key\":\"path\",\"value\":\"C:\\\\Temp\"}]"}`,
}

// FuzzSigmaRule reads arbitrary bytes as a Sigma rule file: loading and
// compiling never panic, every problem names its file and says what is
// wrong, and every compiled rule runs on records of each kind.
func FuzzSigmaRule(f *testing.F) {
	f.Add([]byte("title: t\nlogsource: {product: azure, service: signinlogs}\ndetection:\n    selection:\n        UserAgent|windash|contains: ' -enc '\n    condition: selection\n"))
	f.Add([]byte("title: t\nlogsource: {product: azure, service: auditlogs}\ndetection:\n    keywords:\n        '|all': [Global, '*Admin?strator']\n    condition: keywords\n"))
	var recs []*record.Record
	for _, s := range fuzzRecords {
		var p fastjson.Parser
		v, err := p.Parse(s)
		if err != nil {
			f.Fatal(err)
		}
		r := &record.Record{Root: v, Raw: []byte(s)}
		r.Classify()
		recs = append(recs, r)
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzSigmaRule(t, b, recs) })
}

// fuzzConfig gives values to the placeholders the seeds use.
var fuzzConfig = Config{Placeholders: map[string][]string{"Administrators": {"admin*", `break\*glass`}, "Env": {"prod"}}}

// fuzzSigmaRule is the body of FuzzSigmaRule.
func fuzzSigmaRule(t *testing.T, b []byte, recs []*record.Record) {
	rules, probs := Parse("fuzz.yml", b)
	dets, cprobs := Compile(rules, rule.NewCompiler(), fuzzConfig)
	for _, p := range append(probs, cprobs...) {
		if p.File != "fuzz.yml" || strings.TrimSpace(p.Msg) == "" {
			t.Fatalf("problem without a file or a message: %#v", p)
		}
		if p.Line < 0 || p.Col < 0 {
			t.Fatalf("problem at a negative position: %#v", p)
		}
	}
	for _, d := range dets {
		for _, r := range recs {
			d.Detect(r, func(a *alert.Alert) {
				if a.Rule == "" || a.Title == "" {
					t.Fatalf("alert without rule or title: %+v", a)
				}
			})
		}
	}
}

// FuzzParseCondition parses arbitrary conditions: no panic, and a parsed
// condition prints back to text that parses to the same tree, and resolves
// (against identifiers of its own and a few more) without panic into an
// expression that compiles and runs.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		"selection", "selection and not filter", "1 of selection_* and not 1 of filter*", "all of them",
		"(a or b) and not (c)", "2 of them", "any of sel_*_main", "not not a", "a or b and c", "selection | count() > 5",
		"((a)", "a)", "1 of", "all of (", "x*", "NOT a AND b OR c",
	} {
		f.Add(s)
	}
	var p fastjson.Parser
	v, err := p.Parse(fuzzRecords[0])
	if err != nil {
		f.Fatal(err)
	}
	rec := &record.Record{Root: v}
	rec.Classify()
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("error without a message")
			}
			return
		}
		text := formatCond(c)
		c2, err := ParseCondition(text)
		if err != nil {
			t.Fatalf("%q parsed, printed as %q which does not: %v", s, text, err)
		}
		if !reflect.DeepEqual(stripPos(c), stripPos(c2)) {
			t.Fatalf("%q parsed, printed as %q which parses differently", s, text)
		}
		searches := map[string]rule.Expr{}
		names := []string{"selection", "selection_a", "filter_1", "_hidden", "keywords"}
		var collect func(Cond)
		collect = func(c Cond) {
			switch c := c.(type) {
			case CondAnd:
				collect(c.L)
				collect(c.R)
			case CondOr:
				collect(c.L)
				collect(c.R)
			case CondNot:
				collect(c.X)
			case CondRef:
				names = append(names, c.Name)
			}
		}
		collect(c)
		for i, n := range names {
			searches[n] = rule.Eq("UserPrincipalName", fmt.Sprintf("u%d", i))
		}
		e, err := resolveCond(c, searches, names)
		if err != nil {
			return
		}
		m, err := rule.NewCompiler().Compile(e)
		if err != nil {
			t.Fatalf("%q resolves to an expression that does not compile: %v", s, err)
		}
		m(rec)
	})
}

// formatCond prints a condition with every operation in parentheses.
func formatCond(c Cond) string {
	switch c := c.(type) {
	case CondAnd:
		return "(" + formatCond(c.L) + " and " + formatCond(c.R) + ")"
	case CondOr:
		return "(" + formatCond(c.L) + " or " + formatCond(c.R) + ")"
	case CondNot:
		return "(not " + formatCond(c.X) + ")"
	case CondRef:
		return c.Name
	case CondOf:
		if c.N == 0 {
			return "(all of " + c.Pattern + ")"
		}
		return fmt.Sprintf("(%d of %s)", c.N, c.Pattern)
	}
	panic(fmt.Sprintf("unknown condition %T", c))
}

// stripPos returns c without its columns.
func stripPos(c Cond) Cond {
	switch c := c.(type) {
	case CondAnd:
		return CondAnd{stripPos(c.L), stripPos(c.R)}
	case CondOr:
		return CondOr{stripPos(c.L), stripPos(c.R)}
	case CondNot:
		return CondNot{stripPos(c.X)}
	case CondRef:
		c.Pos = 0
		return c
	case CondOf:
		c.Pos = 0
		return c
	}
	return c
}
