package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and keeps its promises on any
// input: either a configuration or *Errors with positioned, bounded
// messages; and that resolving a decoded configuration never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Example))
	f.Add([]byte(secretsConfig))
	f.Add([]byte("server: {listen: '0.0.0.0:1', token: inline}\ntenants: [{name: A, auth: {method: x}}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("x: &x {a: 1}\ny: {<<: *x, b: 2}\n"))
	f.Add([]byte("---\n---\nlog: {}\n"))
	f.Add([]byte("sinks: [{name: s, type: webhook, url: {env: U}, headers: {'bad name': v, X: [1]}}]\n"))
	f.Add([]byte("detections: {stale_after: 99999d2562047h}\nalerts: {group_window: '-0'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not *Errors: %v", err, err)
			}
			if len(errs.List) == 0 || len(errs.List) > maxProblems+1 {
				t.Fatalf("%d problems", len(errs.List))
			}
			for _, p := range errs.List {
				if p.Line < 0 || p.Col < 0 || p.Msg == "" || len(p.Msg) > 2000 {
					t.Fatalf("bad problem %d:%d %q", p.Line, p.Col, p.Msg)
				}
			}
			return
		}
		for _, w := range c.Warnings {
			if w.Msg == "" || len(w.Msg) > 2000 {
				t.Fatalf("bad warning %q", w.Msg)
			}
		}
		_ = c.ResolveSecrets(func(k string) string { return strings.Repeat("v", len(k)%3) }, func(string) ([]byte, error) { return nil, os.ErrNotExist })
	})
}
