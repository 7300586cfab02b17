package filesource

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/format"
)

const perPoll = 1000

// authChunk is perPoll lines of a busy auth.log.
func authChunk() []byte {
	var chunk strings.Builder
	for i := range perPoll {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&chunk, "Nov 20 09:14:%02d vm-lnx-01 sshd[%d]: Accepted publickey for alice@contoso.com from 10.0.0.%d port 53582 ssh2: RSA SHA256:MiRO\n", i%60, 1000+i, i%250)
		case 1:
			fmt.Fprintf(&chunk, "Nov 20 09:14:%02d vm-lnx-01 aad_certhandler[3915]: User 'local%d' is not a Microsoft Entra user; returning empty result.\n", i%60, i)
		case 2:
			fmt.Fprintf(&chunk, "Nov 20 09:14:%02d vm-lnx-01 sshd[%d]: pam_unix(sshd:session): session opened for user bob(uid=1001) by (uid=0)\n", i%60, 1000+i)
		default:
			fmt.Fprintf(&chunk, "Nov 20 09:14:%02d vm-lnx-01 CRON[%d]: pam_unix(cron:session): session closed for user root\n", i%60, 1000+i)
		}
	}
	return []byte(chunk.String())
}

// BenchmarkFollowAuthLog measures following an auth.log that is appended
// to, perPoll lines between polls, in lines per second; "reader" is the
// syslog reader alone over the same lines, for comparison.
func BenchmarkFollowAuthLog(b *testing.B) {
	b.Run("follow", benchFollow)
	b.Run("reader", func(b *testing.B) {
		data := authChunk()
		r, err := format.Lookup("syslog")
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)) / perPoll)
		var lines int64
		for i := 0; i < b.N; i += perPoll {
			err := r.Split(context.Background(), "auth.log", bytes.NewReader(data), format.Options{Year: 2026}, func(*format.Item) error { lines++; return nil })
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	})
}

func benchFollow(b *testing.B) {
	path := filepath.Join(b.TempDir(), "auth.log")
	data := authChunk()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	now := time.Now()
	src, err := New(Config{Name: "bench", Paths: []string{path}, Year: 2026, Clock: func() time.Time { return now }}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var lines int64
	emit := func(_ context.Context, bt *Batch) error {
		lines += int64(len(bt.Records))
		return nil
	}
	b.SetBytes(int64(len(data)) / perPoll)
	b.ResetTimer()
	for i := 0; i < b.N; i += perPoll {
		b.StopTimer()
		if _, err := f.Write(data); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := src.PollOnce(context.Background(), emit); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if want := int64((b.N + perPoll - 1) / perPoll * perPoll); lines != want {
		b.Fatalf("followed %d lines, want %d", lines, want)
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}
