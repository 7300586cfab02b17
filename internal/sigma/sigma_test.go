package sigma

import (
	"github.com/entrawatch/entrawatch/internal/testenv"
	"path/filepath"
	"testing"

	"github.com/entrawatch/entrawatch/internal/rule"
)

func TestCorpusRulesLoad(t *testing.T) {
	dir := testenv.Corpus(t)
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
