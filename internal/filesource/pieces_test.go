package filesource

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPiecesEqualWhole checks that following a file written in random
// pieces, polled between them, gives the records and problems one read of
// the finished file gives: no record lost, split or read twice.
func TestPiecesEqualWhole(t *testing.T) {
	tests := []struct {
		name, file string
		head       string
		line       func(r *rand.Rand, i int) string
	}{
		{"syslog", "auth.log", "", func(r *rand.Rand, i int) string {
			switch r.IntN(8) {
			case 0:
				return "\n"
			case 1:
				return "garbage " + fmt.Sprint(i) + "\r\n"
			case 2:
				return strings.Repeat("y", 300+r.IntN(200)) + "\n" // over MaxRecord
			}
			return sl(fmt.Sprintf("m%d", i))
		}},
		{"json-lines", "PT1H.json", "", func(r *rand.Rand, i int) string {
			switch r.IntN(8) {
			case 0:
				return "\r\n"
			case 1:
				return `{"id": broken` + "\n"
			case 2:
				return `{"id":"` + strings.Repeat("z", 400) + `"}` + "\n"
			}
			return jl(fmt.Sprintf("m%d", i))
		}},
		{"csv", "signins.csv", "TimeGenerated,Id,OperationName\n", func(r *rand.Rand, i int) string {
			switch r.IntN(6) {
			case 0:
				return fmt.Sprintf("2026-11-27T10:00:00Z,m%d,\"two\nlines, \"\"quoted\"\"\"\n", i)
			case 1:
				return "only,two\n"
			}
			return fmt.Sprintf("2026-11-27T10:00:00Z,m%d,Sign-in activity\r\n", i)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(5) {
				r := rand.New(rand.NewPCG(seed, 7))
				var content strings.Builder
				content.WriteString(tt.head)
				for i := range 300 {
					content.WriteString(tt.line(r, i))
				}
				data := content.String()

				follow := newEnv(t)
				follow.cfg.MaxRecord = 256
				follow.restart()
				follow.write(tt.file, "")
				var followed []string
				for rest := data; len(rest) > 0; {
					n := min(len(rest), 1+r.IntN(700))
					follow.append(tt.file, rest[:n])
					rest = rest[n:]
					followed = append(followed, follow.poll()...)
					if r.IntN(10) == 0 {
						follow.restart()
					}
				}
				follow.wait(time.Minute)
				followed = append(followed, follow.poll()...)

				whole := newEnv(t)
				whole.cfg.MaxRecord = 256
				whole.restart()
				whole.write(tt.file, data)
				whole.wait(time.Minute)
				read := whole.poll()

				if !slices.Equal(followed, read) {
					t.Fatalf("seed %d: followed %d records, read whole %d; first difference %q", seed, len(followed), len(read), firstDiff(followed, read))
				}
				if !slices.Equal(follow.sink.problems, whole.sink.problems) {
					t.Fatalf("seed %d: problems differ; first difference %q", seed, firstDiff(follow.sink.problems, whole.sink.problems))
				}
				if len(read) < 100 || len(whole.sink.problems) < 10 {
					t.Fatalf("seed %d: only %d records and %d problems", seed, len(read), len(whole.sink.problems))
				}
			}
		})
	}
}
