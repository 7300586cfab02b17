package filesource

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// memCursors is a cursor store in memory that applies the cursors of the
// batches it stores, as the service's store does in one transaction.
type memCursors struct {
	m map[string]string
}

func (c *memCursors) Cursor(_ context.Context, name string) (string, bool, error) {
	v, ok := c.m[name]
	return v, ok, nil
}

// sink stores batches: records and problems, as "file:line:key" strings,
// and cursors. failAt makes the failAt-th emit fail, as a crash would.
type sink struct {
	cursors  *memCursors
	records  []string
	problems []string
	calls    int
	failAt   int
}

func newSink() *sink { return &sink{cursors: &memCursors{m: map[string]string{}}} }

func (k *sink) emit(_ context.Context, b *Batch) error {
	k.calls++
	if k.calls == k.failAt {
		return errors.New("database is locked")
	}
	for _, r := range b.Records {
		k.records = append(k.records, fmt.Sprintf("%s:%d:%s", filepath.Base(r.File), r.Line, recordKey(r)))
	}
	for _, p := range b.Problems {
		k.problems = append(k.problems, fmt.Sprintf("%s:%d:%s", filepath.Base(p.File), p.Line, p.Reason))
	}
	for _, c := range b.Cursors {
		k.cursors.m[c.Name] = c.Value
	}
	return nil
}

// take returns the records stored since the last take.
func (k *sink) take() []string {
	r := k.records
	k.records = nil
	return r
}

// recordKey names a record by its message (syslog), id or Id.
func recordKey(r Record) string {
	v, err := fastjson.ParseBytes(r.Data)
	if err != nil {
		return "invalid JSON: " + err.Error()
	}
	for _, k := range []string{"SyslogMessage", "id", "Id"} {
		if s := v.GetStringBytes(k); s != nil {
			return string(s)
		}
	}
	return string(r.Data)
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// env is a watched folder with a source over it.
type env struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	sink  *sink
	cfg   Config
	src   *Source
}

func newEnv(t *testing.T, paths ...string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &fakeClock{t: time.Now()}, sink: newSink()}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	for i, p := range paths {
		paths[i] = filepath.Join(e.dir, p)
	}
	e.cfg = Config{Name: "test", Paths: paths, Quiet: 30 * time.Second, Clock: e.clock.now}
	e.restart()
	return e
}

// restart makes a new source over the same stored cursors, as a restarted
// service would.
func (e *env) restart() {
	e.t.Helper()
	src, err := New(e.cfg, e.sink.cursors)
	if err != nil {
		e.t.Fatal(err)
	}
	e.src = src
}

func (e *env) poll() []string {
	e.t.Helper()
	if err := e.src.PollOnce(context.Background(), e.sink.emit); err != nil {
		e.t.Fatalf("PollOnce: %v", err)
	}
	return e.sink.take()
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

func (e *env) write(name, data string) {
	e.t.Helper()
	p := e.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) append(name, data string) {
	e.t.Helper()
	f, err := os.OpenFile(e.path(name), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		e.t.Fatal(err)
	}
	f.Close()
}

func (e *env) rename(from, to string) {
	e.t.Helper()
	if err := os.Rename(e.path(from), e.path(to)); err != nil {
		e.t.Fatal(err)
	}
}

// copyTruncate does what logrotate's copytruncate does.
func (e *env) copyTruncate(name, to string) {
	e.t.Helper()
	b, err := os.ReadFile(e.path(name))
	if err != nil {
		e.t.Fatal(err)
	}
	e.write(to, string(b))
	if err := os.Truncate(e.path(name), 0); err != nil {
		e.t.Fatal(err)
	}
}

// gzip compresses a file beside itself and removes it, as logrotate's
// compress does.
func (e *env) gzip(name string) {
	e.t.Helper()
	b, err := os.ReadFile(e.path(name))
	if err != nil {
		e.t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	e.write(name+".gz", buf.String())
	if err := os.Remove(e.path(name)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) wait(d time.Duration) { e.clock.t = e.clock.t.Add(d) }

// sl is a syslog line with message msg.
func sl(msg string) string {
	return "2026-01-12T11:15:58.792703+00:00 vm01 sshd[1581943]: " + msg + "\n"
}

func jl(id string) string {
	return `{"time":"2026-11-27T10:00:00Z","category":"SignInLogs","id":"` + id + `"}` + "\n"
}

func TestFollow(t *testing.T) {
	type step struct {
		name string
		do   func(e *env)
		want []string // records delivered by the poll after do, file:line:key
	}
	tests := []struct {
		name  string
		paths []string // watched, relative to the folder; none: the folder
		steps []step
	}{
		{
			name: "append in pieces keeps a partial line until complete",
			steps: []step{
				{"first line and a half", func(e *env) { e.write("auth.log", sl("one")+"2026-01-12T11:16:00+00:00 vm01 sshd[1]: t") }, []string{"auth.log:1:one"}},
				{"more of the line", func(e *env) { e.append("auth.log", "w") }, nil},
				{"rest of the line", func(e *env) { e.append("auth.log", "o\n"+sl("three")) }, []string{"auth.log:2:two", "auth.log:3:three"}},
				{"nothing new", func(e *env) {}, nil},
			},
		},
		{
			name: "a partial line quiet for long enough is read as final",
			steps: []step{
				{"partial", func(e *env) { e.write("auth.log", sl("one")+strings.TrimSuffix(sl("two"), "\n")) }, []string{"auth.log:1:one"}},
				{"quiet", func(e *env) { e.wait(time.Minute) }, []string{"auth.log:2:two"}},
			},
		},
		{
			name: "rotation by rename and a new file, folder watched",
			steps: []step{
				{"start", func(e *env) { e.write("auth.log", sl("one")+sl("two")) }, []string{"auth.log:1:one", "auth.log:2:two"}},
				{"last line, rotate, new file", func(e *env) {
					e.append("auth.log", sl("three"))
					e.rename("auth.log", "auth.log.1")
					e.write("auth.log", sl("new one"))
				}, []string{"auth.log.1:3:three", "auth.log:1:new one"}},
				{"written to the old file after the rename", func(e *env) { e.append("auth.log.1", sl("late")) }, []string{"auth.log.1:4:late"}},
			},
		},
		{
			name:  "rotation by rename and a new file, only the file watched",
			paths: []string{"auth.log"},
			steps: []step{
				{"start", func(e *env) { e.write("auth.log", sl("one")) }, []string{"auth.log:1:one"}},
				{"last line, rotate, new file", func(e *env) {
					e.append("auth.log", sl("two"))
					e.rename("auth.log", "auth.log.1")
					e.write("auth.log", sl("new one"))
				}, []string{"auth.log.1:2:two", "auth.log:1:new one"}},
				{"rotated file followed until quiet", func(e *env) { e.append("auth.log.1", sl("late")) }, []string{"auth.log.1:3:late"}},
				{"quiet", func(e *env) { e.wait(time.Minute) }, nil},
				{"new file only", func(e *env) { e.append("auth.log", sl("new two")) }, []string{"auth.log:2:new two"}},
			},
		},
		{
			name: "copytruncate: the copy's unread tail is read, the truncated file from 0",
			steps: []step{
				{"start", func(e *env) { e.write("auth.log", sl("one")+sl("two")) }, []string{"auth.log:1:one", "auth.log:2:two"}},
				{"copy, truncate, write", func(e *env) {
					e.append("auth.log", sl("three"))
					e.copyTruncate("auth.log", "auth.log.1")
					e.append("auth.log", sl("new one"))
				}, []string{"auth.log:1:new one", "auth.log.1:3:three"}},
				{"nothing new", func(e *env) {}, nil},
			},
		},
		{
			name:  "copytruncate with only the file watched",
			paths: []string{"auth.log"},
			steps: []step{
				{"start", func(e *env) { e.write("auth.log", sl("one")+sl("two")) }, []string{"auth.log:1:one", "auth.log:2:two"}},
				{"copy, truncate, write", func(e *env) {
					e.copyTruncate("auth.log", "auth.log.1")
					e.append("auth.log", sl("new one"))
				}, []string{"auth.log:1:new one"}},
			},
		},
		{
			name: "copytruncate seen between the copy and the truncation",
			steps: []step{
				{"start", func(e *env) { e.write("auth.log", sl("one")) }, []string{"auth.log:1:one"}},
				{"copy", func(e *env) {
					e.append("auth.log", sl("two"))
					e.write("auth.log.1", sl("one")+sl("two"))
				}, []string{"auth.log:2:two"}},
				{"truncate", func(e *env) {
					e.append("auth.log", sl("three"))
					e.append("auth.log.1", sl("three"))
					os.Truncate(e.path("auth.log"), 0)
				}, []string{"auth.log.1:3:three"}},
			},
		},
		{
			name: "a compressed rotated file is not read again",
			steps: []step{
				{"start", func(e *env) { e.write("auth.log", sl("one")+sl("two")) }, []string{"auth.log:1:one", "auth.log:2:two"}},
				{"rotate", func(e *env) {
					e.rename("auth.log", "auth.log.1")
					e.write("auth.log", sl("new one"))
				}, []string{"auth.log:1:new one"}},
				{"compress", func(e *env) { e.gzip("auth.log.1") }, nil},
				{"quiet", func(e *env) { e.wait(time.Minute) }, nil},
				{"an unrelated compressed log is read", func(e *env) {
					e.write("other.log", sl("other"))
					e.gzip("other.log")
					e.wait(time.Minute)
				}, []string{"other.log.gz:1:other"}},
			},
		},
		{
			name: "a compressed rotation reads only the lines not read before",
			steps: []step{
				{"start", func(e *env) { e.write("auth.log", sl("one")) }, []string{"auth.log:1:one"}},
				{"last line, rotate and compress at once", func(e *env) {
					e.append("auth.log", sl("two"))
					e.rename("auth.log", "auth.log.1")
					e.gzip("auth.log.1")
				}, nil},
				{"quiet", func(e *env) { e.wait(time.Minute) }, []string{"auth.log.1.gz:2:two"}},
			},
		},
		{
			name: "storage-account export layout: append blobs and new hours",
			steps: []step{
				{"first hour", func(e *env) {
					e.write("insights-logs-signinlogs/resourceId=/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.AADIAM/y=2026/m=11/d=27/h=10/m=00/PT1H.json", jl("a")+jl("b"))
				}, []string{"PT1H.json:1:a", "PT1H.json:2:b"}},
				{"the blob grows", func(e *env) {
					e.append("insights-logs-signinlogs/resourceId=/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.AADIAM/y=2026/m=11/d=27/h=10/m=00/PT1H.json", jl("c"))
				}, []string{"PT1H.json:3:c"}},
				{"next hour", func(e *env) {
					e.write("insights-logs-signinlogs/resourceId=/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.AADIAM/y=2026/m=11/d=27/h=11/m=00/PT1H.json", jl("d"))
				}, []string{"PT1H.json:1:d"}},
				{"hidden and temporary files are left alone", func(e *env) {
					e.write("insights-logs-signinlogs/.PT1H.json.swp", jl("x"))
					e.write("insights-logs-signinlogs/PT1H.json.tmp", jl("y"))
					e.write("insights-logs-signinlogs/PT1H.json~", jl("z"))
				}, nil},
			},
		},
		{
			name: "a replaced blob whose content grew goes on where it was",
			steps: []step{
				{"first", func(e *env) { e.write("PT1H.json", jl("a")+jl("b")) }, []string{"PT1H.json:1:a", "PT1H.json:2:b"}},
				{"replaced by a longer copy", func(e *env) {
					e.write("PT1H.json.new", jl("a")+jl("b")+jl("c"))
					e.rename("PT1H.json.new", "PT1H.json")
				}, []string{"PT1H.json:3:c"}},
			},
		},
		{
			name: "a restart after a rotation reads neither file again",
			steps: []step{
				{"start", func(e *env) { e.write("auth.log", sl("one")) }, []string{"auth.log:1:one"}},
				{"rotate", func(e *env) {
					e.rename("auth.log", "auth.log.1")
					e.write("auth.log", sl("new one"))
				}, []string{"auth.log:1:new one"}},
				{"restart", func(e *env) { e.restart() }, nil},
				{"both grow", func(e *env) {
					e.append("auth.log.1", sl("late"))
					e.append("auth.log", sl("new two"))
				}, []string{"auth.log.1:2:late", "auth.log:2:new two"}},
			},
		},
		{
			name: "a document replaced by a line file is read as lines",
			steps: []step{
				{"an old document is read at once", func(e *env) { e.write("export.json", `[{"id":"d1"}]`); e.wait(time.Minute) }, []string{"export.json:1:d1"}},
				{"replaced by JSON lines", func(e *env) {
					os.Remove(e.path("export.json"))
					e.write("export.json", jl("l1"))
				}, []string{"export.json:1:l1"}},
				{"appended", func(e *env) { e.append("export.json", jl("l2")) }, []string{"export.json:2:l2"}},
			},
		},
		{
			name: "list envelopes on lines (Event Hubs capture) give their elements",
			steps: []step{
				{"two lines", func(e *env) {
					e.write("capture.json", `{"records":[{"id":"a"},{"id":"b"}]}`+"\n"+`{"records":[{"id":"c"}]}`+"\n")
				}, []string{"capture.json:1:a", "capture.json:1:b", "capture.json:2:c"}},
				{"appended", func(e *env) { e.append("capture.json", `{"records":[{"id":"d"}]}`+"\n") }, []string{"capture.json:3:d"}},
			},
		},
		{
			name: "compressed JSON lines",
			steps: []step{
				{"written and compressed", func(e *env) {
					e.write("PT1H.json", jl("a")+`{"records":[{"id":"b"}]}`+"\n")
					e.gzip("PT1H.json")
					e.wait(time.Minute)
				}, []string{"PT1H.json.gz:1:a", "PT1H.json.gz:2:b"}},
			},
		},
		{
			name:  "glob patterns",
			paths: []string{"*.log"},
			steps: []step{
				{"two logs and another file", func(e *env) {
					e.write("a.log", sl("a"))
					e.write("b.log", sl("b"))
					e.write("c.json", jl("c"))
				}, []string{"a.log:1:a", "b.log:1:b"}},
				{"a new match", func(e *env) { e.write("d.log", sl("d")) }, []string{"d.log:1:d"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.paths...)
			for _, s := range tt.steps {
				s.do(e)
				got := e.poll()
				slices.Sort(got)
				want := slices.Clone(s.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: got records %q, want %q (problems %q)", s.name, got, want, e.sink.problems)
				}
			}
			if len(e.sink.problems) > 0 {
				t.Errorf("problems: %q", e.sink.problems)
			}
		})
	}
}

func TestRotatedFileLetGoWhenQuiet(t *testing.T) {
	e := newEnv(t, "auth.log")
	e.write("auth.log", sl("one"))
	e.poll()
	e.rename("auth.log", "auth.log.1")
	e.write("auth.log", sl("new one"))
	e.poll()
	if _, ok := e.src.files[e.path("auth.log.1")]; !ok {
		t.Fatal("the rotated file is not followed")
	}
	e.wait(time.Minute)
	e.poll()
	if _, ok := e.src.files[e.path("auth.log.1")]; ok {
		t.Error("the rotated file, quiet and read to its end, is still followed")
	}
	if s := e.src.Stats(); s.Files != 1 {
		t.Errorf("Stats().Files = %d after the rotated file was let go, want 1", s.Files)
	}
}
