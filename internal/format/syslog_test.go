package format

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

type splitResult struct {
	recs []*record.Record
	errs []string
}

func splitAll(t testing.TB, r Reader, name, in string, opts Options) splitResult {
	t.Helper()
	var res splitResult
	err := r.Split(context.Background(), name, strings.NewReader(in), opts, func(it *Item) error {
		if it.Err != nil {
			res.errs = append(res.errs, it.Err.Error())
			return nil
		}
		if len(it.Data) == 0 {
			t.Fatalf("item without data or error at line %d", it.Line)
		}
		var p fastjson.Parser
		v, err := p.ParseBytes(it.Data)
		if err != nil {
			t.Fatalf("line %d: reader produced invalid JSON %s: %v", it.Line, it.Data, err)
		}
		rec := &record.Record{Root: v, Raw: append([]byte(nil), it.Data...), Source: record.Source{Line: it.Line}}
		rec.Classify()
		res.recs = append(res.recs, rec)
		return nil
	})
	if err != nil {
		res.errs = append(res.errs, "split: "+err.Error())
	}
	return res
}

func field(r *record.Record, name string) string { return record.Text(r.Lookup(name)) }

func TestSyslogForms(t *testing.T) {
	in := "May  9 23:49:39 ubuntu1804 aad_certhandler[3915]: User 'localusertest01' is not an AAD user; returning empty result.\r\n" +
		"May 9 23:49:43 ubuntu1804 sshd[3909]: Accepted publickey for localusertest01 from 192.168.0.15 port 53582 ssh2: RSA SHA256:x\n" +
		"\n" +
		"2026-01-12T11:15:58.792703+00:00 nas1 sshd-session[1581943]: Accepted password for bob from 192.0.2.4 port 5678 ssh2\n" +
		"2024-07-09T15:00:29.099504+02:00 antoine-VirtualBox sshd[19778]: Accepted password for antoine from 127.0.0.1 port 41580 ssh2\n" +
		"this is not syslog\n" +
		"Dec 31 23:59:59 h kernel: last line of the year\n"
	res := splitAll(t, Syslog{}, "auth.log", in, Options{Year: 2024})
	if len(res.errs) != 1 || !strings.Contains(res.errs[0], "line 6: not a syslog line") {
		t.Fatalf("errors: %q", res.errs)
	}
	if len(res.recs) != 5 {
		t.Fatalf("%d records", len(res.recs))
	}
	want := []struct{ time, host, prog, msg, check string }{
		{"2024-05-09T23:49:39Z", "ubuntu1804", "aad_certhandler", "User 'localusertest01' is not an AAD user; returning empty result.", ""},
		{"2024-05-09T23:49:43Z", "ubuntu1804", "sshd", "Accepted publickey for localusertest01 from 192.168.0.15 port 53582 ssh2: RSA SHA256:x", "May  9 23:49:39 ubuntu1804 aad_certhandler[3915]: User 'localusertest01' is not an AAD user; returning empty result."},
		{"2026-01-12T11:15:58.792703Z", "nas1", "sshd-session", "Accepted password for bob from 192.0.2.4 port 5678 ssh2", ""},
		{"2024-07-09T13:00:29.099504Z", "antoine-VirtualBox", "sshd", "Accepted password for antoine from 127.0.0.1 port 41580 ssh2", ""},
		{"2024-12-31T23:59:59Z", "h", "kernel", "last line of the year", ""},
	}
	for i, w := range want {
		r := res.recs[i]
		tm, _ := r.Time()
		got := fmt.Sprintf("%s|%s|%s|%s|%s", tm.Format(time.RFC3339Nano), field(r, "Computer"), field(r, "ProcessName"), field(r, "SyslogMessage"), field(r, "EntraLoginCheck"))
		exp := fmt.Sprintf("%s|%s|%s|%s|%s", w.time, w.host, w.prog, w.msg, w.check)
		if got != exp || r.Kind != record.KindSyslog {
			t.Errorf("record %d:\n got %s (%v)\nwant %s", i, got, r.Kind, exp)
		}
	}
}

func TestSyslogYears(t *testing.T) {
	in := "Dec 31 23:59:58 h sshd[1]: a\nJan  1 00:00:01 h sshd[1]: b\n"
	// --year: the first line is in that year, the rollover moves on.
	res := splitAll(t, Syslog{}, "auth.log", in, Options{Year: 2025})
	for i, want := range []string{"2025-12-31", "2026-01-01"} {
		if tm, _ := res.recs[i].Time(); tm.Format("2006-01-02") != want {
			t.Errorf("--year: line %d at %s, want %s", i+1, tm, want)
		}
	}
	// File time (written on 2026-01-02): December lines are the year before.
	mod := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).Unix()
	res = splitAll(t, Syslog{}, "auth.log", in, Options{ModTime: mod})
	for i, want := range []string{"2025-12-31", "2026-01-01"} {
		if tm, _ := res.recs[i].Time(); tm.Format("2006-01-02") != want {
			t.Errorf("file time: line %d at %s, want %s", i+1, tm, want)
		}
	}
}

func TestSyslogSniff(t *testing.T) {
	for _, tt := range []struct {
		head string
		want Reader
	}{
		{"May  9 23:49:39 host sshd[1]: x\n", Syslog{}},
		{"2026-01-12T11:15:58.792703+00:00 nas1 sshd[1]: x\n", Syslog{}},
		{`{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1","MESSAGE":"x"}` + "\n", Journald{}},
		{`{"a":1}`, JSON{}},
	} {
		if got := Sniff("f", []byte(tt.head)); got == nil || got.Name() != tt.want.Name() {
			t.Errorf("Sniff(%q) = %v, want %s", tt.head, got, tt.want.Name())
		}
	}
}

func TestJournald(t *testing.T) {
	in := `{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1778370579000000","_HOSTNAME":"vm1","SYSLOG_IDENTIFIER":"aad_certhandler","_PID":"3915","MESSAGE":"User 'u1' is not a Microsoft Entra user; returning empty result."}
{"__CURSOR":"s=2","__REALTIME_TIMESTAMP":"1778370583000000","_HOSTNAME":"vm1","SYSLOG_IDENTIFIER":"sshd-session","_PID":"3909","MESSAGE":[65,99,99,101,112,116,101,100,32,112,97,115,115,119,111,114,100,32,102,111,114,32,117,49,32,102,114,111,109,32,49,46,50,46,51,46,52,32,112,111,114,116,32,49,32,115,115,104,50]}
{"__CURSOR":"s=3","MESSAGE":"no time"}
not json
`
	res := splitAll(t, Journald{}, "j.json", in, Options{})
	if len(res.recs) != 2 || len(res.errs) != 2 {
		t.Fatalf("records %d, errors %q", len(res.recs), res.errs)
	}
	r := res.recs[1]
	if field(r, "SyslogMessage") != "Accepted password for u1 from 1.2.3.4 port 1 ssh2" || !strings.Contains(field(r, "EntraLoginCheck"), "is not a Microsoft Entra user") {
		t.Errorf("journal record: %s", r.Raw)
	}
	if !strings.Contains(res.errs[0], "line 3:") || !strings.Contains(res.errs[1], "line 4:") {
		t.Errorf("errors do not name their lines: %q", res.errs)
	}
}

func FuzzSyslogReader(f *testing.F) {
	for _, s := range []string{
		"May  9 23:49:39 ubuntu1804 aad_certhandler[3915]: User 'u' is not an AAD user; returning empty result.\nMay  9 23:49:43 ubuntu1804 sshd[3909]: Accepted publickey for u from 1.2.3.4 port 1 ssh2: RSA SHA256:x\n",
		"2026-01-12T11:15:58.792703+00:00 nas1 sshd-session[1]: Accepted password for bob from 192.0.2.4 port 5678 ssh2\r\n",
		"<13>Feb 30 99:99:99 h p: x\n", "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo failed\n",
	} {
		f.Add([]byte(s), 0)
	}
	f.Fuzz(func(t *testing.T, b []byte, year int) {
		n := 0
		_ = Syslog{}.Split(context.Background(), "auth.log", strings.NewReader(string(b)), Options{MaxRecord: 4096, Year: year % 3000}, func(it *Item) error {
			n++
			if (it.Err == nil) == (len(it.Data) == 0) {
				t.Fatalf("item with neither data nor error, or both: %+v", it)
			}
			if it.Err == nil {
				var p fastjson.Parser
				if _, err := p.ParseBytes(it.Data); err != nil {
					t.Fatalf("invalid JSON record %q: %v", it.Data, err)
				}
			}
			return nil
		})
		if n > len(b)+1 {
			t.Fatalf("%d items from %d bytes", n, len(b))
		}
	})
}

func FuzzJournaldReader(f *testing.F) {
	f.Add([]byte(`{"__REALTIME_TIMESTAMP":"1778370583000000","_HOSTNAME":"vm1","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted password for u1 from 1.2.3.4 port 1 ssh2"}` + "\n"))
	f.Add([]byte(`{"__REALTIME_TIMESTAMP":"-1","MESSAGE":[300,-1,"x"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Journald{}.Split(context.Background(), "j", strings.NewReader(string(b)), Options{MaxRecord: 4096}, func(it *Item) error {
			if it.Err == nil {
				var p fastjson.Parser
				if _, err := p.ParseBytes(it.Data); err != nil {
					t.Fatalf("invalid JSON record %q: %v", it.Data, err)
				}
			}
			return nil
		})
	})
}

// authLog builds an auth.log of n lines: SSH logins (Entra and local, with
// the module's verdicts), PAM sessions, failures and cron noise.
func authLog(n int) []byte {
	var b strings.Builder
	lines := []string{
		"Nov 20 09:14:56 vm-lnx-%02d aad_certhandler[3915]: Version: 1.0.015570001; user: local%d",
		"Nov 20 09:14:56 vm-lnx-%02d aad_certhandler[3915]: User 'local%d' is not a Microsoft Entra user; returning empty result.",
		"Nov 20 09:15:00 vm-lnx-%02d sshd[3909]: Accepted publickey for local%d from 203.0.113.45 port 53582 ssh2: RSA SHA256:MiROf6f9u1w8J+46AXR1WmPjDhNWJEoXp4HMm9lvJAQ",
		"Nov 20 09:15:00 vm-lnx-%02d sshd[3909]: pam_unix(sshd:session): session opened for user local%d by (uid=0)",
		"Nov 20 09:31:13 vm-lnx-%02d sshd[4011]: Accepted publickey for user%d@contoso.com from 198.51.100.23 port 40022 ssh2: RSA SHA256:Zb4vKq0bQd5uQ6oYkq1bTqQ7m8n3X0Wz8VqkJk2cY1E",
		"Nov 20 09:40:02 vm-lnx-%02d sshd[4100]: Failed password for root from 192.0.2.200 port 51123 ssh2 (attempt %d)",
		"Nov 20 09:41:01 vm-lnx-%02d CRON[4200]: pam_unix(cron:session): session opened for user root(uid=0) by root(uid=%d)",
		"Nov 20 09:41:01 vm-lnx-%02d systemd-logind[612]: New session %d of user root.",
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, lines[i%len(lines)]+"\n", i%50, i)
	}
	return []byte(b.String())
}

// BenchmarkSyslogReader measures auth.log lines per second through the
// syslog reader (parsing, module pairing, record building).
func BenchmarkSyslogReader(b *testing.B) {
	const n = 20000
	data := authLog(n)
	benchSplit(b, Syslog{}, "auth.log", data, Options{Year: 2026}, n, "lines/s")
}
