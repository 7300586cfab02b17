package kql

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/kql")

// TestGolden runs each testdata/kql/*.kql over testdata/kql/fixtures (with
// now() = 2026-11-27T00:00:00Z) and compares its JSON lines with the .jsonl
// beside it.
func TestGolden(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "kql")
	db, _, err := Load(context.Background(), LoadConfig{Paths: []string{filepath.Join(dir, "fixtures")}, Year: 2026,
		Warn: func(m string) { t.Errorf("warning: %s", m) }})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	files, _ := filepath.Glob(filepath.Join(dir, "*.kql"))
	if len(files) == 0 {
		t.Fatal("no golden queries")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".kql")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse(string(src))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(q, db)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := WriteJSON(&got, res); err != nil {
				t.Fatal(err)
			}
			exp := strings.TrimSuffix(f, ".kql") + ".jsonl"
			if *update {
				if err := os.WriteFile(exp, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, got.String(), want)
			}
		})
	}
}
