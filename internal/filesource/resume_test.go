package filesource

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func syslogLines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(sl(fmt.Sprintf("m%d", i)))
	}
	return b.String()
}

func wantRecords(file string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s:%d:m%d", file, i, i))
	}
	return out
}

func TestRestart(t *testing.T) {
	tests := []struct {
		name string
		// failAt makes that emit fail during the first run's second poll,
		// as a crash before the batch was stored.
		failAt int
	}{
		{name: "clean restart"},
		{name: "crash while storing the first batch", failAt: 1},
		{name: "crash while storing a later batch", failAt: 2},
		{name: "crash while storing the last batch", failAt: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.write("auth.log", syslogLines(1, 10))
			got := e.poll()
			e.append("auth.log", syslogLines(11, 1200))
			if tt.failAt > 0 {
				e.sink.failAt = e.sink.calls + tt.failAt
				if err := e.src.PollOnce(context.Background(), e.sink.emit); err == nil || !strings.Contains(err.Error(), "database is locked") {
					t.Fatalf("PollOnce with a failing store: got %v, want the store's error", err)
				}
			}
			got = append(got, e.sink.take()...)
			e.restart()
			e.append("auth.log", syslogLines(1201, 1210))
			got = append(got, e.poll()...)
			if want := wantRecords("auth.log", 1, 1210); !slices.Equal(got, want) {
				t.Errorf("got %d records, want each of the %d once in order; first differences: %q", len(got), len(want), firstDiff(got, want))
			}
			if got := e.poll(); len(got) > 0 {
				t.Errorf("records again after the restart: %q", got)
			}
		})
	}
}

func firstDiff(got, want []string) []string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return []string{"got " + got[i], "want " + want[i]}
		}
	}
	if len(got) > len(want) {
		return got[len(want):min(len(got), len(want)+3)]
	}
	if len(want) > len(got) {
		return []string{"missing " + want[len(got)]}
	}
	return nil
}

func TestBatches(t *testing.T) {
	e := newEnv(t)
	var sizes []int
	var last *fileState
	e.write("auth.log", syslogLines(1, 1234))
	err := e.src.PollOnce(context.Background(), func(ctx context.Context, b *Batch) error {
		sizes = append(sizes, len(b.Records))
		if len(b.Cursors) != 1 || b.Cursors[0].Name != "file:test:"+e.path("auth.log") {
			t.Fatalf("cursors %v, want the file's", b.Cursors)
		}
		st, err := decodeState(b.Cursors[0].Value)
		if err != nil {
			t.Fatal(err)
		}
		// The cursor is right after the batch's last record.
		if n := b.Records[len(b.Records)-1].Line; st.Line != n {
			t.Errorf("batch ending on line %d has its cursor after line %d", n, st.Line)
		}
		last = st
		return e.sink.emit(ctx, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{500, 500, 234}) {
		t.Errorf("batch sizes %v, want 500, 500, 234", sizes)
	}
	if fi, _ := os.Stat(e.path("auth.log")); last == nil || last.Off != fi.Size() {
		t.Errorf("last cursor %+v, want the file's end", last)
	}
	if s := e.src.Stats(); s.Records != 1234 || s.Batches != 3 || s.Files != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestCSVHeaderRemembered(t *testing.T) {
	e := newEnv(t)
	header := "TimeGenerated [UTC],Id,OperationName,UserPrincipalName\r\n"
	e.write("signins.csv", "\ufeff"+header+"2026-11-27T10:00:00Z,r1,Sign-in activity,a@contoso.com\r\n2026-11-27T10:01:00Z,r2,Sign-in")
	if got := e.poll(); !slices.Equal(got, []string{"signins.csv:2:r1"}) {
		t.Fatalf("got %q", got)
	}
	e.restart()
	e.append("signins.csv", " activity,b@contoso.com\r\n2026-11-27T10:02:00Z,r3,\"multi\nline\",c@contoso.com\r\n2026-11-27T10:03:00Z,r4,\"still")
	if got := e.poll(); !slices.Equal(got, []string{"signins.csv:3:r2", "signins.csv:4:r3"}) {
		t.Fatalf("after the restart: got %q", got)
	}
	e.append("signins.csv", " open\",d@contoso.com\r\n")
	var rec []Record
	e.src.PollOnce(context.Background(), func(ctx context.Context, b *Batch) error { rec = append(rec, b.Records...); return e.sink.emit(ctx, b) })
	if got := e.sink.take(); !slices.Equal(got, []string{"signins.csv:6:r4"}) {
		t.Fatalf("a quoted field across appends: got %q", got)
	}
	v := fastjson.MustParseBytes(rec[0].Data)
	if got := string(v.GetStringBytes("UserPrincipalName")); got != "d@contoso.com" {
		t.Errorf("the appended row read by its header: UserPrincipalName %q in %s", got, rec[0].Data)
	}
	if !strings.Contains(string(rec[0].Raw), "UserPrincipalName") {
		t.Errorf("Raw %s does not keep the header's names", rec[0].Raw)
	}
	if len(e.sink.problems) > 0 {
		t.Errorf("problems: %q", e.sink.problems)
	}
}

func TestGraphPageReadOnceQuiet(t *testing.T) {
	page := `{
  "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
  "value": [
    {"id": "s1", "createdDateTime": "2026-11-27T10:00:00Z"},
    {"id": "s2", "createdDateTime": "2026-11-27T10:01:00Z"}
  ]
}`
	e := newEnv(t)
	e.write("page.json", page)
	e.write("compact.json", `{"@odata.context":"x","value":[{"id":"c1"}]}`+"\n")
	if got := e.poll(); len(got) > 0 {
		t.Fatalf("read before it was quiet: %q", got)
	}
	e.wait(20 * time.Second)
	if got := e.poll(); len(got) > 0 {
		t.Fatalf("read before it was quiet: %q", got)
	}
	e.wait(15 * time.Second)
	want := []string{"compact.json:1:c1", "page.json:4:s1", "page.json:5:s2"}
	if got := e.poll(); !slices.Equal(got, want) {
		t.Fatalf("after quiet: got %q, want %q", got, want)
	}
	e.wait(time.Hour)
	if got := e.poll(); len(got) > 0 {
		t.Fatalf("read twice: %q", got)
	}
	e.restart()
	if got := e.poll(); len(got) > 0 {
		t.Fatalf("read again after a restart: %q", got)
	}
	// A changed document is read whole again, once quiet.
	e.write("page.json", strings.Replace(page, `"s2"`, `"s3"`, 1))
	if got := e.poll(); len(got) > 0 {
		t.Fatalf("changed document read before quiet: %q", got)
	}
	e.wait(time.Minute)
	if got := e.poll(); !slices.Equal(got, []string{"page.json:4:s1", "page.json:5:s3"}) {
		t.Fatalf("changed document: got %q", got)
	}
	// An old document is read at once.
	e.write("old.json", `[{"id":"o1"}]`)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(e.path("old.json"), old, old)
	if got := e.poll(); !slices.Equal(got, []string{"old.json:1:o1"}) {
		t.Fatalf("old document: got %q", got)
	}
}

func TestDocumentResumesAfterCrash(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"value":[`)
	for i := 1; i <= 1200; i++ {
		if i > 1 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"id":"m%d"}`, i)
	}
	b.WriteString("]}")
	e := newEnv(t)
	e.write("page.json", b.String())
	e.wait(time.Minute)
	e.sink.failAt = 2
	if err := e.src.PollOnce(context.Background(), e.sink.emit); err == nil {
		t.Fatal("no error from a failing store")
	}
	got := e.sink.take()
	e.restart()
	got = append(got, e.poll()...)
	if len(got) != 1200 || got[0] != "page.json:1:m1" || got[500] != "page.json:501:m501" || got[1199] != "page.json:1200:m1200" {
		t.Errorf("got %d records (%q…), want each of 1200 once", len(got), got[:min(3, len(got))])
	}
	slices.Sort(got)
	if len(slices.Compact(got)) != 1200 {
		t.Error("records delivered twice")
	}
}

func TestOverlongLines(t *testing.T) {
	t.Run("a 20 MB line is skipped with a problem", func(t *testing.T) {
		e := newEnv(t)
		e.write("PT1H.json", jl("a")+`{"id":"`+strings.Repeat("x", 20<<20)+"\"}\n"+jl("c"))
		if got := e.poll(); !slices.Equal(got, []string{"PT1H.json:1:a", "PT1H.json:3:c"}) {
			t.Fatalf("got %q", got)
		}
		if want := []string{"PT1H.json:2:line too long (over 16777216 bytes), skipped"}; !slices.Equal(e.sink.problems, want) {
			t.Errorf("problems %q, want %q", e.sink.problems, want)
		}
	})
	t.Run("an overlong line written in pieces", func(t *testing.T) {
		e := newEnv(t)
		e.cfg.MaxRecord = 1000
		e.restart()
		e.write("auth.log", sl("one")+strings.Repeat("x", 600))
		if got := e.poll(); !slices.Equal(got, []string{"auth.log:1:one"}) {
			t.Fatalf("got %q", got)
		}
		e.append("auth.log", strings.Repeat("x", 600))
		if got := e.poll(); len(got) > 0 {
			t.Fatalf("got %q", got)
		}
		e.restart()
		e.append("auth.log", strings.Repeat("x", 600))
		if got := e.poll(); len(got) > 0 {
			t.Fatalf("got %q", got)
		}
		e.append("auth.log", "x\n"+sl("three"))
		if got := e.poll(); !slices.Equal(got, []string{"auth.log:3:three"}) {
			t.Fatalf("got %q", got)
		}
		if want := []string{"auth.log:2:line too long (over 1000 bytes), skipped"}; !slices.Equal(e.sink.problems, want) {
			t.Errorf("problems %q, want %q", e.sink.problems, want)
		}
	})
}

func TestProblems(t *testing.T) {
	e := newEnv(t)
	e.write("auth.log", sl("one")+"garbage line\n"+sl("three"))
	e.write("PT1H.json", jl("a")+"{\"id\": broken\n"+jl("c"))
	got := e.poll()
	if want := []string{"PT1H.json:1:a", "PT1H.json:3:c", "auth.log:1:one", "auth.log:3:three"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(e.sink.problems) != 2 || !strings.HasPrefix(e.sink.problems[0], "PT1H.json:2:invalid JSON record: ") || !strings.HasPrefix(e.sink.problems[1], "auth.log:2:not a syslog line") {
		t.Errorf("problems %q, want PT1H.json:2 and auth.log:2 reported", e.sink.problems)
	}
	if s := e.src.Stats(); s.Records != 4 || s.Problems != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestUnreadableReportedOnce(t *testing.T) {
	e := newEnv(t)
	e.write("broken.json.gz", "\x1f\x8b\x08\x00garbage")
	e.write("notes.md", "# notes")
	e.write("photo.bin", "\x00\x01\x02 not a log")
	e.wait(time.Minute)
	for range 3 {
		e.poll()
		e.wait(10 * time.Minute)
	}
	want := []string{
		"broken.json.gz:0:read error: truncated gzip file: the compressed data ends early (an interrupted download or copy?)",
		"photo.bin:0:skipped: not a log format entrawatch reads (set the source's format to force one)",
	}
	slices.Sort(e.sink.problems)
	if !slices.Equal(e.sink.problems, want) {
		t.Errorf("problems %q, want each once: %q", e.sink.problems, want)
	}
	e.sink.problems = nil
	e.write("broken.json.gz", "\x1f\x8b\x08\x00garbage, changed")
	e.poll() // the change is seen
	e.wait(time.Minute)
	e.poll()
	if len(e.sink.problems) != 1 {
		t.Errorf("after a change: problems %q, want one", e.sink.problems)
	}
}

func TestLoginPairedAcrossPolls(t *testing.T) {
	e := newEnv(t)
	e.write("auth.log", "2026-01-12T11:15:58+00:00 vm01 aad_certhandler[3915]: User 'u1' is not a Microsoft Entra user; returning empty result.\n")
	e.poll()
	e.restart() // the pairing context survives a restart too
	e.append("auth.log", "2026-01-12T11:15:59+00:00 vm01 sshd[3916]: Accepted password for u1 from 1.2.3.4 port 1 ssh2\n")
	var rec []Record
	e.src.PollOnce(context.Background(), func(ctx context.Context, b *Batch) error { rec = append(rec, b.Records...); return nil })
	if len(rec) != 1 || rec[0].Line != 2 {
		t.Fatalf("records %v, want the login line alone", rec)
	}
	if v := fastjson.MustParseBytes(rec[0].Data); !strings.Contains(string(v.GetStringBytes("EntraLoginCheck")), "is not a Microsoft Entra user") {
		t.Errorf("login not paired with the module's verdict read at the previous poll: %s", rec[0].Data)
	}
}

func TestDamagedCursor(t *testing.T) {
	e := newEnv(t)
	e.write("auth.log", sl("one"))
	e.sink.cursors.m["file:test:"+e.path("auth.log")] = `{"v":1,"off":-5}`
	if got := e.poll(); !slices.Equal(got, []string{"auth.log:1:one"}) {
		t.Errorf("got %q", got)
	}
	if len(e.sink.problems) != 1 || !strings.Contains(e.sink.problems[0], "stored position ignored") {
		t.Errorf("problems %q", e.sink.problems)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Paths: []string{"x"}}, "a name is required"},
		{Config{Name: "n"}, "no paths"},
		{Config{Name: "n", Paths: []string{"x"}, Format: "nope"}, `unknown input format "nope"`},
		{Config{Name: "n", Paths: []string{"[x"}}, "syntax error in pattern"},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v): %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestRunStopsOnEmitError(t *testing.T) {
	e := newEnv(t)
	e.write("auth.log", sl("one"))
	err := e.src.Run(context.Background(), func(context.Context, *Batch) error { return fmt.Errorf("disk full") })
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Run: %v, want the emit error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.src.Run(ctx, e.sink.emit); err != nil {
		t.Errorf("Run with an ended context: %v", err)
	}
}
