package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/entrawatch/entrawatch/internal/kql"
	"github.com/spf13/cobra"
)

func newQueryCmd(s Streams) *cobra.Command {
	var (
		output, file, now, inputFormat string
		year                           int
	)
	cmd := &cobra.Command{
		Use:   "query [flags] 'KQL' PATH...",
		Short: "Run a KQL query over exported logs",
		Long: `Query runs a Kusto (KQL) query over the records of the given files, read as
"entrawatch scan" reads them, presented as the Log Analytics tables SigninLogs,
AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs,
AADManagedIdentitySignInLogs, AuditLogs, SecurityEvent, Syslog and Devices.

The query is the first argument, or the content of --file. A query using anything
outside the supported subset (docs/kql.md) is refused before it runs, with the
operator or function and its line:column.

now() and ago() are relative to --now, else to the newest TimeGenerated of the
records read.

Exit status: 0 on success; 2 on a usage error, a refused query, a type error while
running, or an input that could not be read (the query is then not run).`,
		Example: `  entrawatch query 'SigninLogs | where DeviceDetail.isCompliant == false' exports/
  entrawatch query --file hunt.kql --output csv signins.json audit.json
  entrawatch query --now 2026-11-27T00:00:00Z 'AuditLogs | where TimeGenerated > ago(7d) | count' logs/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var src string
			if file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return usageError("--file: %v", err)
				}
				src = string(b)
			} else {
				if len(args) == 0 {
					return usageError("a query is required (as the first argument, or --file)")
				}
				src, args = args[0], args[1:]
			}
			if len(args) == 0 {
				return usageError("at least one PATH is required")
			}
			switch output {
			case "table", "json", "csv":
			case "":
				output = "json"
				if isTerminal(s.Out) {
					output = "table"
				}
			default:
				return usageError("--output %q: use table, json or csv", output)
			}
			if inputFormat != "" {
				if _, err := format.Lookup(inputFormat); err != nil {
					return usageError("--input-format: %v", err)
				}
			}
			var ref time.Time
			if now != "" {
				t, err := time.Parse(time.RFC3339Nano, now)
				if err != nil {
					return usageError("--now %q is not an RFC 3339 time (2026-11-27T00:00:00Z)", now)
				}
				ref = t.UTC()
			}
			q, err := kql.Parse(src)
			if err != nil {
				return usageError("query: %v", err)
			}
			if err := kql.Check(q); err != nil {
				return usageError("query: %v", err)
			}
			stats, err := kql.ExecWrite(cmd.Context(), q, kql.LoadConfig{
				Paths: args, Stdin: s.In, InputFormat: inputFormat, Year: year, Now: ref,
				Warn: func(msg string) {
					fmt.Fprintf(s.Err, "warning: %s\n", alert.Terminal(msg))
				},
			}, s.Out, output)
			if stats != nil && stats.ReadErrors > 0 {
				// A query over part of the data could answer wrongly.
				n := "1 input"
				if stats.ReadErrors > 1 {
					n = fmt.Sprintf("%d inputs", stats.ReadErrors)
				}
				return &ExitError{Code: 2, Err: fmt.Errorf("%s could not be read: the query was not run", n)}
			}
			var qerr *kql.Error
			if errors.As(err, &qerr) {
				return &ExitError{Code: 2, Err: fmt.Errorf("query: %v", err)}
			}
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "output format: table, json (JSON lines) or csv (default: table on a terminal, else json)")
	f.StringVarP(&file, "file", "f", "", "read the query from this file")
	f.StringVar(&now, "now", "", "reference time of now() and ago(), RFC 3339 (default: the newest record's TimeGenerated)")
	f.StringVar(&inputFormat, "input-format", "", "force the input format: "+strings.Join(format.Names(), ", "))
	f.IntVar(&year, "year", 0, "year of syslog timestamps without one (default: the file's modification year)")
	return cmd
}
