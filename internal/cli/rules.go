package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/entrawatch/entrawatch/internal/catalog"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/sentinel"
	"github.com/entrawatch/entrawatch/internal/sigma"
	"github.com/entrawatch/entrawatch/internal/yamltree"
	"github.com/spf13/cobra"
)

func newRulesCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, show, lint and test detections (built-in, Sigma and Sentinel)",
	}
	var out string
	var listRules []string
	list := &cobra.Command{
		Use:   "list",
		Short: "Print the catalogue of built-in detections (and of --rules)",
		Long:  "List prints every built-in detection with its id, risk level, data source and ATT&CK technique,\nthen those of the Sigma and Sentinel rules given with --rules (problems go to stderr).\nWith --output markdown it prints the catalogue page docs/rules.md is generated from (built-ins only).",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat := detect.Catalogue()
			if len(listRules) > 0 && out != "markdown" {
				l := loadRules(listRules, sigma.Config{}, false)
				for _, p := range l.probs {
					fmt.Fprintf(s.Err, "warning: %s\n", p.Error())
				}
				for _, d := range l.sigma {
					cat = append(cat, d.Info())
				}
				for _, d := range sentinel.NewSet(l.sentinel, sentinel.Options{}).Detectors() {
					cat = append(cat, d.Info())
				}
			}
			switch out {
			case "table", "":
				fmt.Fprintf(s.Out, "%-38s  %-6s  %-40s  %s\n", "ID", "RISK", "SOURCE", "ATT&CK")
				for _, d := range cat {
					fmt.Fprintf(s.Out, "%-38s  %-6s  %-40s  %s\n", d.ID, d.Severity, d.Source, d.Technique)
				}
			case "markdown":
				WriteCatalogueMarkdown(s.Out, cat)
			case "json":
				type row struct {
					ID          string `json:"id"`
					Title       string `json:"title"`
					Severity    string `json:"severity"`
					Source      string `json:"source"`
					Technique   string `json:"technique"`
					Description string `json:"description"`
					Next        string `json:"next"`
				}
				enc := json.NewEncoder(s.Out)
				for _, d := range cat {
					if err := enc.Encode(row{d.ID, d.Title, d.Severity.String(), d.Source, d.Technique, d.Description, d.Next}); err != nil {
						return err
					}
				}
			default:
				return usageError("--output %q: want table, markdown or json", out)
			}
			return nil
		},
	}
	list.Flags().StringVarP(&out, "output", "o", "table", "table, markdown or json")
	list.Flags().StringArrayVar(&listRules, "rules", nil, "also list the Sigma and Sentinel rules of this file or folder (repeatable)")
	var placeholders []string
	var noFieldCheck bool
	lint := &cobra.Command{
		Use:   "lint PATH...",
		Short: "Check Sigma and Sentinel rules and report every one that cannot be used",
		Long: `Lint loads rule files and folders as scan --rules does (Sigma rules and Microsoft
Sentinel scheduled analytic rules, mixed) and prints, for each rule that cannot
be used, its file, line, column and the reason (an unknown modifier, a logsource
entrawatch reads no records of, a condition naming a missing search identifier,
a filter naming an unknown rule, a KQL function or table a Sentinel query uses
that entrawatch does not evaluate…).

It also warns, with the file, line and column, about each field that no record
kind of the rule's logsource carries in any format entrawatch reads (with the
closest known field), and about a value compared as text with a field that
holds an object (Status: 'Success' where Status is {errorCode, …}). Such a
rule still loads and runs, since a tenant may add fields; --no-field-check
skips this check.

It exits 1 when any problem or warning is reported.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := placeholderConfig(placeholders)
			if err != nil {
				return usageError("--placeholder: %v", err)
			}
			l := loadRules(args, cfg, !noFieldCheck)
			for _, p := range l.probs {
				fmt.Fprintln(s.Out, p.Error())
			}
			for _, w := range l.warns {
				fmt.Fprintln(s.Out, w.Warning())
			}
			fmt.Fprintf(s.Err, "%d rules usable, %d problems, %d warnings\n", l.usable(), len(l.probs), len(l.warns))
			if len(l.probs) > 0 || len(l.warns) > 0 {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	lint.Flags().StringArrayVar(&placeholders, "placeholder", nil, "value of a Sigma expand placeholder, as NAME=VALUE (repeatable)")
	lint.Flags().BoolVar(&noFieldCheck, "no-field-check", false, "do not warn about fields that no record kind of a rule's logsource carries")
	var showRules []string
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Print one detection: a built-in's Sigma document or catalogue entry, or a Sigma or Sentinel rule given with --rules",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if len(showRules) > 0 {
				l := loadRules(showRules, sigma.Config{}, false)
				for _, r := range l.sentinel {
					if r.AlertID() == id || r.ID == id || r.Name == id {
						src, err := os.ReadFile(r.File)
						if err != nil {
							return &ExitError{Code: 2, Err: err}
						}
						fmt.Fprintf(s.Out, "# %s:%d (Microsoft Sentinel %s rule %s over %s)\n%s", r.File, r.Line, r.Kind, r.AlertID(), strings.Join(r.Tables, ", "), src)
						return nil
					}
				}
				for _, d := range l.sigma {
					if d.Info().ID == id || d.Rule().Title == id {
						src, err := sigma.Source(d.Rule())
						if err != nil {
							return &ExitError{Code: 2, Err: err}
						}
						fmt.Fprintf(s.Out, "# %s:%d\n%s", d.Rule().File, d.Rule().Line, src)
						return nil
					}
				}
			}
			if src, ok := catalog.Source(id); ok {
				fmt.Fprintf(s.Out, "# built-in detection %s (turn it off with --disable %s, or replace it with a --rules rule of the same id)\n%s", id, id, src)
				return nil
			}
			for _, d := range detect.Catalogue() {
				if d.ID == id {
					fmt.Fprintf(s.Out, "id:          %s\ntitle:       %s\nrisk:        %s\nsource:      %s\nattack:      %s\nkinds:       %s\n\n%s\n\nNext steps: %s\n",
						d.ID, d.Title, d.Severity, d.Source, d.Technique, kindList(d), wrap(d.Description), wrap(d.Next))
					return nil
				}
			}
			return usageError("no detection %q (see entrawatch rules list)", id)
		},
	}
	show.Flags().StringArrayVar(&showRules, "rules", nil, "Sigma or Sentinel rule file or folder to look in (repeatable)")
	cmd.AddCommand(list, lint, show, newRulesTestCmd(s))
	return cmd
}

func kindList(d *detect.Info) string {
	var ks []string
	for _, k := range d.Kinds {
		ks = append(ks, k.String())
	}
	return strings.Join(ks, ", ")
}

// wrap folds text at about 80 columns.
func wrap(s string) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		if n > 0 && n+1+len(w) > 80 {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// loadedRules are the rules of --rules files and folders, which may mix
// Sigma rules and Microsoft Sentinel analytic rules.
type loadedRules struct {
	sigma    []*sigma.Detector
	sentinel []*sentinel.Rule
	// probs are the rules that cannot be used (of both formats); warns
	// the field check's warnings about Sigma rules.
	probs, warns []sigma.Problem
}

// usable is the number of rules that run.
func (l *loadedRules) usable() int { return len(l.sigma) + len(l.sentinel) }

// loadRules loads the rules of paths: each YAML document that is a
// Sentinel analytic rule (sentinel.IsRule) goes to internal/sentinel, a
// Sentinel hunting query is refused, every other document is read as
// Sigma and compiled. With fieldCheck, the Sigma field check's warnings
// are returned too (sigma.CheckFields).
func loadRules(paths []string, cfg sigma.Config, fieldCheck bool) loadedRules {
	var out loadedRules
	var sprobs []sentinel.Problem
	other := func(file string, src []byte, doc *yamltree.Node) bool {
		switch {
		case sentinel.IsRule(doc):
			r, ps := sentinel.Load(file, src, doc)
			sprobs = append(sprobs, ps...)
			if r != nil {
				out.sentinel = append(out.sentinel, r)
			}
			return true
		case sentinel.IsHuntingQuery(doc):
			sprobs = append(sprobs, sentinel.HuntingQuery(file, doc))
			return true
		}
		return false
	}
	rules, probs := sigma.LoadPathsWith(paths, other)
	dets, cprobs := sigma.Compile(rules, rule.NewCompiler(), cfg)
	var dups []sentinel.Problem
	out.sentinel, dups = sentinel.Unique(out.sentinel)
	for _, p := range append(sprobs, dups...) {
		probs = append(probs, sigma.Problem{File: p.File, Line: p.Line, Col: p.Col, RuleID: p.RuleID, Msg: p.Msg})
	}
	out.sigma, out.probs = dets, append(probs, cprobs...)
	if fieldCheck {
		out.warns = sigma.CheckFields(rules)
	}
	return out
}

// placeholderConfig reads NAME=VALUE placeholder values.
func placeholderConfig(specs []string) (sigma.Config, error) {
	cfg := sigma.Config{Placeholders: map[string][]string{}}
	for _, s := range specs {
		name, val, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return cfg, fmt.Errorf("%q is not NAME=VALUE", s)
		}
		cfg.Placeholders[name] = append(cfg.Placeholders[name], val)
	}
	return cfg, nil
}

// WriteCatalogueMarkdown writes the rule catalogue page (docs/rules.md).
func WriteCatalogueMarkdown(w io.Writer, cat []*detect.Info) {
	fmt.Fprintln(w, "# Detection catalogue")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "<!-- Generated by `entrawatch rules list --output markdown`; do not edit. -->")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Built-in detections of Microsoft's \"security operations for devices\" guide, at the guide's risk level.")
	fmt.Fprintln(w, "The stateless ones are Sigma documents embedded in the binary (`entrawatch rules show ID` prints one); the")
	fmt.Fprintln(w, "stateful ones (the registration-MFA policy check, stale devices, the VM sign-ins) are written in Go.")
	fmt.Fprintln(w, "Turn one off with `entrawatch scan --disable ID`, turn them all off with `--no-builtin`, or replace one")
	fmt.Fprintln(w, "with a Sigma rule of the same `id` given with `--rules`.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| id | risk | data source | ATT&CK |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, d := range cat {
		fmt.Fprintf(w, "| [`%s`](#%s) | %s | %s | %s |\n", d.ID, d.ID, d.Severity, d.Source, d.Technique)
	}
	for _, d := range cat {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "## %s\n\n", d.ID)
		fmt.Fprintf(w, "**%s** — risk **%s**, data source: %s, ATT&CK: %s.\n\n", d.Title, d.Severity, d.Source, d.Technique)
		fmt.Fprintf(w, "%s\n\n", d.Description)
		fmt.Fprintf(w, "**Next steps.** %s\n", strings.TrimSpace(d.Next))
	}
	fmt.Fprint(w, sigmaHQDifferences)
}

// sigmaHQDifferences documents where SigmaHQ's rules for the same guide
// items differ from the guide, and so from the built-ins.
const sigmaHQDifferences = `
## SigmaHQ's device rules and the built-ins

SigmaHQ has rules for six of the guide's items. Run with ` + "`--no-builtin --rules`" + `, they raise the
same alerts as the built-ins on the project's fixtures except where the SigmaHQ rule itself
differs from the guide. The parity test (` + "`internal/scan/sigmahq_parity_test.go`" + `, which reads the
rules through ` + "`ENTRAWATCH_CORPUS`" + `) scans each built-in's fixture folder, positive and negative
cases, both ways, and fails on any difference but those listed here (paths relative to
` + "`testdata/detections/ID/`" + `):

| SigmaHQ rule | built-in | difference | fixture records only one side alerts on |
| --- | --- | --- | --- |
| Device Registration or Join Without MFA (5afa454e) | device-registration-without-mfa | SigmaHQ does not require a successful sign-in (ResultType 0), nor a known authentication requirement: it also fires on failed registrations and on Graph v1.0 records, which carry no authenticationRequirement; nor does it recognise the Device Registration Service by its app id when the name is missing. | SigmaHQ only: a registration that failed with error 50140 (negative/graph-beta-signins.json:4) and a Graph v1.0 sign-in (negative/graph-v1-signins.json:1). Built-in only: a portal CSV row that gives the service's app id but no Resource name (positive/InteractiveSignIns_2026-11-20_2026-11-21.csv:2). |
| Changes to Device Registration Policy (9494bff8) | device-registration-policy-changed | SigmaHQ also requires Category Policy; a record that carries no category is missed. | None: every fixture record carries Category Policy. |
| Sign-ins from Non-Compliant Devices (4f77e1d7) | noncompliant-device-signin | SigmaHQ only tests isCompliant false: it does not require Conditional Access success, as the guide does, and fires on unknown devices (no device id), which the guide treats separately. | SigmaHQ only, all negative cases: Conditional Access not applied (graph-beta-signins.json:2) or failed (graph-beta-signins.json:3, la-noninteractive-signinlogs.jsonl:1), and an unknown device (graph-beta-signins.json:4). |
| Sign-ins by Unknown Devices (4d136857) | unknown-device-signin | SigmaHQ tests NetworkLocationDetails '[]' and DeviceDetail.deviceId '' as values: records where they are absent (portal CSV, records without a device id) are missed; it does not leave out sign-ins to the Device Registration Service. | Built-in only: a portal CSV row, which has no network location column (positive/NonInteractiveSignIns_2026-11-21_2026-11-22.csv:2). |
| Bitlocker Key Retrieval (a0413867) | bitlocker-key-read | SigmaHQ also requires Category KeyManagement. | None: every fixture record carries Category KeyManagement. |
| Azure AD Users Added to Device Admin Roles (11c767ae) | privileged-device-role-added | SigmaHQ looks for Cloud Device Administrator and Global Administrator only, not the Microsoft Entra Joined Device Local Administrator role the guide names; it matches role template ids anywhere in TargetResources (not display names), requires Category RoleManagement, and does not leave out failed or PIM "requested" records. | Built-in only: four assignments of the Microsoft Entra Joined Device Local Administrator role (positive/eventhub-auditlogs.json:1, graph-directoryaudits.json:2, portal-auditlogs.json:1, la-auditlogs-string-columns.jsonl:1) and two that name Global or Cloud Device Administrator without its template id in TargetResources (positive/AuditLogs_2026-11-23_2026-11-24.csv:3, siem-forwarded-auditlogs.jsonl:1). SigmaHQ only: two failed assignments (negative/AuditLogs_2026-11-23_2026-11-24.csv:2, graph-directoryaudits.json:3). |
`
