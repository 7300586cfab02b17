package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/entrawatch/entrawatch/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	var dirs sync.Map // *testing.T → its database folder
	storetest.Run(t, func(t *testing.T) store.Store {
		dir, _ := dirs.LoadOrStore(t, t.TempDir())
		s, err := Open(context.Background(), filepath.Join(dir.(string), "entrawatch.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	s := openTest(t, path)
	na := store.NewAlert{
		Alert:    &alert.Alert{Rule: "r", Title: "T", Severity: alert.High, Time: storetest.T0, Summary: "S", Details: []alert.Detail{{Name: "b", Value: "1"}, {Name: "a", Value: "2"}}, Record: []byte(`{"x":1}`)},
		Tenant:   "contoso",
		Key:      "k",
		Group:    "g",
		EventIDs: []store.EventRef{{Kind: "signIn", ID: "e1"}},
	}
	r, err := s.Commit(ctx, &store.Batch{
		Events:  []store.Event{{Tenant: "contoso", Source: "graph/signins", Kind: "signIn", ID: "e1", Time: storetest.T0, Raw: []byte(`{"id":"e1"}`)}},
		Alerts:  []store.NewAlert{na},
		Cursors: []store.Cursor{{Name: "graph/signins", Value: "v1"}},
		Route:   func(*store.Alert) []string { return []string{"webhook"} },
		Now:     storetest.T0,
	})
	if err != nil {
		t.Fatal(err)
	}
	id := r.Created[0].ID
	if _, err := s.SetStatus(ctx, id, store.StatusAcknowledged, "ann", "mine"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDevices(ctx, "contoso", []store.Device{{ID: "d1", DisplayName: "PC"}}, true); err != nil {
		t.Fatal(err)
	}
	before, err := s.Alert(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}

	s = openTest(t, path)
	after, err := s.Alert(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", before) != fmt.Sprintf("%+v", after) {
		t.Errorf("alert after reopening:\n%+v\nwant\n%+v", after, before)
	}
	if v, _, _ := s.Cursor(ctx, "graph/signins"); v != "v1" {
		t.Errorf("cursor after reopening = %q, want v1", v)
	}
	if d, _ := s.Deliveries(ctx, id); len(d) != 1 || d[0].Sink != "webhook" {
		t.Errorf("deliveries after reopening = %+v", d)
	}
	if devs, _, _ := s.Devices(ctx, store.DeviceFilter{}); len(devs) != 1 || devs[0].DisplayName != "PC" {
		t.Errorf("devices after reopening = %+v", devs)
	}
	if h, _ := s.DeviceHistory(ctx, "contoso", "d1"); len(h) != 1 {
		t.Errorf("device history after reopening = %+v", h)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	s := openTest(t, path)
	var versions []int
	rows, err := s.r.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	rows.Close()
	if len(versions) != SchemaVersion() || versions[len(versions)-1] != SchemaVersion() {
		t.Fatalf("schema_migrations = %v, want 1…%d", versions, SchemaVersion())
	}
	for _, p := range []string{"journal_mode", "foreign_keys", "synchronous", "busy_timeout"} {
		var v string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000"}[p]
		if v != want {
			t.Errorf("PRAGMA %s = %s, want %s", p, v, want)
		}
	}
	if _, err := s.r.ExecContext(ctx, "DELETE FROM cursors"); err == nil {
		t.Error("the read pool can write, want it read-only")
	}
	// A database from a newer entrawatch.
	if _, err := s.w.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied) VALUES (?, 'future', 0)", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer database: %v, want an error naming the path and saying it is newer", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o600)
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600)
	for _, path := range []string{"", ":memory:", filepath.Join(dir, "missing", "x.db"), filepath.Join(notDir, "x.db"), garbage} {
		s, err := Open(context.Background(), path, Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%q): %v, want the path in the error", path, err)
		}
	}
}

func TestPathWithURIChars(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a ?b#c%20d&e=f.db")
	s := openTest(t, path)
	if _, err := s.Commit(context.Background(), &store.Batch{Cursors: []store.Cursor{{Name: "c", Value: "v"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at the path given: %v", err)
	}
}

func TestTimes(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "x.db"))
	local := time.FixedZone("X", 3600)
	tests := []struct {
		in, want time.Time
	}{
		{time.Time{}, time.Time{}},
		{time.Date(2024, 5, 1, 14, 0, 0, 123456789, local), time.Date(2024, 5, 1, 13, 0, 0, 123456789, time.UTC)},
		{time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), minTime.UTC()},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), maxTime.UTC()},
	}
	for i, tt := range tests {
		id := strconv.Itoa(i)
		if err := s.PutDevices(ctx, "t", []store.Device{{ID: id, LastSignIn: tt.in}}, false); err != nil {
			t.Fatal(err)
		}
		devs, _, err := s.Devices(ctx, store.DeviceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := devs[i].LastSignIn
		if !got.Equal(tt.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("time %v read back as %v, want %v in UTC", tt.in, got, tt.want)
		}
	}
}

// crashEnv names the database a re-executed test binary writes to until it
// is killed.
const crashEnv = "ENTRAWATCH_SQLITE_CRASH_DB"

const crashEvents = 500

// TestCrash kills a process writing batches with SIGKILL and checks that
// the database is sound and holds every batch it reported committed,
// each whole, and no part of any other.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	reported := 0
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			reported, _ = strconv.Atoi(n)
			if reported >= 20 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if reported < 20 {
		t.Fatalf("the writer reported %d batches before ending, want 20", reported)
	}

	s := openTest(t, path)
	ctx := context.Background()
	var check string
	if err := s.r.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var fk int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&fk); err != nil || fk != 0 {
		t.Fatalf("foreign_key_check: %d violations, %v", fk, err)
	}
	v, ok, err := s.Cursor(ctx, "crash")
	if err != nil || !ok {
		t.Fatalf("cursor: %q %v %v", v, ok, err)
	}
	n, _ := strconv.Atoi(v)
	if n < reported {
		t.Fatalf("cursor %d, but the writer reported batch %d committed", n, reported)
	}
	count := func(q string, args ...any) int {
		var c int
		if err := s.r.QueryRowContext(ctx, q, args...).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if e, a, o := count("SELECT count(*) FROM events"), count("SELECT count(*) FROM alerts"), count("SELECT count(*) FROM outbox"); e != n*crashEvents || a != n || o != n {
		t.Fatalf("after the crash: %d events, %d alerts, %d deliveries; want %d batches whole: %d, %d, %d", e, a, o, n, n*crashEvents, n, n)
	}
	for b := 1; b <= n; b++ {
		if c := count("SELECT count(*) FROM events WHERE id LIKE ?", fmt.Sprintf("b%d-%%", b)); c != crashEvents {
			t.Errorf("batch %d has %d events, want %d", b, c, crashEvents)
		}
	}
	t.Logf("killed after batch %d reported, %d committed", reported, n)
}

// crashChild commits batches to path until killed (or a minute passes),
// reporting each on stdout.
func crashChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	deadline := time.Now().Add(time.Minute)
	for i := 1; time.Now().Before(deadline); i++ {
		b := &store.Batch{Cursors: []store.Cursor{{Name: "crash", Value: strconv.Itoa(i)}}, Route: func(*store.Alert) []string { return []string{"webhook"} }}
		for j := range crashEvents {
			b.Events = append(b.Events, store.Event{Tenant: "t", Kind: "signIn", ID: fmt.Sprintf("b%d-%d", i, j), Time: storetest.T0, Raw: []byte(`{"padding":"` + strings.Repeat("x", 200) + `"}`)})
		}
		b.Alerts = []store.NewAlert{{Alert: &alert.Alert{Rule: "r", Time: storetest.T0}, Tenant: "t", Key: fmt.Sprintf("k%d", i), EventIDs: []store.EventRef{{Kind: "signIn", ID: fmt.Sprintf("b%d-0", i)}}}}
		if _, err := s.Commit(ctx, b); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("committed %d\n", i)
	}
	os.Exit(0)
}

func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	raw := []byte(`{"id":"00000000-0000-0000-0000-000000000000","createdDateTime":"2024-05-01T12:00:00Z","userPrincipalName":"user@contoso.com","appDisplayName":"Office 365","ipAddress":"203.0.113.7","status":{"errorCode":0}}`)
	route := func(*store.Alert) []string { return []string{"webhook"} }
	n := 0
	for i := 0; b.Loop(); i++ {
		batch := &store.Batch{Route: route, GroupWindow: time.Hour, Cursors: []store.Cursor{{Name: "graph/signins", Value: strconv.Itoa(i)}}}
		for j := range 500 {
			batch.Events = append(batch.Events, store.Event{Tenant: "contoso", Source: "graph/signins", Kind: "signIn", ID: fmt.Sprintf("%d-%d", i, j), Time: storetest.T0, Raw: raw})
		}
		for j := range 5 {
			batch.Alerts = append(batch.Alerts, store.NewAlert{
				Alert:    &alert.Alert{Rule: "r", Severity: alert.Medium, Time: storetest.T0.Add(time.Duration(i) * time.Second), Record: raw},
				Tenant:   "contoso",
				Key:      fmt.Sprintf("k%d-%d", i, j),
				Group:    fmt.Sprintf("g%d", j),
				EventIDs: []store.EventRef{{Kind: "signIn", ID: fmt.Sprintf("%d-%d", i, j)}},
			})
		}
		if _, err := s.Commit(ctx, batch); err != nil {
			b.Fatal(err)
		}
		n += 500
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
