package sigma

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/scan"
)

const corrDir = "../../testdata/sigma/correlation"

func corrPath(parts ...string) string { return filepath.Join(append([]string{corrDir}, parts...)...) }

// loadCorr compiles the base rules and the given fixture files or folders
// (plus inline documents), failing on any problem.
func loadCorr(t *testing.T, paths []string, inline ...string) []*Detector {
	t.Helper()
	rules, probs := LoadPaths(append([]string{corrPath("base")}, paths...))
	for i, src := range inline {
		rs, ps := Parse(fmt.Sprintf("inline%d.yml", i), []byte(src))
		rules, probs = append(rules, rs...), append(probs, ps...)
	}
	dets, cprobs := Compile(rules, rule.NewCompiler(), Config{})
	for _, p := range append(probs, cprobs...) {
		t.Errorf("unexpected problem: %v", p)
	}
	if t.Failed() {
		t.FailNow()
	}
	return dets
}

// scanCorr runs the real pipeline, several workers, over the inputs and
// returns the alerts of correlation rules.
func scanCorr(t *testing.T, dets []*Detector, inputs ...string) []*alert.Alert {
	t.Helper()
	corr := map[string]bool{}
	for _, d := range dets {
		if d.IsCorrelation() {
			corr[d.Info().ID] = true
		}
	}
	var out []*alert.Alert
	for _, a := range scanAll(t, dets, inputs...) {
		if corr[a.Rule] {
			out = append(out, a)
		}
	}
	return out
}

// scanAll runs the real pipeline, several workers, over the inputs.
func scanAll(t *testing.T, dets []*Detector, inputs ...string) []*alert.Alert {
	t.Helper()
	eng, err := detect.NewEngine(detect.Options{NoBuiltin: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dets {
		eng.Add(d)
	}
	var alerts []*alert.Alert
	_, err = scan.Run(context.Background(), scan.Config{
		Paths: inputs, Engine: eng, Workers: 8,
		Alert: func(a *alert.Alert) error { alerts = append(alerts, a); return nil },
		Warn:  func(msg string) { t.Errorf("scan warning: %s", msg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return alerts
}

func byRule(alerts []*alert.Alert, id string) []*alert.Alert {
	var out []*alert.Alert
	for _, a := range alerts {
		if a.Rule == id {
			out = append(out, a)
		}
	}
	return out
}

func detail(a *alert.Alert, name string) string {
	for _, d := range a.Details {
		if d.Name == name {
			return d.Value
		}
	}
	return ""
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, "2026-11-20T"+s+"Z")
	if err != nil {
		panic(err)
	}
	return t
}

// brief is what a test compares of an alert.
func brief(a *alert.Alert) string {
	return a.Rule[len(a.Rule)-4:] + " " + a.Time.Format("15:04:05") + " " + a.Summary
}

func briefs(alerts []*alert.Alert) []string {
	out := make([]string, len(alerts))
	for i, a := range alerts {
		out[i] = brief(a)
	}
	return out
}

func wantAlerts(t *testing.T, alerts []*alert.Alert, want ...string) {
	t.Helper()
	got := briefs(alerts)
	if !slices.Equal(got, want) {
		t.Errorf("alerts:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// fileLine returns line n (1-based) of a fixture file.
func fileLine(t *testing.T, path string, n int) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")[n-1]
}

func warnings(dets []*Detector) []string {
	var out []string
	for _, d := range dets {
		for _, p := range d.Warnings() {
			out = append(out, p.Error())
		}
	}
	return out
}

func TestCorrelationEventCount(t *testing.T) {
	dets := loadCorr(t, []string{corrPath("event_count")})
	signins := corrPath("records", "signins.jsonl")
	alerts := scanCorr(t, dets, signins, corrPath("records", "problems.jsonl"))
	// bob: 6 wrong passwords in 2.5 minutes. alice: 4 (under the
	// threshold); carol: 5, but 7 minutes apart; the spray: one each.
	wantAlerts(t, alerts, "0101 10:02:00 Too many failed sign-ins: 6 events of rule Failed sign-in (wrong password) for UserPrincipalName=bob@contoso.com within 5m")
	if len(alerts) != 1 {
		return
	}
	a := alerts[0]
	if a.Severity != alert.High || a.Title != "Too many failed sign-ins" || a.Rule != "0b6e1f52-3d4a-4c1e-9f7a-2a1c00000101" {
		t.Errorf("alert %s %q %s", a.Severity, a.Title, a.Rule)
	}
	if !a.Time.Equal(ts("10:02:00")) {
		t.Errorf("time %v, want the fifth failure's", a.Time)
	}
	// Source and record are those of the event that completed the count.
	if a.Source.File != signins || a.Source.Line != 5 || string(a.Record) != fileLine(t, signins, 5) {
		t.Errorf("source %+v, record %s", a.Source, a.Record)
	}
	if a.Entities != (alert.Entities{User: "bob@contoso.com"}) {
		t.Errorf("entities %+v", a.Entities)
	}
	for name, want := range map[string]string{"UserPrincipalName": "bob@contoso.com", "count": "6", "events": "6", "correlation": "event_count",
		"window_start": "2026-11-20T10:00:00Z", "timespan": "5m", "condition": "gte 5"} {
		if got := detail(a, name); got != want {
			t.Errorf("detail %s = %q, want %q", name, got, want)
		}
	}
	// The records the correlation could not use are reported.
	w := strings.Join(warnings(dets), "\n")
	for _, want := range []string{"2 matching records have no usable event time", "1 matching record lacks a group-by field (UserPrincipalName)"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q lack %q", w, want)
		}
	}
}

func TestCorrelationValueCount(t *testing.T) {
	// The rule is referenced by id; the condition counts distinct users.
	dets := loadCorr(t, []string{corrPath("value_count")})
	alerts := scanCorr(t, dets, corrPath("records", "signins.jsonl"))
	// 198.51.100.23 failed for dave, erin, frank and grace within 15 min;
	// 203.0.113.7 (bob six times) and 192.0.2.10 (two users) stay under 3.
	wantAlerts(t, alerts, "0201 12:10:00 Password spray from one address: 4 distinct UserPrincipalName values in 4 events of rule Failed sign-in (wrong password) for IPAddress=198.51.100.23 within 1h")
	if len(alerts) == 1 {
		a := alerts[0]
		if got := detail(a, "UserPrincipalName"); got != "dave@contoso.com, erin@contoso.com, frank@contoso.com, grace@contoso.com" {
			t.Errorf("values %q", got)
		}
		if a.Entities != (alert.Entities{IP: "198.51.100.23"}) {
			t.Errorf("entities %+v", a.Entities)
		}
	}
}

func TestCorrelationTemporalAliases(t *testing.T) {
	dets := loadCorr(t, []string{corrPath("temporal", "signin_then_security_info.yml")})
	alerts := scanCorr(t, dets, corrPath("records"))
	// bob signed in at 10:04 and registered security info at 10:06 (the
	// account is the audit record's target, through the alias); alice's
	// registration came two hours after her sign-in; mallory never signed in.
	wantAlerts(t, alerts, "0301 10:06:00 Security info registered right after a sign-in: rules Successful sign-in and Security info registered for account=bob@contoso.com within 10m")
	if len(alerts) == 1 && alerts[0].Entities.User != "bob@contoso.com" {
		t.Errorf("entities %+v: an alias over user fields names the user", alerts[0].Entities)
	}
}

func TestCorrelationTemporalOrderedVsTemporal(t *testing.T) {
	dets := loadCorr(t, []string{corrPath("temporal", "windows_logons.yml")})
	alerts := scanCorr(t, dets, corrPath("records", "windows.jsonl"))
	// Group-by Computer and TargetUserName: WS04 and WS05 are different
	// hosts, WS03's logons are 30 minutes apart. WS02 logged on before
	// failing: temporal but not ordered. WS06 succeeded, failed, then
	// succeeded: temporal at the failure, ordered at the second success.
	wantAlerts(t, alerts,
		"0302 09:02:00 Failed and successful logon on one host: rules Windows logon failed and Windows logon succeeded for Computer=WS02.contoso.com, TargetUserName=admin within 10m",
		"0302 09:03:00 Failed and successful logon on one host: rules Windows logon failed and Windows logon succeeded for Computer=WS01.contoso.com, TargetUserName=admin within 10m",
		"0302 09:41:00 Failed and successful logon on one host: rules Windows logon failed and Windows logon succeeded for Computer=WS06.contoso.com, TargetUserName=svc within 10m",
		"0303 09:03:00 Failed then successful logon on one host: rules Windows logon failed then Windows logon succeeded for Computer=WS01.contoso.com, TargetUserName=admin within 10m",
		"0303 09:45:00 Failed then successful logon on one host: rules Windows logon failed then Windows logon succeeded for Computer=WS06.contoso.com, TargetUserName=svc within 10m",
	)
	for _, a := range alerts {
		if a.Entities.Host == "" || a.Entities.User == "" {
			t.Errorf("%s: entities %+v, want the host and user of the group", brief(a), a.Entities)
		}
	}
}

func TestCorrelationChain(t *testing.T) {
	// The specification's example: temporal_ordered over an event_count
	// correlation and a rule, all referenced by name.
	dets := loadCorr(t, []string{corrPath("chain")})
	alerts := scanCorr(t, dets, corrPath("records", "signins.jsonl"))
	// bob's failures reach five at 10:02:00, his success follows at 10:04.
	// The inner correlation and the rules raise nothing of their own.
	wantAlerts(t, alerts, "0401 10:04:00 Correlation - Multiple Failed Logins Followed by Successful Login: rules Multiple failed logons then Successful sign-in for UserPrincipalName=bob@contoso.com within 10m")
	if len(alerts) == 1 && alerts[0].Source.Line != 7 {
		t.Errorf("source %+v, want the success (line 7)", alerts[0].Source)
	}
}

func TestCorrelationGenerate(t *testing.T) {
	failedID := "0b6e1f52-3d4a-4c1e-9f7a-2a1c00000001"
	signins := corrPath("records", "signins.jsonl")
	t.Run("default false", func(t *testing.T) {
		dets := loadCorr(t, []string{corrPath("event_count")})
		alerts := scanAll(t, dets, signins)
		if n := len(byRule(alerts, failedID)); n != 0 {
			t.Errorf("%d alerts of the referenced rule, want none", n)
		}
		for _, d := range dets {
			if d.Rule().ID == failedID && !slices.Equal(d.Feeds(), []string{"0b6e1f52-3d4a-4c1e-9f7a-2a1c00000101"}) {
				t.Errorf("feeds %v", d.Feeds())
			}
		}
	})
	t.Run("true", func(t *testing.T) {
		dets := loadCorr(t, []string{corrPath("generate", "brute_force_generate.yml")})
		alerts := scanAll(t, dets, signins)
		if n := len(byRule(alerts, failedID)); n != 21 {
			t.Errorf("%d alerts of the referenced rule, want one per failed sign-in (21)", n)
		}
		if n := len(byRule(alerts, "0b6e1f52-3d4a-4c1e-9f7a-2a1c00000501")); n != 1 {
			t.Errorf("%d correlation alerts, want 1", n)
		}
	})
	t.Run("true and false", func(t *testing.T) {
		// As pySigma: any correlation without generate silences the rule.
		dets := loadCorr(t, []string{corrPath("generate", "brute_force_generate.yml"), corrPath("event_count")})
		alerts := scanAll(t, dets, signins)
		if n := len(byRule(alerts, failedID)); n != 0 {
			t.Errorf("%d alerts of the referenced rule, want none", n)
		}
	})
	t.Run("inside the section, entities from the record", func(t *testing.T) {
		dets := loadCorr(t, []string{corrPath("generate", "by_app.yml")})
		alerts := scanAll(t, dets, signins)
		if n := len(byRule(alerts, failedID)); n != 21 {
			t.Errorf("%d alerts of the referenced rule, want 21", n)
		}
		// gte 3 and lte 4, judged on whole windows: alice's four failures
		// to the Azure Portal; bob's burst of six to Exchange is too many.
		got := byRule(alerts, "0b6e1f52-3d4a-4c1e-9f7a-2a1c00000502")
		wantAlerts(t, got, "0502 10:13:00 Few failed sign-ins to one application: 4 events of rule Failed sign-in (wrong password) for AppDisplayName=Azure Portal within 5m")
		if len(got) == 1 && got[0].Entities != (alert.Entities{User: "alice@contoso.com", IP: "203.0.113.8"}) {
			t.Errorf("entities %+v, want the completing record's", got[0].Entities)
		}
	})
}

func TestCorrelationRefused(t *testing.T) {
	rules, probs := LoadPaths([]string{corrPath("base"), corrPath("bad")})
	dets, cprobs := Compile(rules, rule.NewCompiler(), Config{})
	probs = append(probs, cprobs...)
	want := map[string]struct {
		line int
		msg  string
	}{
		"bad-unknown-ref":       {7, "no rule has the id or name no_such_rule"},
		"bad-timespan":          {22, `timespan "5x": unknown unit "x"`},
		"bad-timespan-case":     {32, "the unit must be lower case"},
		"bad-timespan-month":    {42, "months and years have no fixed length"},
		"bad-missing-condition": {49, "the event_count correlation has no condition"},
		"bad-missing-timespan":  {59, "the correlation has no timespan"},
		"bad-value-count-field": {75, "a value_count condition needs the field"},
		"bad-field-event-count": {85, "condition field is only used by value_count"},
		"bad-never":             {96, "condition lt 1 can never hold"},
		"bad-negative":          {106, "condition gte needs a whole number of at least 0"},
		"bad-ordered-partial":   {117, "temporal_ordered needs every rule, in order"},
		"bad-type":              {122, `correlation type "value_sum" is not supported`},
		"bad-extended":          {137, "string conditions (extended temporal conditions) are not part of Sigma 2"},
		"bad-attribute":         {145, `unknown correlation attribute "groupby"`},
		"bad-alias":             {162, "alias account gives no field for rule security_info_registered"},
		"bad-alias-rule":        {179, "alias account names rule win_logon_failed, which the correlation does not reference"},
		"bad-chain-group":       {189, "the referenced correlation inner_by_user groups only by UserPrincipalName"},
		"bad-cycle-a":           {211, "correlation cycle: bad-cycle-a → bad-cycle-b → bad-cycle-a"},
		"bad-cycle-b":           {222, "correlation cycle"},
		"bad-twice":             {233, "rule failed_signin is listed twice"},
		"bad-broken-ref":        {243, "rule broken_detection (" + corrPath("bad", "refused.yml") + ":248) cannot be used: unknown modifier"},
		"bad-broken-detection":  {256, "unknown modifier"},
	}
	got := map[string]Problem{}
	for _, p := range probs {
		if _, dup := got[p.RuleID]; dup {
			t.Errorf("two problems for %s: %v", p.RuleID, p)
		}
		got[p.RuleID] = p
		if _, ok := want[p.RuleID]; !ok {
			t.Errorf("unexpected problem %v", p)
		}
	}
	for id, w := range want {
		p, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s was not refused", id)
		case p.Line != w.line || !strings.Contains(p.Msg, w.msg) || p.File != corrPath("bad", "refused.yml"):
			t.Errorf("%s: got %v, want line %d and %q", id, p, w.line, w.msg)
		}
	}
	// Only the base rules and the inner correlation are usable.
	var ids []string
	for _, d := range dets {
		ids = append(ids, d.info.ID)
	}
	if len(dets) != 6 || !slices.Contains(ids, "bad-inner-by-user") {
		t.Errorf("usable: %v", ids)
	}
}

func TestParseTimespan(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "5m": 5 * time.Minute, "90m": 90 * time.Minute,
		"1h": time.Hour, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour} {
		if got, err := parseTimespan(in); err != nil || got != want {
			t.Errorf("%s: %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "5", "m", "0m", "-1m", "1.5h", "1H", "1M", "1y", "5 m", "1h30m", "99999999999999999999d", "40000d"} {
		if got, err := parseTimespan(in); err == nil {
			t.Errorf("%q: %v, want an error", in, got)
		}
	}
}

// signinLine writes one failed sign-in of bob at t.
func signinLine(t time.Time, user, result string) string {
	return fmt.Sprintf(`{"TimeGenerated":%q,"CreatedDateTime":%q,"Category":"SignInLogs","OperationName":"Sign-in activity","UserPrincipalName":%q,"IPAddress":"203.0.113.7","ResultType":%q,"AppDisplayName":"Azure Portal"}`,
		t.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano), user, result)
}

func writeLines(t *testing.T, dir, name string, lines []string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// shuffledCopies writes the lines of the inputs shuffled across n files.
func shuffledCopies(t *testing.T, seed int64, n int, inputs ...string) []string {
	t.Helper()
	var lines []string
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			lines = append(lines, l)
		}
	}
	rng := rand.New(rand.NewSource(seed))
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	dir := t.TempDir()
	var out []string
	for k := 0; k < n; k++ {
		var part []string
		for i := k; i < len(lines); i += n {
			part = append(part, lines[i])
		}
		out = append(out, writeLines(t, dir, fmt.Sprintf("part%d.jsonl", k), part))
	}
	return out
}

// content is what must not depend on input order: everything but where the
// record was read.
func content(alerts []*alert.Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, fmt.Sprintf("%s %s %s %s %+v %v %s", a.Rule, a.Severity, a.Time.Format(time.RFC3339Nano), a.Summary, a.Entities, a.Details, a.Record))
	}
	return out
}

func TestCorrelationOutOfOrder(t *testing.T) {
	dets := func() []*Detector {
		return loadCorr(t, []string{corrPath("event_count"), corrPath("value_count"), corrPath("temporal"), corrPath("chain")})
	}
	inputs := []string{corrPath("records", "signins.jsonl"), corrPath("records", "audits.jsonl"), corrPath("records", "windows.jsonl")}
	want := content(scanCorr(t, dets(), inputs...))
	if len(want) != 9 {
		t.Fatalf("%d alerts in order, want 9:\n%s", len(want), strings.Join(want, "\n"))
	}
	for seed := int64(1); seed <= 8; seed++ {
		got := content(scanCorr(t, dets(), shuffledCopies(t, seed, 1+int(seed)%3, inputs...)...))
		if !slices.Equal(got, want) {
			t.Errorf("seed %d: shuffled input gives\n%s\nwant\n%s", seed, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

const burstRule = `title: Burst
id: burst
correlation:
    type: event_count
    rules:
        - failed_signin
    group-by:
        - UserPrincipalName
    timespan: 5m
    condition:
        gte: 3
`

func TestCorrelationBurst(t *testing.T) {
	// A failure every minute for 30 minutes: one alert per window of 5m,
	// each at the third event of the window, the next window opening after
	// the end of the previous one.
	t0 := ts("08:00:00")
	var lines []string
	for i := 0; i <= 30; i++ {
		lines = append(lines, signinLine(t0.Add(time.Duration(i)*time.Minute), "bob@contoso.com", "50126"))
	}
	in := writeLines(t, t.TempDir(), "burst.jsonl", lines)
	alerts := scanCorr(t, loadCorr(t, nil, burstRule), in)
	var want []string
	for _, m := range []string{"02", "08", "14", "20", "26"} {
		want = append(want, "urst 08:"+m+":00 Burst: 6 events of rule Failed sign-in (wrong password) for UserPrincipalName=bob@contoso.com within 5m")
	}
	wantAlerts(t, alerts, want...)
	// The same, shuffled.
	for seed := int64(1); seed <= 4; seed++ {
		got := scanCorr(t, loadCorr(t, nil, burstRule), shuffledCopies(t, seed, 3, in)...)
		if !slices.Equal(content(got), content(alerts)) {
			t.Errorf("seed %d: %v", seed, briefs(got))
		}
	}
	// An upper bound is judged on whole windows: a burst of 6 in one window
	// has no part of exactly 4.
	eq := strings.Replace(burstRule, "gte: 3", "eq: 4", 1)
	var six []string
	for i := 0; i < 6; i++ {
		six = append(six, signinLine(t0.Add(time.Duration(i)*10*time.Second), "bob@contoso.com", "50126"))
	}
	six = append(six, signinLine(t0.Add(time.Hour), "bob@contoso.com", "50126"))
	for i := 1; i < 4; i++ {
		six = append(six, signinLine(t0.Add(time.Hour+time.Duration(i)*time.Minute), "bob@contoso.com", "50126"))
	}
	alerts = scanCorr(t, loadCorr(t, nil, eq), writeLines(t, t.TempDir(), "six.jsonl", six))
	wantAlerts(t, alerts, "urst 09:03:00 Burst: 4 events of rule Failed sign-in (wrong password) for UserPrincipalName=bob@contoso.com within 5m")
}

func TestCorrelationRecordCountedOnce(t *testing.T) {
	// A record matching two of the rules of an event_count is one event.
	src := `title: Any sign-in from 203.0.113.7
id: from-7
name: from_seven
logsource:
    product: azure
    service: signinlogs
detection:
    selection:
        IPAddress: 203.0.113.7
    condition: selection
---
title: Failures or sign-ins from 203.0.113.7
id: union
correlation:
    type: event_count
    rules:
        - failed_signin
        - from_seven
    group-by:
        - UserPrincipalName
    timespan: 5m
    condition:
        gte: 7
`
	alerts := scanCorr(t, loadCorr(t, nil, src), corrPath("records", "signins.jsonl"))
	// bob: 6 failures from .7 and one success from .7: 7 records, not 13.
	wantAlerts(t, alerts, "nion 10:04:00 Failures or sign-ins from 203.0.113.7: 7 events of rules Failed sign-in (wrong password) and Any sign-in from 203.0.113.7 for UserPrincipalName=bob@contoso.com within 5m")
}

func TestCorrelationGroupCap(t *testing.T) {
	defer func(n int) { maxGroupEvents = n }(maxGroupEvents)
	maxGroupEvents = 50
	// 60 failures a second apart, read latest first: the earliest 50 are
	// kept, whatever the order, so the result is that of those 50.
	t0 := ts("08:00:00")
	var lines, first []string
	for i := 0; i < 60; i++ {
		l := signinLine(t0.Add(time.Duration(i)*time.Second), "bob@contoso.com", "50126")
		lines = append([]string{l}, lines...)
		if i < 50 {
			first = append(first, l)
		}
	}
	rule := strings.Replace(burstRule, "gte: 3", "gte: 55", 1)
	rule = strings.Replace(rule, "5m", "1h", 1)
	dets := loadCorr(t, nil, rule)
	alerts := scanCorr(t, dets, shuffledCopies(t, 7, 3, writeLines(t, t.TempDir(), "all.jsonl", lines))...)
	if len(alerts) != 0 {
		t.Errorf("alerts %v: only 50 events were kept", briefs(alerts))
	}
	if w := strings.Join(warnings(dets), "\n"); !strings.Contains(w, "1 group had more than 50 events: only the earliest 50 of each were correlated (10 events left out)") {
		t.Errorf("warnings %q", w)
	}
	rule = strings.Replace(rule, "gte: 55", "gte: 50", 1)
	alerts = scanCorr(t, loadCorr(t, nil, rule), shuffledCopies(t, 8, 3, writeLines(t, t.TempDir(), "all.jsonl", lines))...)
	wantAlerts(t, alerts, "urst 08:00:49 Burst: 50 events of rule Failed sign-in (wrong password) for UserPrincipalName=bob@contoso.com within 1h")
}

func TestCorrelationEvidenceBudget(t *testing.T) {
	defer func(n int) { evidenceBudget = n }(evidenceBudget)
	t0 := ts("08:00:00")
	var lines []string
	for i := 0; i <= 30; i++ {
		lines = append(lines, signinLine(t0.Add(time.Duration(i)*time.Minute), "bob@contoso.com", "50126"))
	}
	// Room for the records of about the first 10 minutes only.
	evidenceBudget = 10 * (len(lines[0]) + 160 + len("bob@contoso.com") + len("203.0.113.7"))
	in := writeLines(t, t.TempDir(), "burst.jsonl", lines)
	var want []string
	for seed := int64(0); seed <= 4; seed++ {
		inputs := []string{in}
		if seed > 0 {
			inputs = shuffledCopies(t, seed, 3, in)
		}
		dets := loadCorr(t, nil, burstRule)
		alerts := scanCorr(t, dets, inputs...)
		var got []string
		for _, a := range alerts {
			got = append(got, fmt.Sprintf("%s kept=%v %q", a.Time.Format("15:04"), len(a.Record) > 0, detail(a, "record")))
		}
		if seed == 0 {
			want = got
			if len(got) != 5 || !strings.HasPrefix(got[0], "08:02 kept=true") || !strings.HasPrefix(got[1], "08:08 kept=true") || !strings.HasPrefix(got[2], "08:14 kept=false \"not kept") {
				t.Fatalf("records kept: %v", got)
			}
			if w := strings.Join(warnings(dets), "\n"); !strings.Contains(w, "3 alerts carry no copy of the record that completed the condition") {
				t.Errorf("warnings %q", w)
			}
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("seed %d: records kept %v, want %v", seed, got, want)
		}
	}
}

func TestCorrelationConcurrentDetect(t *testing.T) {
	// Detect from many goroutines straight, in a different order each time.
	src, err := os.ReadFile(corrPath("records", "windows.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	var want []string
	for round := 0; round < 5; round++ {
		dets := loadCorr(t, []string{corrPath("temporal", "windows_logons.yml")})
		rng := rand.New(rand.NewSource(int64(round)))
		order := rng.Perm(len(lines))
		eng, _ := detect.NewEngine(detect.Options{NoBuiltin: true})
		for _, d := range dets {
			eng.Add(d)
		}
		dir := t.TempDir()
		var paths []string
		for i, k := range order {
			paths = append(paths, writeLines(t, dir, fmt.Sprintf("%02d.jsonl", i), []string{lines[k]}))
		}
		var mu sync.Mutex
		var alerts []*alert.Alert
		_, err := scan.Run(context.Background(), scan.Config{Paths: paths, Engine: eng, Workers: 16,
			Alert: func(a *alert.Alert) error { mu.Lock(); alerts = append(alerts, a); mu.Unlock(); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		got := content(alerts)
		if round == 0 {
			want = got
			if len(want) != 5 {
				t.Fatalf("alerts %v", want)
			}
		} else if !slices.Equal(got, want) {
			t.Errorf("round %d:\n%s\nwant\n%s", round, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
