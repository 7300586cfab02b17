package cli

import (
	"strings"
	"testing"
)

// "entrawatch query", run through Main with in-memory streams.

func TestQueryOutputs(t *testing.T) {
	f := tempFile(t, "signins.json", []byte(medium+"\n"+high+"\n"+quiet+"\n"))
	q := `SigninLogs | where ConditionalAccessStatus == "success" | project Id, UserPrincipalName, Compliant = DeviceDetail.isCompliant | order by Id asc`
	for _, tt := range []struct {
		output, want string
	}{
		{"json", `{"Id":"h","UserPrincipalName":"bob@contoso.com","Compliant":false}` + "\n" +
			`{"Id":"m","UserPrincipalName":"alice@contoso.com","Compliant":null}` + "\n"},
		{"csv", "Id,UserPrincipalName,Compliant\nh,bob@contoso.com,false\nm,alice@contoso.com,\n"},
		{"table", "Id  UserPrincipalName  Compliant\n--  -----------------  ---------\nh   bob@contoso.com    false\nm   alice@contoso.com\n(2 rows)\n"},
	} {
		code, out, errs := runCLI(t, "", "query", "--output", tt.output, q, f)
		if code != 0 || out != tt.want {
			t.Errorf("--output %s: code %d, stderr %q, stdout:\n%s\nwant:\n%s", tt.output, code, errs, out, tt.want)
		}
	}
}

func TestQueryFileStdinAndNow(t *testing.T) {
	qf := tempFile(t, "q.kql", []byte("// recent sign-ins\nSigninLogs\n| where TimeGenerated > ago(90m)\n| count\n"))
	// Without --now, ago() is relative to the newest record (12:00): two records are within 90 minutes.
	code, out, errs := runCLI(t, medium+"\n"+high+"\n"+quiet+"\n", "query", "--file", qf, "-")
	if code != 0 || out != `{"Count":2}`+"\n" {
		t.Errorf("code %d, stderr %q, stdout %q", code, errs, out)
	}
	code, out, _ = runCLI(t, medium+"\n"+quiet+"\n", "query", "--file", qf, "--now", "2026-01-05T12:30:00Z", "-")
	if code != 0 || out != `{"Count":1}`+"\n" {
		t.Errorf("--now: code %d, stdout %q", code, out)
	}
}

func TestQueryErrors(t *testing.T) {
	f := tempFile(t, "signins.json", []byte(medium+"\n"))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "SigninLogs | parse Identity with a '@' b:guid", f}, "query: 1:14: parse column type guid is not supported"},
		{[]string{"query", "SigninLogs |\n where Identity has", f}, "query: 2:"},
		{[]string{"query", "SigninLogs"}, "at least one PATH is required"},
		{[]string{"query"}, "a query is required"},
		{[]string{"query", "--output", "xml", "SigninLogs", f}, `--output "xml"`},
		{[]string{"query", "--now", "yesterday", "SigninLogs", f}, "--now"},
		{[]string{"query", `SigninLogs | where Identity > 1`, f}, "cannot compare a string with a long"},
		{[]string{"query", "SigninLogs", f + ".missing"}, "1 input could not be read: the query was not run"},
	} {
		code, out, errs := runCLI(t, "", tt.args...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%q: code %d, stdout %q, stderr %q, want status 2 and %q", tt.args, code, out, errs, tt.want)
		}
	}
}
