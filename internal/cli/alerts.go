package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/serve"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/spf13/cobra"
)

func newAlertsCmd(s Streams) *cobra.Command {
	var cfgPath, db string
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List, show, acknowledge and close the alerts entrawatch serve stored",
		Long: `alerts reads and changes the alerts in the store of entrawatch serve (the
SQLite file of the configuration's store.path, or --db). It may run while
the service runs.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&cfgPath, "config", "c", "", "configuration file whose store to open")
	pf.StringVar(&db, "db", "", "SQLite store file (instead of --config)")

	var status, severity, rule, tenant, since, output string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List alerts, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), cfgPath, db)
			if err != nil {
				return err
			}
			defer st.Close()
			f := store.AlertFilter{Rule: splitComma(rule), Tenant: tenant, Limit: limit}
			for _, x := range splitComma(status) {
				v, err := store.ParseStatus(x)
				if err != nil {
					return usageError("--status: %v", err)
				}
				f.Status = append(f.Status, v)
			}
			if severity != "" {
				if f.MinSeverity, err = alert.ParseSeverity(severity); err != nil {
					return usageError("--severity: %v", err)
				}
			}
			if since != "" {
				d, err := serve.ParseSince(since, time.Now().UTC())
				if err != nil {
					return usageError("--since: %v", err)
				}
				f.Since = d
			}
			page, err := st.Alerts(cmd.Context(), f)
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			if output == "json" {
				enc := json.NewEncoder(s.Out)
				for _, a := range page.Alerts {
					if err := enc.Encode(a); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tRISK\tRULE\tTENANT\tLAST SEEN\tCOUNT\tSUMMARY")
			for _, a := range page.Alerts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.ID, a.Status, a.Severity, a.Rule, alert.Terminal(a.Tenant),
					a.LastSeen.UTC().Format("2006-01-02 15:04:05"), a.Count, clipText(alert.Terminal(a.Summary), 100))
			}
			return tw.Flush()
		},
	}
	lf := list.Flags()
	lf.StringVar(&status, "status", "", "only these statuses (new,acknowledged,closed)")
	lf.StringVar(&severity, "severity", "", "lowest severity (low, medium, high)")
	lf.StringVar(&rule, "rule", "", "only these rule ids (comma-separated)")
	lf.StringVar(&tenant, "tenant", "", "only this tenant")
	lf.StringVar(&since, "since", "", "last seen within this duration (24h, 7d) or since an RFC 3339 time")
	lf.IntVar(&limit, "limit", 100, "at most this many alerts (1-1000)")
	lf.StringVarP(&output, "output", "o", "table", "table or json")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one alert with its notes and the events behind it (JSON)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), cfgPath, db)
			if err != nil {
				return err
			}
			defer st.Close()
			a, err := st.Alert(cmd.Context(), args[0])
			if err != nil {
				return &ExitError{Code: 1, Err: fmt.Errorf("alert %s: %w", args[0], err)}
			}
			type ev struct {
				Kind   string          `json:"kind"`
				ID     string          `json:"id"`
				Source string          `json:"source"`
				Time   time.Time       `json:"time,omitzero"`
				Record json.RawMessage `json:"record,omitempty"`
			}
			var evidence []ev
			for _, e := range a.Evidence {
				x := ev{Kind: e.Kind, ID: e.ID, Source: e.Source, Time: e.Time}
				if json.Valid(e.Raw) {
					x.Record = e.Raw
				}
				evidence = append(evidence, x)
			}
			// store.Alert's own JSON, with the evidence added.
			b, err := json.Marshal(a)
			if err != nil {
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return err
			}
			m["evidence"] = evidence
			enc := json.NewEncoder(s.Out)
			enc.SetIndent("", "  ")
			return enc.Encode(m)
		},
	}
	var note, author string
	change := func(use, short string, to store.Status) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " ID...",
			Short: short,
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				st, err := openStore(cmd.Context(), cfgPath, db)
				if err != nil {
					return err
				}
				defer st.Close()
				for _, id := range args {
					a, err := st.SetStatus(cmd.Context(), id, to, author, note)
					if err != nil {
						return &ExitError{Code: 1, Err: fmt.Errorf("alert %s: %w", id, err)}
					}
					fmt.Fprintf(s.Out, "%s %s\n", a.ID, a.Status)
				}
				return nil
			},
		}
		c.Flags().StringVarP(&note, "note", "m", "", "a note kept with the status change")
		c.Flags().StringVar(&author, "author", currentUser(), "who made the change")
		return c
	}
	cmd.AddCommand(list, show,
		change("ack", "Acknowledge alerts", store.StatusAcknowledged),
		change("close", "Close alerts", store.StatusClosed),
		change("reopen", "Set alerts back to new", store.StatusNew))
	return cmd
}

func splitComma(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func currentUser() string {
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	return "cli"
}
