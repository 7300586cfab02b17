// Command gen writes realistic Entra ID sign-in records for benchmarks:
//
//	go run ./cmd/gen -n 100000 -o bench-data/signins.jsonl
//	go run ./cmd/gen -size 1GB -o bench-data/signins-1g.jsonl
//	go run ./cmd/gen -n 10000 -shape la -o bench-data/signins-la.jsonl
//	go run ./cmd/gen -n 20000 -audit 100 -o bench-data/signins-audit.jsonl  # 10% audit records
//
// Output is JSON lines and depends only on -seed, -shape and -n/-size. The
// scenario counts (and so the alerts each engine must raise) go to stderr.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/entrawatch/entrawatch/bench/gen"
)

func main() {
	n := flag.Int64("n", 0, "number of records (default: until -size is reached, else 10000)")
	size := flag.String("size", "", "stop once this many bytes are written (1GB, 200MB, 5000000)")
	out := flag.String("o", "-", "output file (- for standard output)")
	seed := flag.Uint64("seed", 1, "random seed")
	shapeName := flag.String("shape", "diag", "record shape: diag (diagnostic settings) or la (Log Analytics rows)")
	audit := flag.Int("audit", 0, "thousandths of the records that are directory audit records (diag shape only; 0: sign-ins only)")
	flag.Parse()
	shape, err := gen.ParseShape(*shapeName)
	if err != nil {
		fatal(err)
	}
	var limit int64
	if *size != "" {
		if limit, err = parseSize(*size); err != nil {
			fatal(err)
		}
	}
	if *n == 0 && limit == 0 {
		*n = 10000
	}
	w := os.Stdout
	if *out != "-" {
		if w, err = os.Create(*out); err != nil {
			fatal(err)
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := gen.New(*seed, shape)
	if err := g.SetAuditShare(*audit); err != nil {
		fatal(err)
	}
	var buf []byte
	var written, count int64
	minLen, maxLen := int(^uint(0)>>1), 0
	for (*n == 0 || count < *n) && (limit == 0 || written < limit) {
		buf, _ = g.Next(buf[:0])
		minLen, maxLen = min(minLen, len(buf)), max(maxLen, len(buf))
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			fatal(err)
		}
		written += int64(len(buf))
		count++
	}
	if err := bw.Flush(); err != nil {
		fatal(err)
	}
	if w != os.Stdout {
		if err := w.Close(); err != nil {
			fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "wrote %d records, %d bytes (record size %d..%d, mean %d)\n", count, written, minLen, maxLen, written/max(count, 1))
	for i := 0; i < gen.NumScenarios; i++ {
		s := gen.Scenario(i)
		if s.Audit() && *audit == 0 {
			continue
		}
		fmt.Fprintf(os.Stderr, "  %-48s %9d\n", s, g.Counts[i])
	}
}

func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if strings.HasSuffix(u, suf.s) {
			u, mult = strings.TrimSuffix(u, suf.s), suf.m
			break
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(f * float64(mult)), nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(2)
}
