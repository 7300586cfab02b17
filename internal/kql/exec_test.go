package kql

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/scan"
)

var goldenNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// execQueries are queries over testdata/kql/fixtures beside the golden
// ones, for the shapes the streaming path treats apart: each sink, the
// operators it compiles, the fast paths of compiled expressions, errors
// and their order.
var execQueries = map[string]string{
	"where-chain":         `SigninLogs | where DeviceDetail.isCompliant == false | where ConditionalAccessStatus == "success"`,
	"where-unknown":       `SigninLogs | where isempty(DeviceDetail.deviceId) | where AuthenticationRequirement == "singleFactorAuthentication" | where ResultType == "0" | where NetworkLocationDetails == "[]"`,
	"where-folds":         `SigninLogs | where UserPrincipalName =~ "ADELE.VANCE@contoso.com" or Location !~ "us" | where isnotempty(Location) and not(isempty(DeviceDetail["operatingSystem"]))`,
	"where-in":            `let apps = dynamic(["Azure Portal", "Teams"]); SigninLogs | where AppDisplayName in (apps) or Location in~ ("fr", "DE") | where UserPrincipalName !in ("x@y.z") and Location !in~ ("jp")`,
	"where-in-mixed":      `SigninLogs | where ResultType in (0, "50126") | project Id, ResultType`,
	"take":                `SigninLogs | where ConditionalAccessStatus == "success" | take 2`,
	"take-0":              `SigninLogs | take 0`,
	"take-rest":           `SigninLogs | take 3 | project Id | order by Id asc`,
	"count":               `SigninLogs | where Location == "US" | count`,
	"count-rest":          `AuditLogs | count | extend Twice = Count * 2`,
	"summarize-bin":       `SigninLogs | summarize count() by bin(TimeGenerated, 1h), UserPrincipalName`,
	"summarize-aggs":      `SigninLogs | summarize n = count(), f = countif(ResultType != "0"), d = dcount(Location), s = sum(DurationMs), a = make_set(AppDisplayName), l = make_list(Id, 2), lo = min(TimeGenerated), hi = max(TimeGenerated), dc = dcountif(Id, Location == "US"), any(Location) by UserPrincipalName | order by UserPrincipalName asc`,
	"summarize-star":      `SigninLogs | summarize arg_max(TimeGenerated, *) by UserPrincipalName`,
	"summarize-argmin":    `SigninLogs | extend Upn = tolower(UserPrincipalName) | summarize arg_min(TimeGenerated, Id, Location) by Upn`,
	"summarize-none":      `SigninLogs | where Location == "nowhere" | summarize count(), make_set(Id)`,
	"distinct":            `SigninLogs | distinct Location, AppDisplayName`,
	"top":                 `SigninLogs | top 3 by TimeGenerated desc`,
	"top-asc-nulls":       `SigninLogs | extend Maybe = iff(Location == "US", TimeGenerated, datetime(null)) | top 4 by Maybe asc | project Id, Maybe`,
	"sort-take":           `SigninLogs | where Location != "x" | order by Location asc, TimeGenerated desc | take 3 | project Id, Location, TimeGenerated`,
	"sort-take-nulls":     `SigninLogs | extend M = iff(Location == "US", TimeGenerated, datetime(null)) | sort by M asc nulls last | take 2`,
	"sort-rest":           `SigninLogs | sort by TimeGenerated desc | project Id, DeviceDetail, Location`,
	"err-sort-take":       `SigninLogs | sort by Identity > 1 | take -1`,
	"err-take-after-sort": `SigninLogs | sort by Id | take -1`,
	"extend-project":      `SigninLogs | extend Upn = toupper(UserPrincipalName), Day = bin(TimeGenerated, 1d) | extend Upn = strcat(Upn, "!"), Later = Day + 1h | project Id, Upn, Day, Later, Dev = DeviceDetail, Compliant = DeviceDetail.isCompliant`,
	"rename-away":         `SigninLogs | project-rename User = UserPrincipalName | project-away *Details*, Risk* | project-reorder User, Id | project-keep User, Id, Location | where User has "contoso"`,
	"parse":               `SigninLogs | parse UserPrincipalName with Name "@" Domain | project Id, Name, Domain`,
	"mv-expand":           `AuditLogs | mv-expand Target = TargetResources | extend Kind = tostring(Target.type) | project Id, Kind`,
	"mv-expand-limit":     `SigninLogs | extend A = pack_array(1, 2, 3) | mv-expand A to typeof(long) limit 2 | project Id, A`,
	"case-coalesce":       `SigninLogs | extend K = case(Location == "US", "us", Location == "FR", "fr", "other"), C = coalesce(DeviceDetail.missing, Location) | project Id, K, C`,
	"user-func":           `let dom = (upn:string) { tostring(split(upn, "@")[1]) }; SigninLogs | where dom(UserPrincipalName) == "contoso.com" | project Id, D = dom(UserPrincipalName)`,
	"nonint":              `AADNonInteractiveUserSignInLogs | where tobool(parse_json(DeviceDetail).isCompliant) == false | project Id, DeviceDetail`,
	"devices-ago":         `Devices | where ApproximateLastSignInDateTime < ago(90d)`,
	"syslog":              `Syslog | where ProcessName == "sshd" | project Computer, SyslogMessage`,
	"whole":               `SecurityEvent`,
	"union-load":          `union SigninLogs, AADNonInteractiveUserSignInLogs | where Location == "US" | project Id, Location`,
	"join-load":           `SigninLogs | join kind=inner (AuditLogs | extend UserPrincipalName = tostring(InitiatedBy.user.userPrincipalName)) on UserPrincipalName | project Id, Id1, OperationName`,
	"join-lazy-key":       `SigninLogs | project-rename Other = Id | join kind=leftouter (SigninLogs | take 2) on $left.Other == $right.Id | project Other, Id1 = Id, Location`,
	"distinct-star":       `SigninLogs | project Location | distinct *`,
	"in-table":            `let ids = SigninLogs | where Location == "US"; SigninLogs | where Id in (ids) | project Id`,
	// errors
	"err-compare":     `SigninLogs | where Identity > 1`,
	"err-later-pass":  `SigninLogs | where Location == "US" or Identity > 1 | where Identity < "x" | extend X = DurationMs + "a"`,
	"err-order":       `SigninLogs | extend A = iff(Location == "US", 1, 0) | extend B = Identity + 1, C = Location + 1`,
	"err-where-bool":  `SigninLogs | where Location`,
	"err-take":        `SigninLogs | where Identity > 1 | take -1`,
	"err-take-static": `SigninLogs | where Location == "US" | take -1`,
	"err-rename":      `SigninLogs | where Location == "US" | project-rename A = Nope`,
	"err-project-dup": `SigninLogs | project Id, Id`,
	"err-sum":         `SigninLogs | summarize sum(Location) by UserPrincipalName`,
	"err-member":      `AADNonInteractiveUserSignInLogs | where DeviceDetail.isCompliant == false`,
	"err-unknown":     `SigninLogs | where Nope == 1`,
	"err-rest":        `SigninLogs | count | extend X = Count + "a"`,
}

// TestStreamMatchesMaterialised runs every golden query and execQueries
// both ways — streamed when the query allows it, and loaded with lazy
// columns — and checks each gives what Run gives over Load's database:
// the same rows in the same order, or the same error.
func TestStreamMatchesMaterialised(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "kql")
	cfg := LoadConfig{Paths: []string{filepath.Join(dir, "fixtures")}, Year: 2026, Now: goldenNow,
		Warn: func(m string) { t.Errorf("warning: %s", m) }}
	db, _, err := Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = goldenNow
	queries := map[string]string{}
	for k, v := range execQueries {
		queries[k] = v
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.kql"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		queries["golden/"+strings.TrimSuffix(filepath.Base(f), ".kql")] = string(b)
	}
	names := make([]string, 0, len(queries))
	for n := range queries {
		names = append(names, n)
	}
	sort.Strings(names)
	var streamed, rendered []string
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			q, err := Parse(queries[name])
			if err != nil {
				t.Fatal(err)
			}
			want := outcome(Run(q, db))
			ctx := context.Background()
			p := analyze(q)
			if got := outcome3(execLoaded(ctx, q, p, cfg, goldenNow)); got != want {
				t.Errorf("loaded:\n%s\nwant (Run over Load):\n%s", got, want)
			}
			if table, ok := p.streamSource(q); ok {
				streamed = append(streamed, name)
				res, _, err := execStream(ctx, q, p, table, cfg, goldenNow, false)
				if got := outcomeOf(res, err); got != want {
					t.Errorf("streamed:\n%s\nwant (Run over Load):\n%s", got, want)
				}
				// rows written as JSON by the workers
				res, _, err = execStream(ctx, q, p, table, cfg, goldenNow, true)
				if res != nil && res.rendered {
					rendered = append(rendered, name)
				}
				if got, want := jsonOnly(outcomeOf(res, err)), jsonOnly(want); got != want {
					t.Errorf("streamed as JSON:\n%s\nwant (Run over Load):\n%s", got, want)
				}
			}
			if got := outcome3(Exec(ctx, q, cfg)); got != want {
				t.Errorf("Exec:\n%s\nwant (Run over Load):\n%s", got, want)
			}
			for _, format := range []string{"json", "csv", "table"} {
				var got, want bytes.Buffer
				_, err := ExecWrite(ctx, q, cfg, &got, format)
				res, werr := Run(q, db)
				if werr == nil {
					werr = Write(&want, res, format)
				}
				if fmt.Sprint(err) != fmt.Sprint(werr) || got.String() != want.String() {
					t.Errorf("ExecWrite %s: error %v, output:\n%s\nwant error %v, output:\n%s", format, err, got.String(), werr, want.String())
				}
			}
		})
	}
	// The queries over one table stream; the others load.
	for _, name := range []string{"where-chain", "take-rest", "summarize-star", "top", "sort-take", "sort-rest", "mv-expand", "err-order", "golden/project-ops", "golden/let-scalars"} {
		if !contains(streamed, name) {
			t.Errorf("%s was not streamed", name)
		}
	}
	for _, name := range []string{"union-load", "join-load", "in-table", "golden/join", "golden/user-functions"} {
		if contains(streamed, name) {
			t.Errorf("%s was streamed", name)
		}
	}
	// Rows of the table are written by the workers; computed columns are
	// not.
	for _, name := range []string{"where-chain", "take", "rename-away", "whole", "golden/where-compare"} {
		if !contains(rendered, name) {
			t.Errorf("%s was not rendered by the workers", name)
		}
	}
	for _, name := range []string{"extend-project", "summarize-bin", "take-rest", "err-order"} {
		if contains(rendered, name) {
			t.Errorf("%s was rendered by the workers", name)
		}
	}
}

// outcome renders a result as JSON lines with its column types, or the
// error.
func outcome(t *Table, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	var b bytes.Buffer
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "%s:%s ", c.Name, c.Type)
	}
	b.WriteByte('\n')
	if err := WriteJSON(&b, t); err != nil {
		return "write error: " + err.Error()
	}
	return b.String()
}

func outcome3(t *Table, _ *scan.Stats, err error) string { return outcome(t, err) }

func outcomeOf(r *result, err error) string {
	if err == nil && r.rendered {
		var b bytes.Buffer
		b.WriteString("(rendered)\n")
		for _, l := range r.lines {
			b.Write(l)
		}
		return b.String()
	}
	var t *Table
	if r != nil {
		t = r.table
	}
	return outcome(t, err)
}

// jsonOnly drops the column types of an outcome.
func jsonOnly(s string) string {
	if strings.HasPrefix(s, "error") {
		return s
	}
	_, rows, _ := strings.Cut(s, "\n")
	return rows
}

// TestWholeTablesEverywhere checks every table, read whole and through
// the fast paths of compiled expressions, over every input of the
// repository's test data (Graph, portal JSON and CSV, diagnostic
// settings, Log Analytics rows with JSON text, Event Hubs envelopes,
// syslog, Windows events…): Exec and ExecWrite give what Run gives over
// Load's database, and rows written by the workers are those WriteJSON
// writes.
func TestWholeTablesEverywhere(t *testing.T) {
	dirs := []string{"detections", "kql", "vm", "windows"}
	var paths []string
	for _, d := range dirs {
		if p := filepath.Join("..", "..", "testdata", d); dirExists(p) {
			paths = append(paths, p)
		}
	}
	cfg := LoadConfig{Paths: paths, Year: 2026, Now: goldenNow}
	db, stats, err := Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Records < 100 {
		t.Fatalf("read %d records", stats.Records)
	}
	db.Now = goldenNow
	var queries []string
	for _, table := range TableNames {
		if _, ok := Schemas[table]; ok {
			queries = append(queries, table+" | project-reorder Type | project-away TimeGenerated")
		}
	}
	for _, table := range []string{"SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs"} {
		queries = append(queries,
			table+` | where isempty(DeviceDetail.deviceId) or DeviceDetail.isCompliant == false or NetworkLocationDetails == "[]"`,
			table+` | where ResultType in ("0", "50126") and ConditionalAccessStatus !~ "FAILURE" | take 5 | extend C = tostring(Status) | project Id, C`,
			table+` | summarize count(), make_set(ResultType) by Category, Type`)
	}
	queries = append(queries, guideQueries(t)...)
	ctx := context.Background()
	for _, src := range queries {
		q, err := Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		want := outcome(Run(q, db))
		if got := outcome3(Exec(ctx, q, cfg)); got != want {
			t.Errorf("%s: Exec:\n%s\nwant:\n%s", src, got, want)
		}
		var out bytes.Buffer
		_, err = ExecWrite(ctx, q, cfg, &out, "json")
		got := "(types)\n" + out.String()
		if err != nil {
			got = "error: " + err.Error()
		}
		if jsonOnly(got) != jsonOnly(want) {
			t.Errorf("%s: ExecWrite json:\n%s\nwant:\n%s", src, got, want)
		}
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
