package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	_ "github.com/entrawatch/entrawatch/internal/catalog"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/scan"
	"github.com/entrawatch/entrawatch/internal/serve"
)

// serveConfig is a configuration pointing at the fake Graph server.
func serveConfig(t *testing.T, fg *fakeGraph, dir string) string {
	t.Helper()
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
store:
  path: %s
tenants:
  - name: fake
    tenant_id: %s
    endpoints:
      login: %s
      graph: %s
    ca_file: %s
    auth:
      method: client_secret
      client_id: 11111111-1111-1111-1111-111111111111
      client_secret: {env: FAKE_GRAPH_SECRET}
    signins: {interval: 1s, overlap: 87600h}
    audits: {interval: 1s, overlap: 87600h}
    devices: {interval: 1s}
    policies: {interval: 1s}
    roles: {interval: 1s}
    start: 87600h
sinks:
  - name: out
    type: file
    path: %s
`, filepath.Join(dir, "entrawatch.db"), fakeTenant, fg.srv.URL, fg.srv.URL, fg.caPEM(t), filepath.Join(dir, "alerts.jsonl"))
	p := filepath.Join(dir, "entrawatch.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_GRAPH_SECRET", fg.secret)
	return p
}

// expectedAlerts runs scan's engine over the records the fake server
// serves: what serve must raise from them, as "rule id" strings, plus the
// policy check's two alerts.
func expectedAlerts(t *testing.T, fg *fakeGraph) []string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, recs []json.RawMessage) {
		b, _ := json.Marshal(map[string]any{"value": recs})
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("signins.json", fg.signIns)
	write("audits.json", fg.audits)
	write("devices.json", fg.devices)
	os.WriteFile(filepath.Join(dir, "policy.json"), []byte(`{"id":"deviceRegistrationPolicy","multiFactorAuthConfiguration":"notRequired","azureADJoin":{"isAdminConfigurable":true}}`), 0o600)
	eng, err := detect.NewEngine(detect.Options{Now: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	_, err = scan.Run(context.Background(), scan.Config{Paths: []string{dir}, Engine: eng, Alert: func(a *alert.Alert) error {
		id := idOf(a.Record)
		if a.Rule == "device-registration-mfa-not-required" {
			id = "deviceRegistrationPolicy"
		}
		got = append(got, a.Rule+" "+id)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, "device-registration-policy-changed -")
	sort.Strings(got)
	return got
}

type apiAlert struct {
	ID       string `json:"id"`
	Rule     string `json:"rule"`
	Count    int    `json:"count"`
	Evidence []struct {
		Record json.RawMessage `json:"record"`
	} `json:"evidence"`
}

// servedAlerts reads every alert of the API with its evidence, as "rule
// record-id" strings: one per record behind an alert, so that a record
// behind two alerts shows twice.
func servedAlerts(t *testing.T, base string) ([]string, error) {
	var list struct {
		Alerts []apiAlert `json:"alerts"`
	}
	if err := getJSON(base+"/api/v1/alerts?limit=1000", &list); err != nil {
		return nil, err
	}
	var out []string
	for _, a := range list.Alerts {
		var full apiAlert
		if err := getJSON(base+"/api/v1/alerts/"+a.ID, &full); err != nil {
			return nil, err
		}
		// A grouped alert carries the records of its repeats.
		if len(full.Evidence) == 0 {
			out = append(out, a.Rule+" -")
		}
		for _, e := range full.Evidence {
			out = append(out, a.Rule+" "+idOf(e.Record))
		}
	}
	sort.Strings(out)
	return out, nil
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return json.Unmarshal(b, v)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last state:\n%s", what, last)
}

// TestServeForeignGraph points serve, as a new user would, at a
// Graph-shaped server that is not entrawatch's own (paging, throttling,
// late and repeated records, a policy switched off without an audit
// record) and checks it raises exactly the expected alerts, once each.
func TestServeForeignGraph(t *testing.T) {
	fg := newFakeGraph(t)
	dir := t.TempDir()
	cfgPath := serveConfig(t, fg, dir)
	want := expectedAlerts(t, fg)
	if len(want) < 8 {
		t.Fatalf("expected only %d alerts from the fixtures: %q", len(want), want)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var base string
	var mu sync.Mutex
	done := make(chan error, 1)
	var out, errw bytes.Buffer
	go func() {
		done <- runService(ctx, Streams{Out: &out, Err: &errw}, cfg, serviceHooks{ready: func(addr string, _ *serve.Service) {
			mu.Lock()
			base = "http://" + addr
			mu.Unlock()
		}})
	}()
	check := func() (bool, string) {
		mu.Lock()
		b := base
		mu.Unlock()
		if b == "" {
			return false, "not listening"
		}
		got, err := servedAlerts(t, b)
		if err != nil {
			return false, err.Error()
		}
		return strings.Join(got, "\n") == strings.Join(want, "\n"), diffText(got, want)
	}
	waitFor(t, 60*time.Second, "the expected alerts", check)
	// More polls read every record again: nothing new may appear.
	fg.mu.Lock()
	n := fg.listings["signIns"]
	fg.mu.Unlock()
	waitFor(t, 30*time.Second, "two more sign-in listings", func() (bool, string) {
		fg.mu.Lock()
		defer fg.mu.Unlock()
		return fg.listings["signIns"] >= n+2, ""
	})
	if ok, msg := check(); !ok {
		t.Fatalf("alerts changed after more polls:\n%s", msg)
	}
	var list struct {
		Alerts []apiAlert `json:"alerts"`
	}
	if err := getJSON(base+"/api/v1/alerts?limit=1000", &list); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, errw.String())
	}
	// Every alert was delivered to the file sink once.
	b, err := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != len(list.Alerts) {
		t.Errorf("file sink got %d alerts, the API has %d", n, len(list.Alerts))
	}
	if strings.Contains(errw.String(), fg.secret) || strings.Contains(out.String(), fg.secret) {
		t.Error("the client secret appears in the service's output")
	}
}

func diffText(got, want []string) string {
	g, w := map[string]int{}, map[string]int{}
	for _, x := range got {
		g[x]++
	}
	for _, x := range want {
		w[x]++
	}
	var b strings.Builder
	for x, n := range g {
		if n != w[x] {
			fmt.Fprintf(&b, "  got %d × %s (want %d)\n", n, x, w[x])
		}
	}
	for x, n := range w {
		if g[x] == 0 {
			fmt.Fprintf(&b, "  missing %d × %s\n", n, x)
		}
	}
	return b.String()
}

// TestServeKilled kills the serving process with SIGKILL while it ingests
// and restarts it: every expected alert exists exactly once afterwards.
func TestServeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "entrawatch")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/entrawatch")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fg := newFakeGraph(t)
	fg.throttle = 4
	dir := t.TempDir()
	cfgPath := serveConfig(t, fg, dir)
	want := expectedAlerts(t, fg)
	start := func() (*exec.Cmd, string, *bytes.Buffer) {
		cmd := exec.Command(bin, "serve", "--config", cfgPath)
		cmd.Env = append(os.Environ(), "FAKE_GRAPH_SECRET="+fg.secret)
		var errw bytes.Buffer
		pr, pw := io.Pipe()
		cmd.Stderr = io.MultiWriter(&errw, pw)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr := make(chan string, 1)
		go func() {
			buf := make([]byte, 4096)
			var acc []byte
			for {
				n, err := pr.Read(buf)
				acc = append(acc, buf[:n]...)
				if i := bytes.Index(acc, []byte("listen=")); i >= 0 {
					rest := acc[i+len("listen="):]
					if j := bytes.IndexAny(rest, " \n"); j > 0 {
						addr <- string(rest[:j])
						io.Copy(io.Discard, pr)
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		select {
		case a := <-addr:
			return cmd, "http://" + a, &errw
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("serve did not start:\n%s", errw.String())
		}
		return nil, "", nil
	}
	cmd, base, errw := start()
	waitFor(t, 60*time.Second, "the first alerts", func() (bool, string) {
		got, err := servedAlerts(t, base)
		return err == nil && len(got) >= 1 && len(got) < len(want), fmt.Sprint(len(got), err)
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	cmd, base, errw = start()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	waitFor(t, 90*time.Second, "every expected alert after the restart", func() (bool, string) {
		got, err := servedAlerts(t, base)
		if err != nil {
			return false, err.Error()
		}
		return strings.Join(got, "\n") == strings.Join(want, "\n"), diffText(got, want) + errw.String()
	})
}

// TestServeSecretsStayHidden gives serve a wrong client secret through the
// environment, with debug logging: the failure is reported (log and
// /api/v1/sources) naming the cause, and the secret appears nowhere.
func TestServeSecretsStayHidden(t *testing.T) {
	fg := newFakeGraph(t)
	dir := t.TempDir()
	cfgPath := serveConfig(t, fg, dir)
	const wrong = "wrong-secret-5d1e7c0a9b"
	t.Setenv("FAKE_GRAPH_SECRET", wrong)
	b, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(b, []byte("log:\n  level: debug\n")...), 0o600)
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errw syncBuffer
	var base string
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		done <- runService(ctx, Streams{Out: &out, Err: &errw}, cfg, serviceHooks{ready: func(addr string, _ *serve.Service) {
			mu.Lock()
			base = "http://" + addr
			mu.Unlock()
		}})
	}()
	var bodies []string
	waitFor(t, 30*time.Second, "a source error naming the rejected secret", func() (bool, string) {
		mu.Lock()
		b := base
		mu.Unlock()
		if b == "" {
			return false, ""
		}
		var src struct {
			Sources []struct {
				Name      string `json:"name"`
				LastError string `json:"last_error"`
			} `json:"sources"`
		}
		if err := getJSON(b+"/api/v1/sources", &src); err != nil {
			return false, err.Error()
		}
		raw, _ := json.Marshal(src)
		bodies = append(bodies, string(raw))
		for _, s := range src.Sources {
			if strings.Contains(s.LastError, "AADSTS7000215") {
				return true, ""
			}
		}
		return false, string(raw)
	})
	cancel()
	<-done
	for _, s := range append(bodies, errw.String(), out.String()) {
		if strings.Contains(s, wrong) {
			t.Fatalf("the client secret appears in the output:\n%s", s)
		}
	}
	if !strings.Contains(errw.String(), "AADSTS7000215") {
		t.Errorf("the log does not name the cause:\n%s", errw.String())
	}
}

// TestServeFiles follows a folder as a file source: an auth.log written in
// two pieces raises its alerts once the lines are complete; the same lines
// appended again (a log shipper replaying) raise nothing new; a restart
// resumes from the stored offsets and raises nothing again.
func TestServeFiles(t *testing.T) {
	src, err := os.ReadFile("../../testdata/detections/linux-vm-non-entra-ssh/positive/auth.log")
	if err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "entrawatch.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`server:
  listen: 127.0.0.1:0
store:
  path: %s
files:
  - name: vms
    paths: [%s]
    poll: 1s
    year: 2026
`, filepath.Join(dir, "entrawatch.db"), logs)), 0o600)
	authLog := filepath.Join(logs, "auth.log")
	half := bytes.LastIndexByte(src[:len(src)/2], '\n') + 1
	// The first half and a partial line.
	os.WriteFile(authLog, src[:half+5], 0o600)

	run := func(check func(base string)) {
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		addr := make(chan string, 1)
		done := make(chan error, 1)
		var errw syncBuffer
		go func() {
			done <- runService(ctx, Streams{Out: io.Discard, Err: &errw}, cfg, serviceHooks{ready: func(a string, _ *serve.Service) { addr <- a }})
		}()
		check("http://" + <-addr)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v\n%s", err, errw.String())
		}
	}
	count := func(base string) int {
		var list struct {
			Alerts []apiAlert `json:"alerts"`
		}
		if err := getJSON(base+"/api/v1/alerts?rule=linux-vm-non-entra-ssh", &list); err != nil {
			t.Fatal(err)
		}
		return len(list.Alerts)
	}
	sources := func(base string) string {
		var v any
		getJSON(base+"/api/v1/sources", &v)
		b, _ := json.Marshal(v)
		return string(b)
	}
	run(func(base string) {
		waitFor(t, 20*time.Second, "the first half read", func() (bool, string) {
			return strings.Contains(sources(base), `"file/vms"`), sources(base)
		})
		f, _ := os.OpenFile(authLog, os.O_APPEND|os.O_WRONLY, 0)
		f.Write(src[half+5:])
		f.Close()
		waitFor(t, 20*time.Second, "both alerts of auth.log", func() (bool, string) {
			return count(base) == 2, fmt.Sprint(count(base), " alerts; sources: ", sources(base))
		})
		f, _ = os.OpenFile(authLog, os.O_APPEND|os.O_WRONLY, 0)
		f.Write(src)
		f.Close()
		// Wait until the replayed lines are read (the source's record count
		// grows), then check nothing new was raised.
		before := sources(base)
		waitFor(t, 20*time.Second, "the replayed lines read", func() (bool, string) {
			return sources(base) != before, sources(base)
		})
		if n := count(base); n != 2 {
			t.Fatalf("replayed lines raised new alerts: %d, want 2", n)
		}
	})
	run(func(base string) {
		time.Sleep(2500 * time.Millisecond) // two polls of the file source
		if n := count(base); n != 2 {
			t.Fatalf("after a restart: %d alerts, want 2", n)
		}
	})
}
