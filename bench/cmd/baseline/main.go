// Command baseline is the floor entrawatch's end-to-end scan is measured
// against: read a JSON lines file and parse every record with fastjson, and
// nothing else, on the cores GOMAXPROCS allows.
//
//	GOMAXPROCS=1 go run ./cmd/baseline -mode fastjson FILE
//	GOMAXPROCS=2 go run ./cmd/baseline -mode fastjson FILE   # reader + 2 parsing workers
//	go run ./cmd/baseline -mode lines FILE                    # bufio line count
//
// With one core the file is read and parsed inline. With more, a reader
// goroutine copies lines into 1 MiB batches and one worker per core parses
// them, the same division of labour as entrawatch's pipeline, so the two
// are compared on equal terms.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/valyala/fastjson"
)

func main() {
	mode := flag.String("mode", "fastjson", "fastjson (parse every record) or lines (count lines)")
	workers := flag.Int("workers", 0, "parsing workers (default GOMAXPROCS)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: baseline [-mode fastjson|lines] FILE")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	if *workers <= 0 {
		*workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	var records, nbytes int64
	switch *mode {
	case "lines":
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			records++
			nbytes += int64(len(sc.Bytes())) + 1
		}
		if err := sc.Err(); err != nil {
			fatal(err)
		}
	case "fastjson":
		if *workers == 1 {
			records, nbytes = inline(f)
		} else {
			records, nbytes = pipelined(f, *workers)
		}
	default:
		fatal(fmt.Errorf("unknown mode %q", *mode))
	}
	el := time.Since(start)
	fmt.Printf("mode=%s gomaxprocs=%d workers=%d records=%d bytes=%d seconds=%.3f records_per_s=%.0f mb_per_s=%.1f\n",
		*mode, runtime.GOMAXPROCS(0), *workers, records, nbytes, el.Seconds(), float64(records)/el.Seconds(), float64(nbytes)/1e6/el.Seconds())
}

// readLines calls fn for every non-empty line of r (without its newline).
func readLines(r io.Reader, fn func([]byte)) int64 {
	br := bufio.NewReaderSize(r, 256<<10)
	var n int64
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		n += int64(len(line))
		if err == bufio.ErrBufferFull {
			long = append(long, line...)
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = long[:0]
		}
		if l := bytes.TrimRight(line, "\r\n"); len(l) > 0 {
			fn(l)
		}
		if err != nil {
			if err != io.EOF {
				fatal(err)
			}
			return n
		}
	}
}

func inline(r io.Reader) (int64, int64) {
	var p fastjson.Parser
	var records int64
	n := readLines(r, func(l []byte) {
		if _, err := p.ParseBytes(l); err != nil {
			fatal(err)
		}
		records++
	})
	return records, n
}

type batch struct {
	buf  []byte
	ends []int
}

func pipelined(r io.Reader, workers int) (int64, int64) {
	const batchBytes = 1 << 20
	free := make(chan *batch, 2*workers+2)
	for i := 0; i < cap(free); i++ {
		free <- &batch{buf: make([]byte, 0, batchBytes+64<<10)}
	}
	work := make(chan *batch, workers)
	var wg sync.WaitGroup
	counts := make([]int64, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var p fastjson.Parser
			for b := range work {
				start := 0
				for _, end := range b.ends {
					if _, err := p.ParseBytes(b.buf[start:end]); err != nil {
						fatal(err)
					}
					start = end
				}
				counts[w] += int64(len(b.ends))
				free <- b
			}
		}(w)
	}
	b := <-free
	b.buf, b.ends = b.buf[:0], b.ends[:0]
	n := readLines(r, func(l []byte) {
		b.buf = append(b.buf, l...)
		b.ends = append(b.ends, len(b.buf))
		if len(b.buf) >= batchBytes || len(b.ends) >= 512 {
			work <- b
			b = <-free
			b.buf, b.ends = b.buf[:0], b.ends[:0]
		}
	})
	work <- b
	close(work)
	wg.Wait()
	var records int64
	for _, c := range counts {
		records += c
	}
	return records, n
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "baseline:", err)
	os.Exit(2)
}
