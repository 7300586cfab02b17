package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/allowlist"
	_ "github.com/entrawatch/entrawatch/internal/catalog" // the built-in Sigma detections
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/entrawatch/entrawatch/internal/input"
	"github.com/entrawatch/entrawatch/internal/scan"
	"github.com/entrawatch/entrawatch/internal/sentinel"
	"github.com/entrawatch/entrawatch/internal/sigma"
	"github.com/spf13/cobra"
)

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newScanCmd(s Streams) *cobra.Command {
	var (
		output, inputFormat, now, staleAfter, failOn string
		summary, strict, replay                      bool
		maxRecord, workers, year                     int
		disable, allow, rulePaths, placeholders      []string
		noBuiltin                                    bool
		cpuProfile                                   string
		allowList                                    string
	)
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Find the guide's device threats in exported logs",
		Long: `Scan reads log files, directories (recursively, including the storage-account
layout insights-logs-<category>/tenantId=…/y=…/PT1H.json) and "-" for standard
input, gzip-compressed or not, and prints one alert per finding.

Each file's format is sniffed from its content; --input-format overrides it.
Formats: ` + strings.Join(format.Names(), ", ") + `.

Exit status: 0 whether or not alerts were found; 1 with --fail-on when an alert at
or above that severity was found; 2 on a usage or read error, when a Sentinel rule
failed while running (and, with --strict, on a malformed record).`,
		Example: `  entrawatch scan examples/
  entrawatch scan --output json --summary signins.json audit.csv
  az monitor ... | entrawatch scan -
  entrawatch scan --now 2026-11-27T00:00:00Z --stale-after 120d devices.json
  entrawatch scan --fail-on high --output json exports/ > alerts.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				output = "json"
				if isTerminal(s.Out) {
					output = "table"
				}
			}
			opts := detect.Options{Disable: disable, Allow: &allowlist.List{}}
			if allowList != "" {
				l, err := allowlist.Load(allowList)
				if err != nil {
					return usageError("--allow-list: %v", err)
				}
				opts.Allow = l
			}
			for _, a := range allow {
				e, err := allowlist.ParseEntry(a)
				if err != nil {
					return usageError("--allow %q: %v", a, err)
				}
				opts.Allow.Add(e)
			}
			if now != "" {
				t, err := time.Parse(time.RFC3339Nano, now)
				if err != nil {
					return usageError("--now %q is not an RFC 3339 time (2026-11-27T00:00:00Z)", now)
				}
				opts.Now = t.UTC()
			}
			d, err := detect.ParseDays(staleAfter)
			if err != nil {
				return usageError("--stale-after: %v", err)
			}
			if d < detect.MinStaleAfter {
				// Checked here, not only by the engine: 0 would otherwise
				// fall back to the default.
				return usageError("--stale-after %s is under 21 days: Entra updates a device's activity time only every 14±5 days, so a shorter period flags active devices as stale", staleAfter)
			}
			opts.StaleAfter = d
			var failSev alert.Severity
			if failOn != "" {
				if failSev, err = alert.ParseSeverity(failOn); err != nil {
					return usageError("--fail-on: %v", err)
				}
			}
			if inputFormat != "" {
				if _, err := format.Lookup(inputFormat); err != nil {
					return usageError("--input-format: %v", err)
				}
			}
			opts.NoBuiltin = noBuiltin
			eng, err := detect.NewEngine(opts)
			if err != nil {
				return usageError("%v", err)
			}
			var sigmaDets []*sigma.Detector
			var sentinelSet *sentinel.Set
			if len(rulePaths) > 0 {
				cfg, err := placeholderConfig(placeholders)
				if err != nil {
					return usageError("--placeholder: %v", err)
				}
				l := loadRules(rulePaths, cfg, true)
				for _, p := range l.probs {
					fmt.Fprintf(s.Err, "warning: %s\n", alert.Terminal(p.Error()))
				}
				// Fields no record carries: the rules still run.
				for _, p := range l.warns {
					fmt.Fprintf(s.Err, "warning: %s\n", alert.Terminal(p.Error()))
				}
				for _, d := range l.sigma {
					eng.Add(d)
				}
				sigmaDets = l.sigma
				if len(l.sentinel) > 0 {
					// The rows of a Sentinel rule's tables are put back in
					// the order the scan reads its inputs.
					inputs, _ := input.Expand(args, nil)
					order := make([]string, len(inputs))
					for i, in := range inputs {
						order[i] = in.Name
					}
					sopts := sentinel.Options{Replay: replay, FileOrder: order}
					if now != "" {
						sopts.Now = opts.Now
					}
					sentinelSet = sentinel.NewSet(l.sentinel, sopts)
					for _, d := range sentinelSet.Detectors() {
						eng.Add(d)
					}
				}
			}
			if len(eng.Detectors()) == 0 {
				return usageError("no detections to run (--no-builtin without usable --rules)")
			}
			w, err := alert.NewWriter(output, s.Out)
			if err != nil {
				return usageError("--output: %v", err)
			}
			progress := isTerminal(s.Err)
			cleared := true
			cfg := scan.Config{
				Paths: args, Stdin: s.In, InputFormat: inputFormat, Workers: workers, MaxRecord: maxRecord, Year: year,
				Engine: eng,
				Alert:  w.Write,
				Warn: func(msg string) {
					if !cleared {
						fmt.Fprint(s.Err, "\r\033[K")
						cleared = true
					}
					fmt.Fprintf(s.Err, "warning: %s\n", alert.Terminal(msg))
				},
			}
			if progress {
				cfg.Progress = func(b, n int64, el time.Duration) {
					if el < time.Second {
						return
					}
					cleared = false
					fmt.Fprintf(s.Err, "\r\033[K%.1f MB read, %d records, %.0f records/s", float64(b)/1e6, n, float64(n)/el.Seconds())
				}
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return usageError("--cpuprofile: %v", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return usageError("--cpuprofile: %v", err)
				}
				defer pprof.StopCPUProfile()
			}
			stats, runErr := scan.Run(cmd.Context(), cfg)
			if progress && !cleared {
				fmt.Fprint(s.Err, "\r\033[K")
			}
			// What correlation rules could not count (records without an
			// event time, groups over the cap…), known once they finished.
			for _, d := range sigmaDets {
				for _, p := range d.Warnings() {
					fmt.Fprintf(s.Err, "warning: %s\n", alert.Terminal(p.Error()))
				}
			}
			// What Sentinel rules did not evaluate, and the rules that failed.
			var sentinelErrs []sentinel.Problem
			if sentinelSet != nil {
				for _, p := range sentinelSet.Warnings() {
					fmt.Fprintf(s.Err, "warning: %s\n", alert.Terminal(p.Error()))
				}
				sentinelErrs = sentinelSet.Errors()
				for _, p := range sentinelErrs {
					fmt.Fprintf(s.Err, "error: %s\n", alert.Terminal(p.Error()))
				}
			}
			if err := w.Close(); err != nil && runErr == nil {
				runErr = fmt.Errorf("writing alerts: %w", err)
			}
			if stats != nil && summary {
				var ids []string
				for _, d := range eng.Detectors() {
					ids = append(ids, d.Info().ID)
				}
				fmt.Fprint(s.Err, scan.FormatStats(stats, ids))
			}
			switch {
			case runErr != nil:
				return &ExitError{Code: 2, Err: runErr}
			case stats.ReadErrors > 0:
				n := "1 input"
				if stats.ReadErrors > 1 {
					n = fmt.Sprintf("%d inputs", stats.ReadErrors)
				}
				return &ExitError{Code: 2, Err: fmt.Errorf("%s could not be read", n)}
			case len(sentinelErrs) > 0:
				n := "1 Sentinel rule"
				if len(sentinelErrs) > 1 {
					n = fmt.Sprintf("%d Sentinel rules", len(sentinelErrs))
				}
				return &ExitError{Code: 2, Err: fmt.Errorf("%s could not be evaluated", n)}
			case strict && stats.Bad > 0:
				return &ExitError{Code: 2, Err: fmt.Errorf("%d malformed records (--strict)", stats.Bad)}
			case failSev != 0 && stats.MaxSeverity >= failSev:
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "output format: table, json (JSON lines) or csv (default: table on a terminal, json otherwise)")
	f.StringVar(&inputFormat, "input-format", "", "read every input as this format instead of sniffing ("+strings.Join(format.Names(), ", ")+")")
	f.BoolVar(&summary, "summary", false, "print counts per rule, per input format and of skipped records to stderr")
	f.StringVar(&now, "now", "", "reference time of relative checks such as staleness, RFC 3339 (default: the current time)")
	f.StringVar(&staleAfter, "stale-after", "90d", "inactivity after which a device is stale (at least 21d)")
	f.StringVar(&failOn, "fail-on", "", "exit with status 1 when an alert at or above this severity is found: low, medium or high")
	f.BoolVar(&strict, "strict", false, "exit with status 2 when any record is malformed")
	f.IntVar(&maxRecord, "max-record-size", 16<<20, "largest record in bytes; longer records are skipped with a warning")
	f.IntVar(&workers, "workers", 0, "parsing goroutines (default: one per core)")
	f.IntVar(&year, "year", 0, "year of syslog timestamps that carry none (default: from the file's modification time)")
	f.StringSliceVar(&disable, "disable", nil, "detection ids to turn off (repeatable, comma-separated)")
	f.StringArrayVar(&rulePaths, "rules", nil, "rule file or folder to run beside the built-in detections: Sigma detection, correlation and filter rules, and Microsoft Sentinel scheduled analytic rules (repeatable)")
	f.BoolVar(&replay, "sentinel-replay", false, "run each Sentinel rule's schedule (every queryFrequency back to the oldest record) instead of once at --now over its queryPeriod")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the scan to this file (for go tool pprof)")
	_ = f.MarkHidden("cpuprofile")
	f.BoolVar(&noBuiltin, "no-builtin", false, "turn the built-in detections off, so that only the --rules run")
	f.StringArrayVar(&placeholders, "placeholder", nil, "value of a Sigma expand placeholder, as NAME=VALUE (repeatable)")
	f.StringVar(&allowList, "allow-list", "", "file of local accounts approved to log in to VMs: lines of \"HOST ACCOUNT\" (\"*\" for every host)")
	f.StringArrayVar(&allow, "allow", nil, "approve a local VM account, as [HOST:]ACCOUNT (ACCOUNT may be DOMAIN\\name); repeatable")
	return cmd
}
