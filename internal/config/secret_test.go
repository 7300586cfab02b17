package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretsConfig refers to a secret of every kind.
const secretsConfig = `server:
  listen: 0.0.0.0:8443
  token: {env: EW_TEST_TOKEN}
store: {driver: postgres, dsn: {file: DSN_FILE}}
tenants:
  - name: contoso
    tenant_id: contoso.com
    auth:
      method: certificate
      client_id: 11111111-2222-3333-4444-555555555555
      certificate: {file: CERT_FILE}
      certificate_password: {env: EW_TEST_CERT_PW}
sinks:
  - name: chat
    type: slack
    url: {env: EW_TEST_SLACK}
  - name: soc
    type: webhook
    url: https://soc.example.com/hook
    secret: {env: EW_TEST_SIGN}
    headers: {Authorization: {env: EW_TEST_AUTH}}
`

// canary marks every secret value so that a rendering leaking one shows.
const canary = "CANARY-5ecr3t"

func secretsFixture(t *testing.T) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "dsn")
	cert := filepath.Join(dir, "cert.pfx")
	if err := os.WriteFile(dsn, []byte("postgres://u:"+canary+"@db/ew\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cert, []byte("\x30\x82"+canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer("DSN_FILE", dsn, "CERT_FILE", cert).Replace(secretsConfig)
	c, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func TestResolveSecrets(t *testing.T) {
	c, _ := secretsFixture(t)
	env := map[string]string{
		"EW_TEST_TOKEN":   "token-" + canary,
		"EW_TEST_CERT_PW": "pw-" + canary,
		"EW_TEST_SLACK":   "https://hooks.slack.com/services/" + canary,
		"EW_TEST_SIGN":    "sign-" + canary,
		"EW_TEST_AUTH":    "Bearer " + canary,
	}
	getenv := func(k string) string { return env[k] }
	if err := c.ResolveSecrets(getenv, os.ReadFile); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"server.token", c.Server.Token.Value(), "token-" + canary},
		{"store.dsn (trailing newline dropped)", c.Store.DSN.Value(), "postgres://u:" + canary + "@db/ew"},
		{"certificate (kept byte for byte)", c.Tenants[0].Auth.Certificate.Value(), "\x30\x82" + canary + "\n"},
		{"certificate_password", c.Tenants[0].Auth.CertificatePassword.Value(), "pw-" + canary},
		{"slack url", c.Sinks[0].Target(), "https://hooks.slack.com/services/" + canary},
		{"webhook url", c.Sinks[1].Target(), "https://soc.example.com/hook"},
		{"webhook secret", c.Sinks[1].Secret.Value(), "sign-" + canary},
		{"webhook header", c.Sinks[1].Headers[0].Get(), "Bearer " + canary},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
}

// Every missing secret is reported at once, at its position, naming the
// key and the variable or file, and no value is shown.
func TestResolveSecretsReportsAllMissing(t *testing.T) {
	c, dir := secretsFixture(t)
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "cert.pfx")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"EW_TEST_TOKEN": "token-" + canary,
		"EW_TEST_SLACK": "http://hooks.slack.com/" + canary, // not https
		"EW_TEST_SIGN":  "sign-" + canary,
	}
	err := c.ResolveSecrets(func(k string) string { return env[k] }, os.ReadFile)
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want *Errors", err)
	}
	want := []string{
		"s.yaml:4:33: store.dsn: secret file " + filepath.Join(dir, "dsn") + " is empty",
		"s.yaml:11:21: tenants[0].auth.certificate: reading secret file " + filepath.Join(dir, "cert.pfx") + ": no such file or directory",
		"s.yaml:12:30: tenants[0].auth.certificate_password: environment variable EW_TEST_CERT_PW is not set or empty",
		"s.yaml:16:11: sinks[0].url: the value of environment variable EW_TEST_SLACK is not an https URL",
		"s.yaml:21:31: sinks[1].headers.Authorization: environment variable EW_TEST_AUTH is not set or empty",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("error:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), canary) {
		t.Errorf("the error shows a secret value:\n%v", err)
	}
}

// A workload identity without token_file takes $AZURE_FEDERATED_TOKEN_FILE,
// and without either is reported.
func TestResolveWorkloadIdentityTokenFile(t *testing.T) {
	src := "tenants:\n  - name: t\n    tenant_id: contoso.com\n    auth: {method: workload_identity, client_id: 11111111-2222-3333-4444-555555555555}\n"
	c, err := Parse("w.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	noFile := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	err = c.ResolveSecrets(func(string) string { return "" }, noFile)
	if err == nil || err.Error() != "w.yaml:4:12: tenants[0].auth.token_file is not set and neither is the environment variable AZURE_FEDERATED_TOKEN_FILE" {
		t.Errorf("without the variable: %v", err)
	}
	env := func(k string) string {
		if k == "AZURE_FEDERATED_TOKEN_FILE" {
			return "/var/run/token"
		}
		return ""
	}
	if err := c.ResolveSecrets(env, noFile); err != nil || c.Tenants[0].Auth.TokenFile != "/var/run/token" {
		t.Errorf("with the variable: token file %q, %v", c.Tenants[0].Auth.TokenFile, err)
	}
}

// No rendering of a resolved configuration or secret shows a value:
// fmt's verbs, JSON, text marshalling and both slog handlers.
func TestSecretsNeverRendered(t *testing.T) {
	c, _ := secretsFixture(t)
	t.Setenv("EW_TEST_TOKEN", "token-"+canary)
	t.Setenv("EW_TEST_CERT_PW", "pw-"+canary)
	t.Setenv("EW_TEST_SLACK", "https://hooks.slack.com/services/"+canary)
	t.Setenv("EW_TEST_SIGN", "sign-"+canary)
	t.Setenv("EW_TEST_AUTH", "Bearer "+canary)
	if err := c.ResolveSecrets(nil, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Server.Token.Value(), canary) {
		t.Fatal("the secret was not resolved")
	}
	tok := c.Server.Token
	values := map[string]any{
		"config": c, "*config": *c, "secret": tok, "&secret": &tok,
		"tenant": c.Tenants[0], "auth": &c.Tenants[0].Auth, "sinks": c.Sinks, "header": c.Sinks[1].Headers[0],
	}
	var renderings []string
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%T %[1]v"} {
			renderings = append(renderings, name+" "+verb+": "+fmt.Sprintf(verb, v))
		}
		renderings = append(renderings, name+" Sprint: "+fmt.Sprint(v), name+" Sprintln: "+fmt.Sprintln(v))
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%s): %v", name, err)
		}
		renderings = append(renderings, name+" JSON: "+string(j))
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var b bytes.Buffer
			slog.New(h(&b)).Info("config", "value", v, slog.Any("any", v), slog.Group("g", "v", v))
			renderings = append(renderings, name+" slog: "+b.String())
		}
	}
	text, _ := tok.MarshalText()
	renderings = append(renderings, "MarshalText: "+string(text), "String: "+tok.String(), "GoString: "+tok.GoString())
	for _, r := range renderings {
		if strings.Contains(r, canary) || strings.Contains(r, fmt.Sprintf("%x", canary)) {
			t.Errorf("a secret shows in %s", r)
		}
	}
	for _, r := range []string{fmt.Sprint(tok), fmt.Sprintf("%#v", &tok), string(text)} {
		if r != "[redacted]" {
			t.Errorf("rendering %q, want [redacted]", r)
		}
	}
	if j, _ := json.Marshal(c.Server); string(j) != `{"listen":"0.0.0.0:8443","token":"[redacted]"}` {
		t.Errorf("JSON of server = %s", j)
	}
}
