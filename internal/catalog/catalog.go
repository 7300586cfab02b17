// Package catalog holds entrawatch's built-in detections written as Sigma
// documents (rules/*.yml, embedded in the binary) and registers them with
// package detect, beside the stateful detections written in Go. Each
// document carries the catalogue fields: its level is the guide's risk, its
// tags the ATT&CK technique, and the custom attributes data_source and next
// the data it reads and what to look at next.
package catalog

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/sigma"
)

//go:embed rules/*.yml
var files embed.FS

// Rules returns the built-in Sigma documents by file name.
func Rules() map[string][]byte {
	out := map[string][]byte{}
	names, _ := fs.Glob(files, "rules/*.yml")
	for _, n := range names {
		b, _ := files.ReadFile(n)
		out[path.Base(n)] = b
	}
	return out
}

// Source returns the Sigma text of the built-in detection id.
func Source(id string) (string, bool) {
	b, ok := Rules()[id+".yml"]
	return string(b), ok
}

func init() { detect.RegisterBuiltins(builtins) }

// builtins compiles the embedded documents with the engine's compiler.
func builtins(c *rule.Compiler, _ detect.Options) ([]detect.Detector, error) {
	rs := Rules()
	names := make([]string, 0, len(rs))
	for n := range rs {
		names = append(names, n)
	}
	sort.Strings(names)
	var rules []*sigma.Rule
	for _, n := range names {
		parsed, probs := sigma.Parse("builtin:"+n, rs[n])
		if len(probs) > 0 {
			return nil, fmt.Errorf("built-in rule %s: %v", n, probs[0])
		}
		rules = append(rules, parsed...)
	}
	dets, probs := sigma.Compile(rules, c, sigma.Config{})
	if len(probs) > 0 {
		return nil, fmt.Errorf("built-in rule: %v", probs[0])
	}
	out := make([]detect.Detector, 0, len(dets))
	for _, d := range dets {
		d.Describe = detect.Describe(d.Info().ID)
		if d.Describe == nil {
			return nil, fmt.Errorf("built-in rule %s has no description in package detect", d.Info().ID)
		}
		out = append(out, d)
	}
	return out, nil
}
