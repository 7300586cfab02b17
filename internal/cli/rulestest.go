package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/ruletest"
	"github.com/spf13/cobra"
)

// newRulesTestCmd is "entrawatch rules test".
func newRulesTestCmd(s Streams) *cobra.Command {
	var run string
	cmd := &cobra.Command{
		Use:   "test FILE...",
		Short: "Run rule unit tests: input records and the alerts they must raise",
		Long: `Test runs rule unit tests written as YAML (see docs/rule-tests.md): each test
gives input records, inline or in files, and the alerts the detections must raise
on them — exactly these, in any order. The records are scanned with the same
pipeline as "entrawatch scan", with the built-in detections and the Sigma rules
the test file names, and a fresh engine per test.

It prints one line per test, PASS or FAIL, with the differences under a failure
(expected alerts not raised, unexpected alerts, fields that differ, each with the
test file's line), then "N passed, M failed".

Exit status: 0 when every test passes, 1 when a test fails, 2 when a test file
(or a rule file it loads) cannot be used; its problems are printed as
file:line:col: reason.`,
		Example: `  entrawatch rules test testdata/ruletests/builtin/*.yml
  entrawatch rules test --run 'MFA' tests/signins.yml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var match *regexp.Regexp
			if run != "" {
				re, err := regexp.Compile(run)
				if err != nil {
					return usageError("--run: %v", err)
				}
				match = re
			}
			passed, failed, broken, selected := 0, 0, 0, 0
			for _, path := range args {
				f, err := ruletest.Load(path)
				if err != nil {
					broken++
					var es ruletest.Errors
					if errors.As(err, &es) {
						for _, e := range es {
							fmt.Fprintln(s.Err, alert.Terminal(e.Error()))
						}
					} else {
						fmt.Fprintln(s.Err, alert.Terminal(err.Error()))
					}
					continue
				}
				for _, t := range f.Tests {
					if match != nil && !match.MatchString(t.Name) {
						continue
					}
					selected++
					r := t.Run(cmd.Context())
					status := "PASS"
					if r.Passed() {
						passed++
					} else {
						status = "FAIL"
						failed++
					}
					fmt.Fprintf(s.Out, "%s  %s  %s\n", status, t.Pos(), alert.Terminal(t.Name))
					for _, p := range r.Problems {
						fmt.Fprintln(s.Out, indentLines(p, "      "))
					}
					for _, n := range r.Notes {
						fmt.Fprintln(s.Out, indentLines("note: "+n, "      "))
					}
					if err := cmd.Context().Err(); err != nil {
						return &ExitError{Code: 2, Err: err}
					}
				}
			}
			fmt.Fprintf(s.Out, "%d passed, %d failed\n", passed, failed)
			switch {
			case broken > 0:
				n := "1 test file"
				if broken > 1 {
					n = fmt.Sprintf("%d test files", broken)
				}
				return &ExitError{Code: 2, Err: fmt.Errorf("%s could not be used", n)}
			case match != nil && selected == 0:
				return usageError("--run %q matches no test", run)
			case failed > 0:
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "run only the tests whose name matches this regular expression")
	return cmd
}

// indentLines indents every line of s, made safe for a terminal.
func indentLines(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + alert.Terminal(l)
	}
	return strings.Join(lines, "\n")
}
