// Command scanprof runs entrawatch's scan pipeline (internal/scan, as
// "entrawatch scan --output json" does, alerts written to /dev/null) in
// process under the CPU profiler, to see where the end-to-end time goes:
//
//	GOMAXPROCS=1 go run ./cmd/scanprof -cpuprofile /tmp/scan1.prof FILE
//	go tool pprof -top /tmp/scan1.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	_ "github.com/entrawatch/entrawatch/internal/catalog" // registers the built-in detections written as Sigma
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/scan"
)

func main() {
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
	memprof := flag.String("memprofile", "", "write an allocation profile here")
	flag.Parse()
	eng, err := detect.NewEngine(detect.Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		fatal(err)
	}
	w, err := alert.NewWriter("json", io.Discard)
	if err != nil {
		fatal(err)
	}
	if *memprof != "" {
		runtime.MemProfileRate = 64 << 10
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	st, err := scan.Run(context.Background(), scan.Config{Paths: flag.Args(), Engine: eng, Alert: w.Write, Warn: func(m string) { fmt.Fprintln(os.Stderr, "warning:", m) }})
	if *prof != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		fatal(err)
	}
	w.Close()
	if *memprof != "" {
		f, err := os.Create(*memprof)
		if err != nil {
			fatal(err)
		}
		pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	fmt.Printf("gomaxprocs=%d records=%d bytes=%d alerts=%d seconds=%.3f records_per_s=%.0f mb_per_s=%.1f\n",
		runtime.GOMAXPROCS(0), st.Records, st.Bytes, st.Alerts, st.Elapsed.Seconds(), float64(st.Records)/st.Elapsed.Seconds(), float64(st.Bytes)/1e6/st.Elapsed.Seconds())
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "scanprof:", err)
	os.Exit(2)
}
