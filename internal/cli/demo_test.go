package cli

import (
	"bytes"
	"context"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// entraDetections are the catalogue's detections that read Entra logs and
// Graph state: every one of them must show in the demo (the VM sign-in
// detections read VM logs, which the simulated tenant does not have).
var entraDetections = []string{
	"bitlocker-key-read",
	"device-registration-mfa-not-required",
	"device-registration-policy-changed",
	"device-registration-without-mfa",
	"noncompliant-device-signin",
	"privileged-device-role-added",
	"stale-device",
	"unknown-device-signin",
}

// TestDemo runs the README's first command as a new user would and checks
// that within 90 seconds every Entra detection has raised an alert, both
// on standard output (the stdout sink) and at /api/v1/alerts.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for up to 90 seconds")
	}
	var out, errw syncBuffer
	root := NewRoot(Streams{In: strings.NewReader(""), Out: &out, Err: &errw})
	root.SetArgs([]string{"demo", "--listen", "127.0.0.1:0", "--data", t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v\n%s", err, errw.String())
		}
	}()
	apiRE := regexp.MustCompile(`API: (http://\S+)/api/v1/alerts`)
	var base string
	waitFor(t, 30*time.Second, "the API address", func() (bool, string) {
		m := apiRE.FindStringSubmatch(errw.String())
		if m == nil {
			return false, errw.String()
		}
		base = m[1]
		return true, ""
	})
	waitFor(t, 90*time.Second-time.Since(start), "an alert of every Entra detection", func() (bool, string) {
		var list struct {
			Alerts []apiAlert `json:"alerts"`
		}
		if err := getJSON(base+"/api/v1/alerts?limit=1000", &list); err != nil {
			return false, err.Error()
		}
		seen := map[string]bool{}
		for _, a := range list.Alerts {
			seen[a.Rule] = true
		}
		var missing []string
		for _, r := range entraDetections {
			if !seen[r] || !strings.Contains(out.String(), " "+r+" ") {
				missing = append(missing, r)
			}
		}
		sort.Strings(missing)
		return len(missing) == 0, "missing: " + strings.Join(missing, ", ") + "\nstdout:\n" + out.String()
	})
	t.Logf("every Entra detection fired within %s", time.Since(start).Round(time.Second))
}
