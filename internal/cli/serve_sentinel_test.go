package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/serve"
)

// sentinelServeConfig writes a configuration watching a folder, with the
// given detections.rules paths.
func sentinelServeConfig(t *testing.T, rules ...string) string {
	t.Helper()
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, r := range rules {
		abs, err := filepath.Abs(r)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, "'"+abs+"'")
	}
	cfg := "server:\n  listen: 127.0.0.1:0\nstore:\n  path: '" + filepath.Join(dir, "entrawatch.db") + "'\n" +
		"files:\n  - {name: exports, paths: ['" + logs + "']}\n" +
		"detections:\n  rules: [" + strings.Join(list, ", ") + "]\n"
	p := filepath.Join(dir, "entrawatch.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeRunsSentinelRules checks that serve takes the Sentinel rules of
// detections.rules, beside Sigma rules, as scheduled rules: it starts and
// stops cleanly, and a rule that cannot be used is reported at start with
// the others, all at once.
func TestServeRunsSentinelRules(t *testing.T) {
	rule := sentinelPath("noncompliant-device-signin", "rules")
	cfg, err := loadConfig(sentinelServeConfig(t, rule, sentinelPath("mixed-rules")))
	if err != nil {
		t.Fatal(err)
	}
	_, scheduled, err := engineFactory(cfg)
	if err != nil {
		t.Fatalf("engineFactory: %v", err)
	}
	var ids []string
	for _, r := range scheduled {
		ids = append(ids, r.AlertID())
	}
	if !strings.Contains(strings.Join(ids, " "), "sentinel:5e471f1a-0002-4000-8000-000000000002") {
		t.Errorf("scheduled rules = %q, want the non-compliant device rule among them", ids)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var out, errw syncBuffer
	started := false
	done := make(chan error, 1)
	go func() {
		done <- runService(ctx, Streams{Out: &out, Err: &errw}, cfg, serviceHooks{ready: func(addr string, _ *serve.Service) {
			started = true
			cancel()
		}})
	}()
	if err := <-done; err != nil || !started {
		t.Fatalf("serve with a Sentinel rule = %v (started %v), want a clean start and stop; stderr:\n%s", err, started, errw.String())
	}
	if s := errw.String(); strings.Contains(s, "only") && strings.Contains(s, "scan --rules") {
		t.Errorf("serve refused the Sentinel rule:\n%s", s)
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "bad-sentinel.yaml"), []byte("id: x\nname: bad\nseverity: High\nqueryFrequency: 1h\nqueryPeriod: 1h\nquery: NoSuchTable | take 1\n"), 0o600)
	os.WriteFile(filepath.Join(bad, "bad-sigma.yml"), []byte("title: bad\nlogsource: {product: azure, service: signinlogs}\ndetection: {sel: {UserPrincipalName|nosuchmodifier: x}, condition: sel}\n"), 0o600)
	cfg, err = loadConfig(sentinelServeConfig(t, rule, bad))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = engineFactory(cfg)
	if err == nil || !strings.Contains(err.Error(), "bad-sentinel.yaml") || !strings.Contains(err.Error(), "bad-sigma.yml") {
		t.Errorf("engineFactory with two broken rules = %v, want both reported", err)
	}
}
