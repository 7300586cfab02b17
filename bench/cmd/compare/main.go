// Command compare measures, on the same sign-in records, entrawatch's
// detection step against two Go Sigma engines and against bare baselines:
//
//	go run ./cmd/compare -in bench-data/signins.jsonl -cores 1
//
// Contenders (every one sees every record of -in, held in memory):
//
//	linescan           bufio.Scanner over the file, counting lines (always 1 core)
//	fastjson           fastjson parse of every record (pooled parser per worker)
//	entrawatch         fastjson parse + record.Classify + detect.Engine.Detect (built-ins)
//	json-decode        encoding/json into map[string]interface{} (what the Sigma engines need)
//	sigma-go           decode + bradleyjkemp/sigma-go v0.6.6 on rules/sigma-go
//	sigma-go-eval      sigma-go on pre-decoded events (evaluate only)
//	gsre               decode + markuskont/go-sigma-rule-engine v0.3.0 on rules/gsre
//	gsre-eval          go-sigma-rule-engine on pre-decoded events (evaluate only)
//	sigma-go-sigmahq   decode + sigma-go on SigmaHQ's Azure sign-in rules
//	                   ($ENTRAWATCH_CORPUS/sigma/signin_logs; skipped when unset)
//
// With -mode sigmahq (sigmahq.go) every engine runs every SigmaHQ Azure
// sign-in and audit rule of $ENTRAWATCH_CORPUS/sigma (read in place):
//
//	entrawatch     fastjson parse + record.Classify + Detect of the rules
//	               loaded by sigma.LoadPaths and compiled by sigma.Compile
//	               (one rule.Compiler), in an engine without the built-ins
//	sigma-go       decode + sigma-go, the rules it parses, field mappings of
//	               rules/sigma-go-config.yml (and sigma-go-eval)
//	gsre           decode + go-sigma-rule-engine, the rules it builds (and
//	               gsre-eval)
//
// plus linescan, fastjson and json-decode; the peers get each rule only on
// the records of its logsource, as entrawatch's engine dispatches by kind.
// After the table it lists the rules each engine refused and, per rule,
// the records each engine matched and where they differ.
//
// With -cores N, GOMAXPROCS is N and records are shared out to N workers.
// It prints a markdown table (-md) or one JSON object per contender (-json).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
	"github.com/entrawatch/entrawatch/internal/alert"
	_ "github.com/entrawatch/entrawatch/internal/catalog" // registers the built-in detections written as Sigma
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/markuskont/datamodels"
	gsre "github.com/markuskont/go-sigma-rule-engine"
	"github.com/valyala/fastjson"
)

var (
	flagIn       = flag.String("in", "", "JSON lines file of sign-in records (diagnostic-settings shape)")
	flagCores    = flag.Int("cores", 1, "GOMAXPROCS and number of workers")
	flagRuns     = flag.Int("runs", 3, "timed runs per contender; the median is reported")
	flagRules    = flag.String("rules", "rules", "directory holding sigma-go/, gsre/ and sigma-go-config.yml")
	flagOnly     = flag.String("only", "", "comma-separated contenders to run (default: all)")
	flagEvalN    = flag.Int("eval-sample", 4000, "distinct pre-decoded events for the evaluate-only runs (cycled over -in's count)")
	flagProfile  = flag.String("cpuprofile", "", "directory to write one CPU profile per contender (first timed run)")
	flagJSON     = flag.Bool("json", false, "print one JSON object per contender instead of a table")
	flagMaxLines = flag.Int("max", 0, "use only the first N records (0: all)")
	flagMode     = flag.String("mode", "builtin", "builtin: the built-in detections against the benchmark's own Sigma rules; sigmahq: every SigmaHQ Azure sign-in and audit rule of $ENTRAWATCH_CORPUS in every engine")
	flagCorpus   = flag.String("corpus", os.Getenv("ENTRAWATCH_CORPUS"), "the corpus folder holding sigma/signin_logs and sigma/audit_logs (default $ENTRAWATCH_CORPUS)")
)

type result struct {
	Name      string           `json:"name"`
	Cores     int              `json:"cores"`
	Events    int              `json:"events"`
	Bytes     int64            `json:"bytes"`
	Seconds   float64          `json:"seconds"`
	EventsPS  float64          `json:"events_per_s"`
	MBPS      float64          `json:"mb_per_s"`
	CPUSec    float64          `json:"cpu_seconds"`
	EventsPCS float64          `json:"events_per_cpu_s"`
	MBPCS     float64          `json:"mb_per_cpu_s"`
	AllocsPE  float64          `json:"allocs_per_event"`
	BytesPE   float64          `json:"alloc_bytes_per_event"`
	Matches   map[string]int64 `json:"matches,omitempty"`
	// PerRecord lists, per rule, the records (indexes into -in) the
	// contender matched in the untimed warm-up round.
	PerRecord map[string][]int `json:"-"`
	Note      string           `json:"note,omitempty"`
	AllRunsMS []float64        `json:"runs_ms"`
}

// contender runs over events [0,n) split among workers; work(w, i) handles
// event i on worker w and returns the rules it matched.
type contender struct {
	name   string
	note   string
	serial bool                    // always one goroutine (line scan)
	setup  func(workers int) error // once, untimed
	before func()                  // before each run, untimed
	after  func()                  // after each run, untimed
	run    func() (int, int64)     // serial contenders: whole run, returns events, bytes
	work   func(w, i int) []string // per event
	n      func() int              // events per run
	bytes  func() int64            // bytes per run
}

func main() {
	flag.Parse()
	if *flagIn == "" {
		fatal(fmt.Errorf("-in is required"))
	}
	runtime.GOMAXPROCS(*flagCores)
	data, err := os.ReadFile(*flagIn)
	if err != nil {
		fatal(err)
	}
	lines := splitLines(data)
	if *flagMaxLines > 0 && len(lines) > *flagMaxLines {
		lines = lines[:*flagMaxLines]
	}
	var total int64
	for _, l := range lines {
		total += int64(len(l)) + 1
	}
	fmt.Fprintf(os.Stderr, "compare: %d records, %.1f MB, %d core(s), %d run(s) each\n", len(lines), float64(total)/1e6, *flagCores, *flagRuns)

	var cs []contender
	switch *flagMode {
	case "builtin":
		cs = contenders(lines, total)
	case "sigmahq":
		cs, err = sigmaHQContenders(lines, total)
		if err != nil {
			fatal(err)
		}
	default:
		fatal(fmt.Errorf("-mode %q: want builtin or sigmahq", *flagMode))
	}
	only := map[string]bool{}
	for _, s := range strings.Split(*flagOnly, ",") {
		if s = strings.TrimSpace(s); s != "" {
			only[s] = true
		}
	}
	var selected []contender
	for _, c := range cs {
		if len(only) == 0 || only[c.name] {
			selected = append(selected, c)
		}
	}
	results := measureAll(selected)
	for _, r := range results {
		fmt.Fprintf(os.Stderr, "  %-18s %10.0f events/s %8.1f MB/s  %v\n", r.Name, r.EventsPS, r.MBPS, r.Matches)
	}
	if *flagJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, r := range results {
			enc.Encode(r)
		}
		return
	}
	printTable(results)
}

func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		l = bytes.TrimRight(l, "\r")
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

type state struct {
	c        contender
	workers  int
	res      result
	times    []time.Duration
	cpu      []time.Duration
	allocs   uint64
	allocB   uint64
	disabled bool
}

// measureAll sets every contender up, then runs rounds: each round runs
// every contender once, so that a burst of background load on a shared
// machine hits all of them alike. Round 0 warms up and is not timed; the
// median of the timed rounds is reported.
func measureAll(cs []contender) []result {
	var st []*state
	for _, c := range cs {
		s := &state{c: c, workers: *flagCores}
		if c.serial {
			s.workers = 1
		}
		if c.setup != nil {
			if err := c.setup(s.workers); err != nil {
				fmt.Fprintf(os.Stderr, "compare: %s: %v\n", c.name, err)
				continue
			}
		}
		s.res = result{Name: c.name, Cores: s.workers, Note: c.note}
		st = append(st, s)
	}
	for round := 0; round <= *flagRuns; round++ {
		for _, s := range st {
			once(s, round)
		}
	}
	out := make([]result, 0, len(st))
	for _, s := range st {
		res := s.res
		sorted := append([]time.Duration(nil), s.times...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		med := sorted[len(sorted)/2]
		res.Seconds = med.Seconds()
		res.EventsPS = float64(res.Events) / med.Seconds()
		res.MBPS = float64(res.Bytes) / 1e6 / med.Seconds()
		cpu := append([]time.Duration(nil), s.cpu...)
		sort.Slice(cpu, func(i, j int) bool { return cpu[i] < cpu[j] })
		res.CPUSec = cpu[len(cpu)/2].Seconds()
		res.EventsPCS = float64(res.Events) / res.CPUSec
		res.MBPCS = float64(res.Bytes) / 1e6 / res.CPUSec
		runs := float64(len(s.times) * max(res.Events, 1))
		res.AllocsPE = float64(s.allocs) / runs
		res.BytesPE = float64(s.allocB) / runs
		out = append(out, res)
	}
	return out
}

func once(s *state, round int) {
	c := s.c
	var prof *os.File
	if round == 1 && *flagProfile != "" {
		os.MkdirAll(*flagProfile, 0o755)
		f, err := os.Create(filepath.Join(*flagProfile, c.name+".prof"))
		if err != nil {
			fatal(err)
		}
		prof = f
		pprof.StartCPUProfile(f)
	}
	if c.before != nil {
		c.before()
	}
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	start := time.Now()
	var n int
	var b int64
	var m map[string]int64
	var per map[string][]int
	if c.run != nil {
		n, b = c.run()
	} else {
		n, b = c.n(), c.bytes()
		m, per = parallel(s.workers, n, c.work, round == 0)
	}
	el := time.Since(start)
	cpuEl := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	if prof != nil {
		pprof.StopCPUProfile()
		prof.Close()
	}
	if c.after != nil {
		c.after()
	}
	if round == 0 {
		s.res.Matches, s.res.PerRecord = m, per
		return
	}
	s.times = append(s.times, el)
	s.cpu = append(s.cpu, cpuEl)
	s.res.Events, s.res.Bytes = n, b
	s.allocs += ms1.Mallocs - ms0.Mallocs
	s.allocB += ms1.TotalAlloc - ms0.TotalAlloc
	s.res.AllRunsMS = append(s.res.AllRunsMS, float64(el.Microseconds())/1000)
}

// parallel runs work over [0,n) on the given number of goroutines, in
// chunks taken from a shared counter, and returns the match counts and,
// with capture, the records each rule matched (sorted).
func parallel(workers, n int, work func(w, i int) []string, capture bool) (map[string]int64, map[string][]int) {
	const chunk = 64
	var next atomic.Int64
	counts := make([]map[string]int64, workers)
	recs := make([]map[string][]int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		counts[w] = map[string]int64{}
		recs[w] = map[string][]int{}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			m, r := counts[w], recs[w]
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					for _, id := range work(w, i) {
						m[id]++
						if capture {
							r[id] = append(r[id], i)
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	out := map[string]int64{}
	for _, m := range counts {
		for k, v := range m {
			out[k] += v
		}
	}
	if !capture {
		return out, nil
	}
	per := map[string][]int{}
	for _, r := range recs {
		for k, v := range r {
			per[k] = append(per[k], v...)
		}
	}
	for _, v := range per {
		sort.Ints(v)
	}
	return out, per
}

var titleID = regexp.MustCompile(`\(entrawatch ([a-z0-9-]+)\)`)

// ruleName names a benchmark rule by the entrawatch detection it mirrors.
func ruleName(title, id string) string {
	if m := titleID.FindStringSubmatch(title); m != nil {
		return m[1]
	}
	if title != "" {
		return title
	}
	return id
}

func contenders(lines [][]byte, total int64) []contender {
	n := func() int { return len(lines) }
	by := func() int64 { return total }
	var cs []contender

	cs = append(cs, baselines(lines, total)...)

	// (a) entrawatch detection step.
	type ewWorker struct {
		p   fastjson.Parser
		rec record.Record
		ids []string
	}
	var eng *detect.Engine
	var ews []*ewWorker
	cs = append(cs, contender{name: "entrawatch", note: "fastjson parse + record.Classify + detect.Engine.Detect (all built-in detections)",
		setup: func(w int) error {
			var err error
			eng, err = detect.NewEngine(detect.Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
			ews = make([]*ewWorker, w)
			for i := range ews {
				ews[i] = &ewWorker{}
			}
			return err
		},
		work: func(w, i int) []string {
			x := ews[w]
			v, err := x.p.ParseBytes(lines[i])
			if err != nil {
				fatal(err)
			}
			x.ids = x.ids[:0]
			x.rec.Reset()
			x.rec.Root = v
			x.rec.Raw = lines[i]
			x.rec.Classify()
			eng.Detect(&x.rec, func(a *alert.Alert) { x.ids = append(x.ids, a.Rule) })
			x.rec.Release()
			return x.ids
		}, n: n, bytes: by})

	cs = append(cs, decodeOnly(lines, total))

	// (b) sigma-go.
	sgRules, sgCfg, err := loadSigmaGo(filepath.Join(*flagRules, "sigma-go"), filepath.Join(*flagRules, "sigma-go-config.yml"))
	if err != nil {
		fatal(err)
	}
	sgEval := func(evals []namedEval, ev map[string]interface{}) []string {
		var ids []string
		for _, e := range evals {
			r, err := e.e.Matches(context.Background(), ev)
			if err != nil {
				fatal(fmt.Errorf("sigma-go %s: %v", e.name, err))
			}
			if r.Match {
				ids = append(ids, e.name)
			}
		}
		return ids
	}
	var sgEvals []namedEval
	setupSG := func(int) error {
		sgEvals = sgEvals[:0]
		for _, r := range sgRules {
			sgEvals = append(sgEvals, namedEval{ruleName(r.Title, r.ID), evaluator.ForRule(r, evaluator.WithConfig(sgCfg))})
		}
		return nil
	}
	cs = append(cs, contender{name: "sigma-go", note: "encoding/json → map + sigma-go v0.6.6 (3 device rules, JSONPath field mappings)",
		setup: setupSG,
		work: func(w, i int) []string {
			var m map[string]interface{}
			if err := json.Unmarshal(lines[i], &m); err != nil {
				fatal(err)
			}
			return sgEval(sgEvals, m)
		}, n: n, bytes: by})

	decoded := &predecoded{lines: lines}
	cs = append(cs, contender{name: "sigma-go-eval", note: fmt.Sprintf("sigma-go on pre-decoded maps (%d distinct events, cycled)", min(*flagEvalN, len(lines))),
		setup: setupSG, before: decoded.decode, after: decoded.release,
		work: func(w, i int) []string { return sgEval(sgEvals, decoded.at(i)) },
		n:    n, bytes: by})

	// (c) go-sigma-rule-engine: one ruleset per worker (it is not thread safe).
	var sets []*gsre.Ruleset
	setupGS := func(w int) error {
		sets = make([]*gsre.Ruleset, w)
		for i := range sets {
			rs, err := gsre.NewRuleset(gsre.Config{Directory: []string{filepath.Join(*flagRules, "gsre")}, FailOnRuleParse: true, FailOnYamlParse: true})
			if err != nil {
				return err
			}
			if rs.Ok != 3 || rs.Failed+rs.Unsupported > 0 {
				return fmt.Errorf("go-sigma-rule-engine loaded %d rules (%d failed, %d unsupported), want 3", rs.Ok, rs.Failed, rs.Unsupported)
			}
			sets[i] = rs
		}
		return nil
	}
	gsEval := func(rs *gsre.Ruleset, ev gsreEvent) []string {
		var ids []string
		for _, t := range rs.Rules {
			if m, _ := t.Match(ev); m {
				ids = append(ids, ruleName(t.Rule.Title, t.Rule.ID))
			}
		}
		return ids
	}
	cs = append(cs, contender{name: "gsre", note: "encoding/json → datamodels.Map + go-sigma-rule-engine v0.3.0 (3 device rules)",
		setup: setupGS,
		work: func(w, i int) []string {
			var m datamodels.Map
			if err := json.Unmarshal(lines[i], &m); err != nil {
				fatal(err)
			}
			return gsEval(sets[w], gsreEvent{m})
		}, n: n, bytes: by})
	cs = append(cs, contender{name: "gsre-eval", note: fmt.Sprintf("go-sigma-rule-engine on pre-decoded maps (%d distinct events, cycled)", min(*flagEvalN, len(lines))),
		setup: setupGS, before: decoded.decode, after: decoded.release,
		work: func(w, i int) []string { return gsEval(sets[w], gsreEvent{datamodels.Map(decoded.at(i))}) },
		n:    n, bytes: by})

	// Reference: sigma-go with SigmaHQ's Azure sign-in rules.
	if corpus := os.Getenv("ENTRAWATCH_CORPUS"); corpus != "" {
		dir := filepath.Join(corpus, "sigma", "signin_logs")
		hqRules, _, err := loadSigmaGo(dir, "")
		if err != nil {
			fmt.Fprintf(os.Stderr, "compare: SigmaHQ rules: %v\n", err)
		} else {
			var hq []namedEval
			cs = append(cs, contender{name: "sigma-go-sigmahq", note: fmt.Sprintf("encoding/json → map + sigma-go on SigmaHQ's %d Azure sign-in rules (reference)", len(hqRules)),
				setup: func(int) error {
					hq = hq[:0]
					for _, r := range hqRules {
						hq = append(hq, namedEval{r.Title, evaluator.ForRule(r, evaluator.WithConfig(sgCfg))})
					}
					return nil
				},
				work: func(w, i int) []string {
					var m map[string]interface{}
					if err := json.Unmarshal(lines[i], &m); err != nil {
						fatal(err)
					}
					var ids []string
					for _, e := range hq {
						r, err := e.e.Matches(context.Background(), m)
						if err == nil && r.Match {
							ids = append(ids, e.name)
						}
					}
					return ids
				}, n: n, bytes: by})
		}
	}
	return cs
}

// baselines are the bare line scan and the bare fastjson parse.
func baselines(lines [][]byte, total int64) []contender {
	n := func() int { return len(lines) }
	by := func() int64 { return total }
	var cs []contender
	// (e) bare line scan of the file.
	cs = append(cs, contender{name: "linescan", serial: true, note: "bufio.Scanner over the file (page cache), counting lines",
		run: func() (int, int64) {
			f, err := os.Open(*flagIn)
			if err != nil {
				fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 64<<20)
			cnt := 0
			var b int64
			for sc.Scan() {
				cnt++
				b += int64(len(sc.Bytes())) + 1
				if *flagMaxLines > 0 && cnt >= *flagMaxLines {
					break
				}
			}
			return cnt, b
		}})

	// (d) bare fastjson parse.
	var parsers []fastjson.Parser
	cs = append(cs, contender{name: "fastjson", note: "fastjson.Parser.ParseBytes per record, one parser per worker",
		setup: func(w int) error { parsers = make([]fastjson.Parser, w); return nil },
		work: func(w, i int) []string {
			if _, err := parsers[w].ParseBytes(lines[i]); err != nil {
				fatal(err)
			}
			return nil
		}, n: n, bytes: by})

	return cs
}

// decodeOnly is encoding/json into maps, the part of the Sigma engines'
// cost that is decoding.
func decodeOnly(lines [][]byte, total int64) contender {
	n := func() int { return len(lines) }
	by := func() int64 { return total }
	// decode only (the part of the Sigma engines' cost that is encoding/json).
	return contender{name: "json-decode", note: "encoding/json.Unmarshal into map[string]interface{} only",
		work: func(w, i int) []string {
			var m map[string]interface{}
			if err := json.Unmarshal(lines[i], &m); err != nil {
				fatal(err)
			}
			return nil
		}, n: n, bytes: by}
}

type namedEval struct {
	name string
	e    *evaluator.RuleEvaluator
}

func loadSigmaGo(dir, configPath string) ([]sigmago.Rule, sigmago.Config, error) {
	var cfg sigmago.Config
	if configPath != "" {
		b, err := os.ReadFile(configPath)
		if err != nil {
			return nil, cfg, err
		}
		if cfg, err = sigmago.ParseConfig(b); err != nil {
			return nil, cfg, fmt.Errorf("%s: %w", configPath, err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		return nil, cfg, err
	}
	sort.Strings(files)
	var rules []sigmago.Rule
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, cfg, err
		}
		r, err := sigmago.ParseRule(b)
		if err != nil {
			fmt.Fprintf(os.Stderr, "compare: skipping %s: %v\n", f, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return nil, cfg, fmt.Errorf("no rules in %s", dir)
	}
	return rules, cfg, nil
}

// gsreEvent is datamodels.Map, go-sigma-rule-engine's own dynamic-map
// event, with values rendered the way the engine can compare them: it
// matches only strings and float64, so JSON booleans become "true" or
// "false" and an empty array "[]" (as Log Analytics writes
// NetworkLocationDetails).
type gsreEvent struct{ datamodels.Map }

func (e gsreEvent) Select(key string) (interface{}, bool) {
	v, ok := e.Map.Select(key)
	switch x := v.(type) {
	case bool:
		if x {
			return "true", ok
		}
		return "false", ok
	case []interface{}:
		if len(x) == 0 {
			return "[]", ok
		}
	}
	return v, ok
}

func printTable(rs []result) {
	var ew, fj, ls *result
	for i := range rs {
		switch rs[i].Name {
		case "entrawatch":
			ew = &rs[i]
		case "fastjson":
			fj = &rs[i]
		case "linescan":
			ls = &rs[i]
		}
	}
	// On one core the ratios use CPU time, which a busy neighbour does not
	// inflate; on more, wall time, which is what parallelism buys.
	byCPU := *flagCores == 1
	rate := func(r *result) float64 {
		if byCPU {
			return r.EventsPCS
		}
		return r.EventsPS
	}
	ratio := func(a, b *result) string {
		if a == nil || b == nil || rate(b) == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f×", rate(a)/rate(b))
	}
	basis := "wall time"
	if byCPU {
		basis = "CPU time"
	}
	matches := fmtMatches
	if *flagMode == "sigmahq" {
		// 65 rules: the per-rule counts are in the agreement table below.
		matches = func(m map[string]int64) string {
			if len(m) == 0 {
				return ""
			}
			var n int64
			for _, v := range m {
				n += v
			}
			return fmt.Sprintf("%d matches of %d rules", n, len(m))
		}
	}
	fmt.Printf("| contender | workers | events/s (wall) | MB/s (wall) | events per CPU-s | MB per CPU-s | µs CPU/event | allocs/event | KB alloc/event | entrawatch ÷ this | this ÷ fastjson | this ÷ line scan | matches |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for i := range rs {
		r := &rs[i]
		fmt.Printf("| %s | %d | %.0f | %.1f | %.0f | %.1f | %.2f | %.1f | %.1f | %s | %s | %s | %s |\n",
			r.Name, r.Cores, r.EventsPS, r.MBPS, r.EventsPCS, r.MBPCS, 1e6/r.EventsPCS, r.AllocsPE, r.BytesPE/1024,
			ratio(ew, r), ratio(r, fj), ratio(r, ls), matches(r.Matches))
	}
	fmt.Println()
	if *flagMode == "sigmahq" {
		fmt.Printf("Ratios are throughput ratios by %s (medians of %d runs).\n\n", basis, *flagRuns)
	} else {
		fmt.Printf("Ratios are throughput ratios by %s (medians of %d runs). %s\n\n", basis, *flagRuns, agreement(rs))
	}
	for _, r := range rs {
		fmt.Printf("- %s: %s; wall ms per run: %v\n", r.Name, r.Note, r.AllRunsMS)
	}
	if *flagMode == "sigmahq" {
		printSigmaHQReport(rs)
	}
}

func fmtMatches(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// predecoded holds the first -eval-n events decoded into maps, for the
// evaluate-only contenders. They exist only while such a contender runs:
// held all along, their heap would slow every other contender's garbage
// collections.
type predecoded struct {
	lines [][]byte
	maps  []map[string]interface{}
}

func (p *predecoded) decode() {
	k := min(*flagEvalN, len(p.lines))
	p.maps = make([]map[string]interface{}, k)
	for i := 0; i < k; i++ {
		if err := json.Unmarshal(p.lines[i], &p.maps[i]); err != nil {
			fatal(err)
		}
	}
}

func (p *predecoded) release() { p.maps = nil }

// at returns event i, cycling through the decoded ones.
func (p *predecoded) at(i int) map[string]interface{} { return p.maps[i%len(p.maps)] }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(2)
}

// cpuTime is the CPU time (user + system) the process has used: on a
// shared machine it measures the work done, where wall time also counts
// the time other processes held the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// agreement says whether the engines that read the whole file raised the
// same alerts per rule.
func agreement(rs []result) string {
	var ref *result
	var differ []string
	for i := range rs {
		r := &rs[i]
		switch r.Name {
		case "entrawatch", "sigma-go", "gsre":
		default:
			continue
		}
		if ref == nil {
			ref = r
			continue
		}
		if fmtMatches(r.Matches) != fmtMatches(ref.Matches) {
			differ = append(differ, r.Name)
		}
	}
	switch {
	case ref == nil:
		return ""
	case len(ref.Matches) == 0:
		return "WARNING: entrawatch raised no alert."
	case len(differ) > 0:
		return "WARNING: alerts per rule differ from " + ref.Name + "'s for " + strings.Join(differ, ", ") + "."
	}
	return "entrawatch, sigma-go and go-sigma-rule-engine raised the same alerts per rule on the whole file."
}
