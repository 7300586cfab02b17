package sigma

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/entrawatch/entrawatch/internal/rule"
)

func TestCorpusRulesLoad(t *testing.T) {
	dir := os.Getenv("ENTRAWATCH_CORPUS")
	if dir == "" {
		if os.Getenv("ENTRAWATCH_REQUIRE_INTEGRATION") != "" {
			t.Fatal("ENTRAWATCH_CORPUS is not set")
		}
		t.Skip("ENTRAWATCH_CORPUS not set: skipping the SigmaHQ corpus")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir)
	}
	var paths []string
	for _, d := range []string{"activity_logs", "audit_logs", "identity_protection", "privileged_identity_management", "signin_logs", "other"} {
		paths = append(paths, filepath.Join(dir, "sigma", d))
	}
	rules, probs := LoadPaths(paths)
	dets, cprobs := Compile(rules, rule.NewCompiler(), Config{})
	for _, p := range append(probs, cprobs...) {
		t.Errorf("%v", p)
	}
	if len(dets) != 128 {
		t.Errorf("%d rules compiled, want 128", len(dets))
	}
}
