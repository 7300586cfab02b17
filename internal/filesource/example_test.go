package filesource_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/entrawatch/entrawatch/internal/filesource"
)

// stored is a cursor store in memory; the service stores cursors in the
// same transaction as what the records produce.
type stored map[string]string

func (s stored) Cursor(_ context.Context, name string) (string, bool, error) {
	v, ok := s[name]
	return v, ok, nil
}

func ExampleSource_PollOnce() {
	dir, _ := os.MkdirTemp("", "filesource")
	defer os.RemoveAll(dir)
	log := filepath.Join(dir, "auth.log")
	os.WriteFile(log, []byte("2026-01-12T11:15:58+00:00 vm01 sshd[1]: Accepted publickey for alice from 10.0.0.1 port 5 ssh2\n2026-01-12T11:16:0"), 0o644)

	cursors := stored{}
	src, err := filesource.New(filesource.Config{Name: "linux", Paths: []string{dir}}, cursors)
	if err != nil {
		fmt.Println(err)
		return
	}
	store := func(_ context.Context, b *filesource.Batch) error {
		for _, r := range b.Records {
			fmt.Printf("%s line %d (%s)\n", filepath.Base(r.File), r.Line, r.Format)
		}
		for _, c := range b.Cursors {
			cursors[c.Name] = c.Value // with the records, in one transaction
		}
		return nil
	}
	src.PollOnce(context.Background(), store) // the partial second line waits

	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("1+00:00 vm01 sshd[2]: Accepted password for bob from 10.0.0.2 port 6 ssh2\n")
	f.Close()
	src.PollOnce(context.Background(), store)
	// Output:
	// auth.log line 1 (syslog)
	// auth.log line 2 (syslog)
}
