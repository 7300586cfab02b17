package config

import (
	"fmt"
	"os"
	"strings"
)

// maxSecretSize bounds a secret file.
const maxSecretSize = 1 << 20

// secretField is one secret of a configuration, with the key naming it.
type secretField struct {
	key string
	s   *Secret
	// url: the value must be an absolute URL (https only if https).
	url, https bool
}

// secrets lists every secret the configuration gives.
func (c *Config) secrets() []secretField {
	var out []secretField
	add := func(key string, s *Secret, url, https bool) {
		if s.env != "" || s.file != "" {
			out = append(out, secretField{key: key, s: s, url: url, https: https})
		}
	}
	add("server.token", &c.Server.Token, false, false)
	add("store.dsn", &c.Store.DSN, false, false)
	for i := range c.Tenants {
		a := &c.Tenants[i].Auth
		p := fmt.Sprintf("tenants[%d].auth.", i)
		add(p+"client_secret", &a.ClientSecret, false, false)
		add(p+"certificate", &a.Certificate, false, false)
		add(p+"certificate_password", &a.CertificatePassword, false, false)
	}
	for i := range c.Sinks {
		s := &c.Sinks[i]
		p := fmt.Sprintf("sinks[%d].", i)
		add(p+"url", &s.URLSecret, true, s.Type == SinkSlack || s.Type == SinkTeams)
		add(p+"secret", &s.Secret, false, false)
		add(p+"token", &s.Token, false, false)
		for j := range s.Headers {
			add(p+"headers."+s.Headers[j].Name, &s.Headers[j].Secret, false, false)
		}
	}
	return out
}

// ResolveSecrets reads every secret the configuration refers to, with
// getenv and readFile (os.Getenv and os.ReadFile when nil). A file's
// content loses its trailing line break (a certificate's is kept byte for
// byte). It also fills in a workload identity's token file from
// $AZURE_FEDERATED_TOKEN_FILE. Every unset variable, unreadable or empty
// file is reported at once as *Errors naming the key and the variable or
// file, never a value.
func (c *Config) ResolveSecrets(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	var ps problems
	for _, f := range c.secrets() {
		s := f.s
		var v string
		switch {
		case s.env != "":
			v = getenv(s.env)
			if v == "" {
				ps.add(s.line, s.col, fmt.Sprintf("%s: environment variable %s is not set or empty", f.key, s.env))
				continue
			}
		default:
			b, err := readFile(s.file)
			if err != nil {
				ps.add(s.line, s.col, fmt.Sprintf("%s: reading secret file %s: %v", f.key, s.file, fileError(err)))
				continue
			}
			if len(b) > maxSecretSize {
				ps.add(s.line, s.col, fmt.Sprintf("%s: secret file %s is larger than %d bytes", f.key, s.file, maxSecretSize))
				continue
			}
			v = string(b)
			if !s.binary {
				v = strings.TrimSuffix(strings.TrimSuffix(v, "\n"), "\r")
			}
			if v == "" {
				ps.add(s.line, s.col, fmt.Sprintf("%s: secret file %s is empty", f.key, s.file))
				continue
			}
		}
		if f.url {
			if err := checkURL(v, f.https, true); err != nil {
				// Say what is wrong, never the value: the URL is a credential.
				ps.add(s.line, s.col, fmt.Sprintf("%s: the value of %s %v", f.key, s.Ref(), err))
				continue
			}
		}
		s.value, s.resolved = v, true
	}
	for i := range c.Tenants {
		a := &c.Tenants[i].Auth
		if a.Method == AuthWorkloadIdentity && a.TokenFile == "" {
			if a.TokenFile = getenv("AZURE_FEDERATED_TOKEN_FILE"); a.TokenFile == "" {
				ps.add(a.line, a.col, fmt.Sprintf("tenants[%d].auth.token_file is not set and neither is the environment variable AZURE_FEDERATED_TOKEN_FILE", i))
			}
		}
	}
	if len(ps.list) > 0 {
		return &Errors{File: c.File, List: ps.sorted()}
	}
	return nil
}

// fileError drops the path an *os.PathError repeats.
func fileError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
