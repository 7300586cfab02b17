package record

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// TestClassifyKeysListEveryCase checks that classifyKeys, from which the
// filter in front of Classify's switch is built, holds every case of the
// switch: a case missing from it would never be reached.
func TestClassifyKeysListEveryCase(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "classify.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "Classify" {
			return true
		}
		ast.Inspect(fn, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						cases = append(cases, s)
					}
				}
			}
			return true
		})
		return false
	})
	if len(cases) < 40 {
		t.Fatalf("found %d string cases in Classify; has the switch moved?", len(cases))
	}
	for _, c := range cases {
		if !slices.Contains(classifyKeys, c) {
			t.Errorf("case %q of Classify's switch is missing from classifyKeys", c)
		}
		if len(c) > maxClassifyKey || classifyFilter[len(c)]&(1<<((c[0]|0x20)&63)) == 0 {
			t.Errorf("the filter drops %q", c)
		}
	}
	if len(cases) != len(classifyKeys) {
		t.Errorf("%d cases, %d classifyKeys", len(cases), len(classifyKeys))
	}
}
