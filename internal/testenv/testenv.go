// Package testenv gives tests the public conformance corpus they run
// against: the folder ENTRAWATCH_CORPUS names (CI points it at
// ../shared/corpus). Without it the tests skip with a clear message; with
// ENTRAWATCH_REQUIRE_INTEGRATION set, as in CI, the skip is a failure.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the repository's root folder.
var RepoRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}()

// Corpus returns the corpus folder (a relative ENTRAWATCH_CORPUS is taken
// from the repository root), or skips the test.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ENTRAWATCH_CORPUS")
	if dir == "" {
		msg := "ENTRAWATCH_CORPUS is not set: skipping a test over the public corpus (set it to the corpus folder, e.g. ENTRAWATCH_CORPUS=../shared/corpus, relative to the repository root)"
		if os.Getenv("ENTRAWATCH_REQUIRE_INTEGRATION") != "" {
			t.Fatal(msg + "; ENTRAWATCH_REQUIRE_INTEGRATION makes this a failure")
		}
		t.Skip(msg)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(RepoRoot, dir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("ENTRAWATCH_CORPUS=%s is not a folder", os.Getenv("ENTRAWATCH_CORPUS"))
	}
	return dir
}
