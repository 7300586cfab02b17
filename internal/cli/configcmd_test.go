package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/config"
)

// runConfig runs "entrawatch config ARGS" through newConfigCmd.
func runConfig(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newConfigCmd(Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	var ee *ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err != nil {
			errb.WriteString(ee.Err.Error())
		}
	default:
		code = 2 // as Main does
		errb.WriteString(err.Error())
	}
	return code, out.String(), errb.String()
}

const goodConfig = `server:
  listen: 0.0.0.0:8080
  token: {env: EW_CLI_TOKEN}
tenants:
  - name: contoso
    tenant_id: contoso.com
    auth: {method: client_secret, client_id: 11111111-2222-3333-4444-555555555555, client_secret: {env: EW_CLI_SECRET}}
files:
  - {name: logs, paths: [/var/log/auth.log]}
  - {name: exports, paths: [/data/]}
alerts:
  suppressions:
    - {rule: stale-device, reason: lab devices, until: 2020-01-01T00:00:00Z}
sinks:
  - {name: out, type: stdout}
`

const badConfig = `server:
  listen: 0.0.0.0:8080
tenants:
  - name: contoso
    auth: {method: client_secret, client_id: 11111111-2222-3333-4444-555555555555, client_secret: hunter2}
sinks:
  - {name: out, type: stdot}
`

func TestConfigCheck(t *testing.T) {
	good := tempFile(t, "good.yaml", []byte(goodConfig))
	bad := tempFile(t, "bad.yaml", []byte(badConfig))
	example := tempFile(t, "example.yaml", []byte(config.Example))
	tests := []struct {
		name        string
		env         map[string]string
		args        []string
		code        int
		stdout      string
		stderr      []string // lines stderr must hold
		notInOutput string
	}{
		{name: "good", args: []string{"check", good}, stdout: good + ": ok (1 tenant, 2 file sources, 1 sink)\n",
			stderr: []string{good + ":13:56: warning: alerts.suppressions[0].until: 2020-01-01T00:00:00Z has passed: the suppression no longer applies"}},
		{name: "example", args: []string{"check", example}, stdout: example + ": ok (1 tenant, 2 file sources, 3 sinks)\n"},
		{name: "every problem", args: []string{"check", bad}, code: 2, stderr: []string{
			bad + ":2:11: server.token is required when server.listen (\"0.0.0.0:8080\") is not a loopback address: add token: {env: ENTRAWATCH_API_TOKEN}",
			bad + ":4:5: tenants[0].tenant_id is required",
			bad + ":5:99: tenants[0].auth.client_secret: secrets must come from an environment variable or a file: use {env: NAME} or {file: PATH}",
			bad + ":7:23: sinks[0].type: \"stdot\" is not one of stdout, file, webhook, slack, teams, syslog, splunk (did you mean `stdout`?)",
			bad + ": 4 problems",
		}, notInOutput: "hunter2"},
		{name: "missing file", args: []string{"check", good + ".missing"}, code: 2, stderr: []string{"config: open " + good + ".missing: no such file or directory"}},
		{name: "secrets missing", args: []string{"check", "--secrets", good}, env: map[string]string{"EW_CLI_TOKEN": "tok-CANARY"}, code: 2, stderr: []string{
			good + ":7:100: tenants[0].auth.client_secret: environment variable EW_CLI_SECRET is not set or empty",
			good + ": 1 problem",
		}, notInOutput: "CANARY"},
		{name: "secrets present", args: []string{"check", "--secrets", good}, env: map[string]string{"EW_CLI_TOKEN": "tok-CANARY", "EW_CLI_SECRET": "sec-CANARY"},
			stdout: good + ": ok (1 tenant, 2 file sources, 1 sink)\n", stderr: []string{good + ":13:56: warning: alerts.suppressions[0].until: 2020-01-01T00:00:00Z has passed: the suppression no longer applies"},
			notInOutput: "CANARY"},
		{name: "no file", args: []string{"check"}, code: 2, stderr: []string{"accepts 1 arg(s), received 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("EW_CLI_TOKEN", "")
			t.Setenv("EW_CLI_SECRET", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := runConfig(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("stdout = %q, want %q", stdout, tt.stdout)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(tt.stderr) == 0 && len(stderr) > 0 {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
			for _, want := range tt.stderr {
				found := false
				for _, l := range lines {
					found = found || l == want
				}
				if !found {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tt.notInOutput != "" && strings.Contains(stdout+stderr, tt.notInOutput) {
				t.Errorf("output shows %q:\n%s%s", tt.notInOutput, stdout, stderr)
			}
		})
	}
}

func TestConfigExample(t *testing.T) {
	code, stdout, _ := runConfig(t, "example")
	if code != 0 || stdout != config.Example {
		t.Errorf("config example: status %d, output %d bytes, want the %d bytes of config.Example", code, len(stdout), len(config.Example))
	}
}
