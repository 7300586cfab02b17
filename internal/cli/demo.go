package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/entrawatch/entrawatch/internal/graphsim"
	"github.com/entrawatch/entrawatch/internal/serve"
	"github.com/spf13/cobra"
)

// demoSecretEnv carries the simulated tenant's client secret to the
// demo's configuration, as a real deployment's secret would.
const demoSecretEnv = "ENTRAWATCH_DEMO_CLIENT_SECRET"

func newDemoCmd(s Streams) *cobra.Command {
	var dataDir, listen string
	var duration time.Duration
	var seed int64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run entrawatch serve against a simulated tenant built into the binary",
		Long: `demo starts entrawatch serve against a simulated Entra tenant built into the
binary: an in-process HTTPS server that answers the Microsoft identity token
flow and the Graph API paths serve polls, in their real shapes (paging, an
occasional 429 with Retry-After, late records), for a simulated organisation
with ordinary traffic and, every few minutes, each threat of Microsoft's
"security operations for devices" guide — a device registered without MFA,
the registration MFA setting switched off without an audit record, sign-ins
from non-compliant and unknown devices, a BitLocker key read, users added to
Global Administrator and Cloud Device Administrator, and stale devices.

Everything goes through the real Graph client, store, outbox and sinks: the
alerts are printed as the stdout sink delivers them (the first cycle shows
every detection within about 90 seconds), written to alerts.jsonl, and served
by the API whose address is printed. The store and the generated
configuration (entrawatch.yaml, a starting point for a real one) are in a
temporary folder unless --data names one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			if dataDir == "" {
				d, err := os.MkdirTemp("", "entrawatch-demo-")
				if err != nil {
					return &ExitError{Code: 1, Err: err}
				}
				dataDir = d
			} else if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			// The simulated tenant, over TLS with a certificate made now.
			certPEM, cert, err := selfSigned()
			if err != nil {
				return &ExitError{Code: 1, Err: fmt.Errorf("demo certificate: %w", err)}
			}
			caFile := filepath.Join(dataDir, "simulated-tenant-ca.pem")
			if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			secret := randomHex(16)
			sim := graphsim.New(graphsim.Options{Seed: seed, ClientSecret: secret, ThrottleEvery: 9, LateFraction: 0.1, LateBy: 15 * time.Second, PageSize: 25})
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
			go srv.Serve(ln)
			defer srv.Close()
			simURL := "https://" + ln.Addr().String()
			if listen == "" {
				listen = "127.0.0.1:8080"
				if l, err := net.Listen("tcp", listen); err != nil {
					listen = "127.0.0.1:0"
				} else {
					l.Close()
				}
			}
			opts := sim.Options()
			cfgPath := filepath.Join(dataDir, "entrawatch.yaml")
			cfgText := fmt.Sprintf(demoConfig, listen, filepath.Join(dataDir, "entrawatch.db"), opts.TenantID, simURL, simURL, caFile, opts.ClientID, demoSecretEnv, filepath.Join(dataDir, "alerts.jsonl"))
			if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			os.Setenv(demoSecretEnv, secret)
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "entrawatch demo: a simulated tenant (%s) at %s\n", opts.TenantID, simURL)
			fmt.Fprintf(s.Err, "  store and configuration: %s (entrawatch.yaml)\n", dataDir)
			fmt.Fprintf(s.Err, "  threats repeat every %s; the first cycle's alerts arrive within about 90 seconds. Ctrl-C stops.\n\n", opts.ThreatEvery)
			err = runService(ctx, s, cfg, serviceHooks{quiet: true, ready: func(addr string, _ *serve.Service) {
				fmt.Fprintf(s.Err, "  API: http://%s/api/v1/alerts   metrics: http://%s/metrics\n\n", addr, addr)
			}})
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "", "folder for the store and the generated configuration (default: a new temporary folder)")
	f.StringVar(&listen, "listen", "", "API address (default 127.0.0.1:8080, or a free port when it is taken)")
	f.DurationVar(&duration, "duration", 0, "stop after this long (default: run until interrupted)")
	f.Int64Var(&seed, "seed", 1, "seed of the simulated organisation and its traffic")
	return cmd
}

// demoConfig is the configuration the demo runs, pointing one tenant at
// the simulated one. Its pollers are faster than a real deployment's.
const demoConfig = `# Generated by entrawatch demo: a configuration pointing at the simulated
# tenant. For a real tenant, drop endpoints and ca_file, set your tenant and
# app ids, and see docs/deployment.md.
server:
  listen: %s
store:
  path: %s
tenants:
  - name: contoso-sim
    tenant_id: %s
    endpoints:
      login: %s
      graph: %s
    ca_file: %s
    auth:
      method: client_secret
      client_id: %s
      client_secret: {env: %s}
    signins: {interval: 10s, overlap: 15m}
    audits: {interval: 10s, overlap: 15m}
    devices: {interval: 30s}
    policies: {interval: 10s}
    roles: {interval: 20s}
    start: 2h
alerts:
  group_window: 1h
sinks:
  - name: console
    type: stdout
  - name: jsonl
    type: file
    path: %s
`

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned() ([]byte, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "entrawatch simulated tenant"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return certPEM, cert, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}
