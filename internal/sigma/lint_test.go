package sigma

import (
	"context"
	"github.com/entrawatch/entrawatch/internal/testenv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/scan"
	"github.com/valyala/fastjson"
)

const lintDir = "../../testdata/sigma/lint"

// checkDir loads a folder, fails on any problem (every rule must still
// load and run), and returns the field check's warnings with the file
// names relative to the folder.
func checkDir(t *testing.T, dir string) []string {
	t.Helper()
	rules, probs := LoadPaths([]string{dir})
	_, cprobs := Compile(rules, rule.NewCompiler(), Config{})
	for _, p := range append(probs, cprobs...) {
		t.Errorf("unexpected problem: %v", p)
	}
	var out []string
	for _, w := range CheckFields(rules) {
		if rel, err := filepath.Rel(dir, w.File); err == nil {
			w.File = rel
		}
		out = append(out, w.Warning())
	}
	return out
}

// testdata/sigma/lint/expected.txt lists the warnings of the folder's
// rules, in order.
func TestCheckFields(t *testing.T) {
	got := checkDir(t, lintDir)
	if os.Getenv("ENTRAWATCH_UPDATE_LINT") != "" {
		head := "# The warnings of sigma.CheckFields on this folder (internal/sigma/lint_test.go).\n" +
			"# Regenerate with ENTRAWATCH_UPDATE_LINT=1 go test ./internal/sigma -run TestCheckFields\n"
		if err := os.WriteFile(filepath.Join(lintDir, "expected.txt"), []byte(head+strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(filepath.Join(lintDir, "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			t.Errorf("unexpected warning:\n%s", l)
		}
	}
	for _, l := range want {
		if !slices.Contains(got, l) {
			t.Errorf("missing warning:\n%s", l)
		}
	}
	// Every rule whose name says it is clean gives no warning.
	for _, l := range got {
		if strings.Contains(l, "-good:") {
			t.Errorf("warning on a clean rule: %s", l)
		}
	}
}

// The built-in detections must give no warning.
func TestCheckFieldsBuiltins(t *testing.T) {
	if got := checkDir(t, filepath.Join("..", "catalog", "rules")); len(got) > 0 {
		t.Errorf("warnings on the built-in rules:\n%s", strings.Join(got, "\n"))
	}
}

// The conformance suite's rules use fields of every format; the only
// warnings are those its rules mean (a plain value against an object, a
// refused fieldref).
func TestCheckFieldsConformance(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "sigma", "conformance")
	rules, _ := LoadPaths([]string{dir})
	var got []string
	for _, w := range CheckFields(rules) {
		got = append(got, filepath.Base(w.File)+": "+w.Msg)
	}
	want := []string{`fields.yml: field DeviceDetail holds an object in sign-in records`}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %q, want %q…", got[i], want[i])
		}
	}
}

// The SigmaHQ corpus: each warning is a genuine problem of the SigmaHQ rule
// (see the list in the test), and nothing else is reported.
func TestCheckFieldsCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	rules, _ := LoadPaths([]string{filepath.Join(dir, "sigma")})
	var got []string
	for _, w := range CheckFields(rules) {
		// file:line:col and the field (or value) the warning is about.
		field := strings.Fields(w.Msg)[1]
		got = append(got, filepath.Base(w.File)+":"+strconv.Itoa(w.Line)+":"+strconv.Itoa(w.Col)+" "+field)
	}
	want := []string{
		// A message field that no Entra or Azure Activity record has (the
		// values are activity names, ActivityDisplayName/OperationName).
		"azure_device_or_configuration_modified_or_deleted.yml:19:9 properties.message",
		"azure_aad_secops_ca_policy_removedby_bad_actor.yml:21:9 properties.message",
		"azure_aad_secops_ca_policy_updatedby_bad_actor.yml:22:9 properties.message",
		"azure_aad_secops_new_ca_policy_addedby_bad_actor.yml:17:9 properties.message",
		"azure_ad_account_created_deleted.yml:21:9 properties.message",
		"azure_app_appid_uri_changes.yml:22:9 properties.message",
		"azure_app_credential_added.yml:19:9 properties.message",
		"azure_app_delegated_permissions_all_users.yml:17:9 properties.message",
		"azure_app_owner_added.yml:17:9 properties.message",
		"azure_app_permissions_msft.yml:17:9 properties.message",
		"azure_app_privileged_permissions.yml:22:9 properties.message",
		"azure_app_role_added.yml:20:9 properties.message",
		"azure_app_uri_modifications.yml:24:9 properties.message",
		"azure_group_user_addition_ca_modification.yml:21:9 properties.message",
		"azure_group_user_removal_ca_modification.yml:21:9 properties.message",
		"azure_guest_invite_failure.yml:20:9 properties.message",
		"azure_guest_to_member.yml:22:9 properties.message",
		"azure_pim_activation_approve_deny.yml:20:9 properties.message",
		"azure_pim_alerts_disabled.yml:20:9 properties.message",
		"azure_pim_change_settings.yml:20:9 properties.message",
		"azure_priviledged_role_assignment_add.yml:20:9 properties.message",
		"azure_priviledged_role_assignment_bulk_change.yml:18:9 properties.message",
		"azure_privileged_account_creation.yml:21:9 properties.message",
		"azure_tap_added.yml:20:9 properties.message",
		"azure_app_device_code_authentication.yml:23:9 properties.message",
		"azure_app_ropc_authentication.yml:22:9 properties.message",
		// Audit records have no Status (their outcome is Result).
		"azure_ad_account_created_deleted.yml:24:9 Status",
		"azure_guest_invite_failure.yml:21:9 Status",
		"azure_privileged_account_creation.yml:24:9 Status",
		"azure_tap_added.yml:21:9 Status",
		"azure_user_password_change.yml:22:9 Status",
		// Names from no Entra schema.
		"azure_app_end_user_consent.yml:17:9 ConsentContext.IsAdminConsent",
		"azure_app_end_user_consent_blocked.yml:17:9 failure_status_reason",
		"azure_auditlogs_laps_credential_dumping.yml:21:9 activityType",
		"azure_user_password_change.yml:25:9 Target",
		"azure_user_password_change.yml:26:9 ActivityType",
		"azure_legacy_authentication_protocols.yml:22:9 ActivityDetails",
		"azure_legacy_authentication_protocols.yml:23:9 ClientApp",
		"azure_legacy_authentication_protocols.yml:31:9 Username",
		// A plain value against an object: InitiatedBy {user, app}, and
		// the sign-in Status {errorCode, failureReason, additionalDetails}.
		"azure_user_password_change.yml:23:22 Initiatedby",
		"azure_ad_only_single_factor_auth_required.yml:23:17 Status",
		"azure_ad_risky_sign_ins_with_singlefactorauth_from_unknown_devices.yml:21:17 Status",
		"azure_ad_suspicious_signin_bypassing_mfa.yml:23:17 Status",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("unexpected warning %s", g)
			}
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("missing warning %s", w)
			}
		}
	}
}

// Suggestions: the closest known field by edit distance, a prefix of a
// longer name, or none when nothing is close.
func TestFieldSuggestions(t *testing.T) {
	rules, _ := Parse("s.yml", []byte(`
title: s
logsource: {product: azure, service: signinlogs}
detection:
    selection:
        x: 1
    condition: selection
level: low
`))
	c := &fieldChecker{rule: rules[0]}
	c.kinds, _ = rules[0].Logsource.Kinds()
	for name, want := range map[string]string{
		"UserPrincipalNam":      "UserPrincipalName",
		"userprincipalnme":      "userPrincipalName",
		"DeviceDetail.trustTyp": "DeviceDetail.trustType",
		"ClientApp":             "ClientAppUsed",
		"message":               "",
		"zz":                    "",
	} {
		if got := c.suggest(name); got != want {
			t.Errorf("suggest(%s) = %q, want %q", name, got, want)
		}
	}
}

// FuzzFiltersAndFields reads arbitrary bytes as a rule file holding
// filters: compiling and the field check never panic, and every problem and
// warning names its file, a position and what is wrong.
func FuzzFiltersAndFields(f *testing.F) {
	f.Add([]byte("title: r\nid: r1\nlogsource: {product: azure, service: signinlogs}\ndetection:\n    selection:\n        ResultType: 0\n    condition: selection\n---\ntitle: f\nlogsource: {product: azure}\nfilter:\n    rules: [r1]\n    selection:\n        DeviceDetail.trustTyp: x\n        Status: Success\n    condition: not selection\n"))
	f.Add([]byte("title: w\nlogsource: {product: windows}\ndetection:\n    selection:\n        EventID: [4624, '4688']\n        'Logon Type|fieldref': TargetUserNam\n    condition: selection\n---\ntitle: f\nlogsource: {product: windows}\nfilter: {rules: any, s: {EventData.x: 1}, condition: not s}\n"))
	f.Add([]byte("title: a\nlogsource: {product: azure, service: activitylogs}\ndetection:\n    s:\n        properties.message|startswith: x\n        location.city[0]: y\n    condition: s\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, _ := Parse("fuzz.yml", b)
		_, probs := Compile(rules, rule.NewCompiler(), Config{})
		for _, p := range append(probs, CheckFields(rules)...) {
			if p.File != "fuzz.yml" || strings.TrimSpace(p.Msg) == "" || p.Line < 0 || p.Col < 0 {
				t.Fatalf("problem without a file, a message or a position: %#v", p)
			}
		}
	})
}

// pathLister is a detector that lists, for each record, the field names
// the field view finds in it that the catalogue does not know: each would
// be a false warning of CheckFields.
type pathLister struct {
	mu     sync.Mutex
	misses map[string]string // "kind name" → an input that has it
	seen   map[string]bool
}

func (l *pathLister) Info() *detect.Info {
	return &detect.Info{ID: "path-lister", Title: "paths", Kinds: record.Kinds()}
}

func (l *pathLister) Detect(r *record.Record, _ func(*alert.Alert)) {
	var kinds []record.Kind
	switch r.Kind {
	case record.KindSignIn, record.KindAudit, record.KindDevice, record.KindRiskDetection, record.KindActivity, record.KindSyslog, record.KindWindowsEvent:
		kinds = []record.Kind{r.Kind}
	default:
		return // no logsource reads it
	}
	c := &fieldChecker{kinds: kinds}
	if r.Kind == record.KindWindowsEvent {
		id := strings.TrimSpace(record.Text(r.Get(record.CompileField("EventID"))))
		if _, ok := windowsEvents[id]; !ok {
			return // its data is open
		}
		c.events = id
		c.windows = windowsTree(id)
	}
	var names []string
	var list func(v *fastjson.Value, prefix string, depth int)
	list = func(v *fastjson.Value, prefix string, depth int) {
		if depth > 6 || v == nil {
			return
		}
		if v.Type() == fastjson.TypeString {
			s := strings.TrimSpace(string(v.GetStringBytes()))
			if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
				if x, err := fastjson.Parse(s); err == nil {
					v = x
				}
			}
		}
		switch v.Type() {
		case fastjson.TypeObject:
			o, _ := v.Object()
			o.Visit(func(k []byte, x *fastjson.Value) {
				key := string(k)
				if key == "" || strings.ContainsAny(key, ".[]") {
					return
				}
				names = append(names, prefix+key)
				list(x, prefix+key+".", depth+1)
			})
		case fastjson.TypeArray:
			a, _ := v.Array()
			for _, x := range a {
				list(x, prefix, depth+1)
			}
		}
	}
	if r.Shape == record.ShapeDiagnostic {
		list(r.Props, "", 0)
		o, _ := r.Root.Object()
		o.Visit(func(k []byte, x *fastjson.Value) {
			if !strings.EqualFold(string(k), "properties") && !strings.ContainsAny(string(k), ".[]") {
				names = append(names, string(k))
				list(x, string(k)+".", 1)
			}
		})
	} else {
		list(r.Root, "", 0)
	}
	for _, n := range names {
		key := r.Kind.String() + " " + c.events + " " + n
		l.mu.Lock()
		done := l.seen[key]
		l.seen[key] = true
		l.mu.Unlock()
		if done || !r.Each(record.CompileField(n), func(*fastjson.Value) bool { return true }) {
			continue
		}
		if !c.resolve(n).carried() {
			l.mu.Lock()
			l.misses[key] = r.Source.File
			l.mu.Unlock()
		}
	}
}

// Every field the field view finds in the project's records (all the
// formats of testdata/ and examples/) and, with ENTRAWATCH_CORPUS, in the
// public samples, is known to the catalogue: CheckFields would never warn
// about a field real records carry.
func TestCatalogueCoversRecords(t *testing.T) {
	root := filepath.Join("..", "..")
	inputs := []string{filepath.Join(root, "testdata", "detections"), filepath.Join(root, "testdata", "sigma", "correlation", "records"),
		filepath.Join(root, "testdata", "sigma", "filters", "records"), filepath.Join(root, "testdata", "windows"),
		filepath.Join(root, "testdata", "vm"), filepath.Join(root, "examples")}
	if dir := os.Getenv("ENTRAWATCH_CORPUS"); dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		inputs = append(inputs, filepath.Join(dir, "samples"))
	}
	l := &pathLister{misses: map[string]string{}, seen: map[string]bool{}}
	eng, err := detect.NewEngine(detect.Options{NoBuiltin: true})
	if err != nil {
		t.Fatal(err)
	}
	eng.Add(l)
	_, err = scan.Run(context.Background(), scan.Config{
		Paths: inputs, Engine: eng, Workers: 4, Year: 2026,
		Alert: func(*alert.Alert) error { return nil },
		Warn:  func(string) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The OTRF audit export holds, beside the AuditLogs columns, columns
	// its hunting query computed (extend, mv-expand): no AuditLogs record
	// has them.
	derived := map[string]bool{"displayname": true, "initiatinguser": true, "initiatinguserorapp": true, "modifiedapplication": true,
		"modifiedapplicationobjectid": true, "modifiedpropertyname": true, "permissions": true, "permissionsaddedto": true,
		"resourceappid": true, "keyevents": true, "target": true, "targetdisplayname": true, "targetid": true, "targettype": true}
	var misses []string
	for k, f := range l.misses {
		name := strings.Fields(k)[len(strings.Fields(k))-1]
		first, _, _ := strings.Cut(name, ".")
		if filepath.Base(f) == "GoldenSAMLADFSMailAccess_AADAuditEvents.json" && derived[strings.ToLower(first)] {
			continue
		}
		misses = append(misses, k+" ("+f+")")
	}
	slices.Sort(misses)
	for _, m := range misses {
		t.Errorf("the catalogue lacks %s", m)
	}
	if len(l.seen) < 500 {
		t.Errorf("only %d fields seen", len(l.seen))
	}
}
