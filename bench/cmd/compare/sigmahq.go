package main

// -mode sigmahq: every SigmaHQ Azure sign-in and audit rule of the corpus
// ($ENTRAWATCH_CORPUS/sigma/signin_logs and sigma/audit_logs, read in
// place, never copied) in entrawatch's Sigma engine, sigma-go and
// go-sigma-rule-engine, on the same records; then which records each rule
// matched in each engine.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/sigma"
	"github.com/markuskont/datamodels"
	gsre "github.com/markuskont/go-sigma-rule-engine"
	"github.com/valyala/fastjson"
)

// hqRule describes one SigmaHQ rule for the report.
type hqRule struct {
	id, title, file, service string
}

// hqState is what the report needs besides the measurements.
var hqState struct {
	rules   []hqRule            // every rule file of the two folders, in file order
	refused map[string][]string // engine -> "file: reason"
	// evalErrors counts, per engine and rule id, the events on which the
	// engine returned an error instead of a verdict (warm-up round).
	evalErrors map[string]map[string]int64
	firstErr   map[string]map[string]string
	mu         sync.Mutex
	lines      [][]byte
}

func hqDirs() ([]string, error) {
	if *flagCorpus == "" {
		return nil, fmt.Errorf("-mode sigmahq needs the corpus: set ENTRAWATCH_CORPUS or -corpus")
	}
	var dirs []string
	for _, d := range []string{"signin_logs", "audit_logs"} {
		dir := filepath.Join(*flagCorpus, "sigma", d)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("no SigmaHQ rule folder at %s", dir)
		}
		dirs = append(dirs, dir)
	}
	return dirs, nil
}

// service says which SigmaHQ rules apply to a decoded diagnostic-settings
// record, as entrawatch's engine dispatches by record kind: the peers get
// the same logsource routing, from the record's category.
func service(category any) string {
	c, _ := category.(string)
	switch c = strings.ToLower(c); {
	case c == "auditlogs":
		return "auditlogs"
	case strings.HasSuffix(c, "signinlogs"):
		return "signinlogs"
	}
	return ""
}

func noteEvalError(engine, id string, err error) {
	hqState.mu.Lock()
	defer hqState.mu.Unlock()
	if hqState.evalErrors[engine] == nil {
		hqState.evalErrors[engine] = map[string]int64{}
		hqState.firstErr[engine] = map[string]string{}
	}
	hqState.evalErrors[engine][id]++
	if _, ok := hqState.firstErr[engine][id]; !ok {
		hqState.firstErr[engine][id] = err.Error()
	}
}

func sigmaHQContenders(lines [][]byte, total int64) ([]contender, error) {
	dirs, err := hqDirs()
	if err != nil {
		return nil, err
	}
	hqState.refused = map[string][]string{}
	hqState.evalErrors = map[string]map[string]int64{}
	hqState.firstErr = map[string]map[string]string{}
	hqState.lines = lines
	n := func() int { return len(lines) }
	by := func() int64 { return total }
	cs := baselines(lines, total)

	// (a) entrawatch: sigma.LoadPaths + sigma.Compile with one shared
	// compiler, every rule in an engine without the built-ins.
	rules, probs := sigma.LoadPaths(dirs)
	dets, cprobs := sigma.Compile(rules, rule.NewCompiler(), sigma.Config{})
	for _, p := range append(probs, cprobs...) {
		hqState.refused["entrawatch"] = append(hqState.refused["entrawatch"], fmt.Sprintf("%s: %s", filepath.Base(p.File), p.Msg))
	}
	for _, r := range rules {
		hqState.rules = append(hqState.rules, hqRule{id: r.Name(), title: r.Title, file: filepath.Base(r.File), service: r.Logsource.Service})
	}
	type ewWorker struct {
		p   fastjson.Parser
		rec record.Record
		ids []string
	}
	var eng *detect.Engine
	var ews []*ewWorker
	cs = append(cs, contender{name: "entrawatch", note: fmt.Sprintf("fastjson parse + record.Classify + Detect of SigmaHQ's %d rules compiled by internal/sigma (no built-ins)", len(dets)),
		setup: func(w int) error {
			var err error
			eng, err = detect.NewEngine(detect.Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), NoBuiltin: true})
			if err != nil {
				return err
			}
			for _, d := range dets {
				eng.Add(d)
			}
			ews = make([]*ewWorker, w)
			for i := range ews {
				ews[i] = &ewWorker{}
			}
			return nil
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

	// (b) sigma-go with the benchmark's field mappings.
	cfgPath := filepath.Join(*flagRules, "sigma-go-config.yml")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, err
	}
	sgCfg, err := sigmago.ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	var sgRules []sigmago.Rule
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
		sort.Strings(files)
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			r, err := sigmago.ParseRule(src)
			if err != nil {
				hqState.refused["sigma-go"] = append(hqState.refused["sigma-go"], fmt.Sprintf("%s: %v", filepath.Base(f), err))
				continue
			}
			sgRules = append(sgRules, r)
		}
	}
	sgBy := map[string][]namedEval{}
	setupSG := func(int) error {
		clear(sgBy)
		for _, r := range sgRules {
			s := strings.ToLower(r.Logsource.Service)
			sgBy[s] = append(sgBy[s], namedEval{r.ID, evaluator.ForRule(r, evaluator.WithConfig(sgCfg))})
		}
		return nil
	}
	// sgEval evaluates ev; note says whether to count the errors (the
	// evaluate-only contender sees the same rules fail on the same events).
	sgEval := func(ev map[string]interface{}, note bool) []string {
		var ids []string
		for _, e := range sgBy[service(ev["category"])] {
			r, err := e.e.Matches(context.Background(), ev)
			if err != nil {
				if note {
					noteEvalError("sigma-go", e.name, err)
				}
				continue
			}
			if r.Match {
				ids = append(ids, e.name)
			}
		}
		return ids
	}
	cs = append(cs, contender{name: "sigma-go", note: fmt.Sprintf("encoding/json → map + sigma-go v0.6.6 on the %d SigmaHQ rules it parses (JSONPath field mappings, rules routed by the record's category)", len(sgRules)),
		setup: setupSG,
		work: func(w, i int) []string {
			var m map[string]interface{}
			if err := json.Unmarshal(lines[i], &m); err != nil {
				fatal(err)
			}
			return sgEval(m, true)
		}, n: n, bytes: by})

	decoded := &predecoded{lines: lines}
	cs = append(cs, contender{name: "sigma-go-eval", note: fmt.Sprintf("sigma-go on pre-decoded maps (%d distinct events, cycled)", min(*flagEvalN, len(lines))),
		setup: setupSG, before: decoded.decode, after: decoded.release,
		work: func(w, i int) []string { return sgEval(decoded.at(i), false) },
		n:    n, bytes: by})

	// (c) go-sigma-rule-engine: the rules it can build a tree for, one set
	// per worker (a tree is not safe for concurrent use).
	files, err := gsre.NewRuleFileList(dirs)
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	handles, err := gsre.NewRuleList(files, true, false)
	if err != nil {
		if bulk, ok := err.(gsre.ErrBulkParseYaml); ok {
			for _, e := range bulk.Errs {
				hqState.refused["gsre"] = append(hqState.refused["gsre"], fmt.Sprintf("%s: %v", filepath.Base(e.Path), e.Err))
			}
		} else {
			return nil, err
		}
	}
	var gsOK []gsre.RuleHandle
	for _, h := range handles {
		if h.Multipart {
			hqState.refused["gsre"] = append(hqState.refused["gsre"], fmt.Sprintf("%s: multipart rule files are not supported", filepath.Base(h.Path)))
			continue
		}
		if _, err := gsre.NewTree(h); err != nil {
			hqState.refused["gsre"] = append(hqState.refused["gsre"], fmt.Sprintf("%s: %v", filepath.Base(h.Path), err))
			continue
		}
		gsOK = append(gsOK, h)
	}
	var gsBy []map[string][]*gsre.Tree
	setupGS := func(w int) error {
		gsBy = make([]map[string][]*gsre.Tree, w)
		for i := range gsBy {
			gsBy[i] = map[string][]*gsre.Tree{}
			for _, h := range gsOK {
				t, err := gsre.NewTree(h)
				if err != nil {
					return err
				}
				s := strings.ToLower(h.Logsource.Service)
				gsBy[i][s] = append(gsBy[i][s], t)
			}
		}
		return nil
	}
	gsEval := func(w int, m datamodels.Map) []string {
		var ids []string
		ev := gsreEvent{m}
		for _, t := range gsBy[w][service(m["category"])] {
			if ok, _ := t.Match(ev); ok {
				ids = append(ids, t.Rule.ID)
			}
		}
		return ids
	}
	cs = append(cs, contender{name: "gsre", note: fmt.Sprintf("encoding/json → datamodels.Map + go-sigma-rule-engine v0.3.0 on the %d SigmaHQ rules it builds (dotted paths, no field mappings; rules routed by the record's category)", len(gsOK)),
		setup: setupGS,
		work: func(w, i int) []string {
			var m datamodels.Map
			if err := json.Unmarshal(lines[i], &m); err != nil {
				fatal(err)
			}
			return gsEval(w, m)
		}, n: n, bytes: by})
	cs = append(cs, contender{name: "gsre-eval", note: fmt.Sprintf("go-sigma-rule-engine on pre-decoded maps (%d distinct events, cycled)", min(*flagEvalN, len(lines))),
		setup: setupGS, before: decoded.decode, after: decoded.release,
		work: func(w, i int) []string { return gsEval(w, datamodels.Map(decoded.at(i))) },
		n:    n, bytes: by})
	return cs, nil
}

// printSigmaHQReport prints the rules each engine refused and, per rule,
// the records each engine matched, with the records on which they differ.
func printSigmaHQReport(rs []result) {
	engines := []string{"entrawatch", "sigma-go", "gsre"}
	per := map[string]map[string][]int{}
	for _, r := range rs {
		for _, e := range engines {
			if r.Name == e {
				per[e] = r.PerRecord
			}
		}
	}
	fmt.Println()
	fmt.Printf("### Rules (%d files) refused or failing\n\n", len(hqState.rules))
	for _, e := range engines {
		ref := hqState.refused[e]
		if len(ref) == 0 {
			fmt.Printf("- %s: none refused\n", e)
		} else {
			fmt.Printf("- %s refused %d:\n", e, len(ref))
			for _, x := range ref {
				fmt.Printf("  - %s\n", oneLine(x))
			}
		}
		if errs := hqState.evalErrors[e]; len(errs) > 0 {
			ids := make([]string, 0, len(errs))
			for id := range errs {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			// Errors are counted in every round; report one round's worth.
			rounds := int64(1 + *flagRuns)
			for _, id := range ids {
				fmt.Printf("  - %s: error on %d events per run (%s)\n", ruleFile(id), errs[id]/rounds, oneLine(hqState.firstErr[e][id]))
			}
		}
	}
	fmt.Println()
	fmt.Println("### Records matched per rule (whole file)")
	fmt.Println()
	fmt.Println("| rule | logsource | entrawatch | sigma-go | go-sigma-rule-engine | records where entrawatch and sigma-go differ | where entrawatch and go-sigma-rule-engine differ |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	type diff struct {
		rule, other string
		onlyEW      []int
		onlyOther   []int
	}
	var diffs []diff
	agreeAll := 0
	for _, r := range hqState.rules {
		cells := []string{}
		for _, e := range engines {
			if per[e] == nil {
				cells = append(cells, "–")
				continue
			}
			cells = append(cells, fmt.Sprint(len(per[e][r.id])))
		}
		same := true
		var dcells []string
		for _, o := range engines[1:] {
			if per["entrawatch"] == nil || per[o] == nil {
				dcells = append(dcells, "–")
				continue
			}
			a, b := minus(per["entrawatch"][r.id], per[o][r.id]), minus(per[o][r.id], per["entrawatch"][r.id])
			if len(a)+len(b) > 0 {
				same = false
				diffs = append(diffs, diff{r.id, o, a, b})
				dcells = append(dcells, fmt.Sprintf("**%d**", len(a)+len(b)))
			} else {
				dcells = append(dcells, "0")
			}
		}
		if same {
			agreeAll++
		}
		fmt.Printf("| %s (`%s`) | %s | %s | %s |\n", r.title, r.file, r.service, strings.Join(cells, " | "), strings.Join(dcells, " | "))
	}
	fmt.Println()
	fmt.Printf("The three engines matched the same records for %d of %d rules.\n", agreeAll, len(hqState.rules))
	if len(diffs) == 0 {
		return
	}
	fmt.Println()
	fmt.Println("Disagreements (records are line numbers of -in; first five of each):")
	fmt.Println()
	for _, d := range diffs {
		fmt.Printf("- `%s` vs %s:", ruleFile(d.rule), d.other)
		if len(d.onlyEW) > 0 {
			fmt.Printf(" %d only entrawatch (%s; e.g. %s)", len(d.onlyEW), lineList(d.onlyEW), describe(d.onlyEW[0]))
		}
		if len(d.onlyOther) > 0 {
			fmt.Printf(" %d only %s (%s; e.g. %s)", len(d.onlyOther), d.other, lineList(d.onlyOther), describe(d.onlyOther[0]))
		}
		fmt.Println()
	}
}

func ruleFile(id string) string {
	for _, r := range hqState.rules {
		if r.id == id {
			return r.file
		}
	}
	return id
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// minus returns the elements of sorted a that are not in sorted b.
func minus(a, b []int) []int {
	var out []int
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			continue
		}
		out = append(out, x)
	}
	return out
}

func lineList(idx []int) string {
	var parts []string
	for i, x := range idx {
		if i == 5 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprint(x+1))
	}
	return "lines " + strings.Join(parts, ", ")
}

// describe summarises record i by the values the Azure rules test.
func describe(i int) string {
	var p fastjson.Parser
	v, err := p.ParseBytes(hqState.lines[i])
	if err != nil {
		return "unparsable"
	}
	props := v.Get("properties")
	str := func(v *fastjson.Value) string {
		if v == nil {
			return "absent"
		}
		if v.Type() == fastjson.TypeString {
			return fmt.Sprintf("%q", v.GetStringBytes())
		}
		s := v.String()
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return s
	}
	if string(v.GetStringBytes("category")) == "AuditLogs" {
		return fmt.Sprintf("audit %s, category %s, result %s", str(props.Get("activityDisplayName")), str(props.Get("category")), str(props.Get("result")))
	}
	return fmt.Sprintf("sign-in to %s, resultType %s, authenticationRequirement %s, conditionalAccessStatus %s, deviceId %s, isCompliant %s, networkLocationDetails %s",
		str(props.Get("resourceDisplayName")), str(v.Get("resultType")), str(props.Get("authenticationRequirement")), str(props.Get("conditionalAccessStatus")),
		str(props.Get("deviceDetail", "deviceId")), str(props.Get("deviceDetail", "isCompliant")), str(props.Get("networkLocationDetails")))
}
