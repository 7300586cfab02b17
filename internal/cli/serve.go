package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/entrawatch/entrawatch/internal/allowlist"
	"github.com/entrawatch/entrawatch/internal/config"
	"github.com/entrawatch/entrawatch/internal/deliver"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/filesource"
	"github.com/entrawatch/entrawatch/internal/graph"
	"github.com/entrawatch/entrawatch/internal/sentinel"
	"github.com/entrawatch/entrawatch/internal/serve"
	"github.com/entrawatch/entrawatch/internal/sigma"
	"github.com/entrawatch/entrawatch/internal/sink"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/entrawatch/entrawatch/internal/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
)

func newServeCmd(s Streams) *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Watch tenants through Microsoft Graph and files on disk, store and deliver alerts",
		Long: `serve is entrawatch's main job: it polls each configured tenant through
Microsoft Graph (sign-ins, directory audits, the device inventory, the
device-registration and Conditional Access policies, the holders of the
watched admin roles), follows the configured log files and folders, runs the
detections, stores alerts in the embedded SQLite store and delivers them to
the configured sinks; an HTTP server gives /healthz, /readyz, /metrics and
the JSON API under /api/v1. SIGINT or SIGTERM stop it cleanly; a restart
resumes from the stored cursors.

See docs/deployment.md for the configuration file (entrawatch config check
validates one) and the permissions each poller needs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfgPath == "" {
				return usageError("--config is required (try entrawatch demo for a simulated tenant)")
			}
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runService(ctx, s, cfg, serviceHooks{})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file (YAML)")
	return cmd
}

// loadConfig reads, checks and resolves a configuration file; problems are
// usage errors (exit status 2), all of them at once.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	if err := cfg.ResolveSecrets(os.Getenv, os.ReadFile); err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	return cfg, nil
}

// serviceHooks let demo observe a running service.
type serviceHooks struct {
	ready func(addr string, svc *serve.Service)
	quiet bool
}

// newLogger builds the service's log from the configuration.
func newLogger(w io.Writer, l config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level))
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// engineFactory builds the detection engine of the configuration: the
// built-ins (less those disabled) and the configured Sigma rules. It also
// returns the configured Sentinel scheduled rules (less those disabled),
// which the service runs on their schedule over the stored events. Every
// problem of the rules is reported at once.
func engineFactory(cfg *config.Config) (func(now time.Time) (*detect.Engine, error), []*sentinel.Rule, error) {
	d := cfg.Detections
	allow := &allowlist.List{}
	if d.AllowFile != "" {
		l, err := allowlist.Load(d.AllowFile)
		if err != nil {
			return nil, nil, fmt.Errorf("detections.allow_file: %w", err)
		}
		allow = l
	}
	for _, a := range d.Allow {
		e, err := allowlist.ParseEntry(a)
		if err != nil {
			return nil, nil, fmt.Errorf("detections.allow %q: %w", a, err)
		}
		allow.Add(e)
	}
	builtinIDs := map[string]bool{}
	for _, i := range detect.Catalogue() {
		builtinIDs[i.ID] = true
	}
	var disableBuiltin, disableRule []string
	for _, id := range d.Disable {
		if builtinIDs[id] {
			disableBuiltin = append(disableBuiltin, id)
		} else {
			disableRule = append(disableRule, id)
		}
	}
	disabled := map[string]bool{}
	for _, id := range disableRule {
		disabled[id] = true
	}
	// The Sentinel rules are not in the engine: the service runs them on
	// their own schedule.
	build := func(now time.Time) (*detect.Engine, []*sentinel.Rule, []sigma.Problem, error) {
		eng, err := detect.NewEngine(detect.Options{Now: now, StaleAfter: d.StaleAfter, Disable: disableBuiltin, NoBuiltin: d.NoBuiltin, Allow: allow})
		if err != nil {
			return nil, nil, nil, err
		}
		var probs []sigma.Problem
		var scheduled []*sentinel.Rule
		if len(d.Rules) > 0 {
			l := loadRules(d.Rules, sigma.Config{Placeholders: map[string][]string{}}, false)
			probs = l.probs
			for _, x := range l.sigma {
				eng.Add(x)
			}
			for _, r := range l.sentinel {
				if !disabled[r.AlertID()] {
					scheduled = append(scheduled, r)
				}
			}
		}
		for _, id := range disableRule {
			eng.Remove(id)
		}
		if len(eng.Detectors()) == 0 && len(scheduled) == 0 {
			return nil, nil, nil, errors.New("no detections to run (no_builtin without usable rules)")
		}
		return eng, scheduled, probs, nil
	}
	// Load once now so rule problems are reported at start.
	_, scheduled, probs, err := build(time.Now())
	if err != nil {
		return nil, nil, err
	}
	if len(probs) > 0 {
		var msgs []string
		for _, p := range probs {
			msgs = append(msgs, p.Error())
		}
		return nil, nil, fmt.Errorf("detections.rules:\n  %s", strings.Join(msgs, "\n  "))
	}
	return func(now time.Time) (*detect.Engine, error) {
		eng, _, _, err := build(now)
		return eng, err
	}, scheduled, nil
}

// runService builds the service of cfg and runs it until ctx ends.
func runService(ctx context.Context, s Streams, cfg *config.Config, hooks serviceHooks) error {
	logw := s.Err
	if hooks.quiet {
		logw = io.Discard
	}
	log := newLogger(logw, cfg.Log)
	if cfg.Store.Driver != "" && cfg.Store.Driver != config.DriverSQLite {
		return usageError("store.driver %q is not implemented yet: use sqlite", cfg.Store.Driver)
	}
	st, err := sqlite.Open(ctx, cfg.Store.Path, sqlite.Options{})
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	defer st.Close()
	newEngine, scheduled, err := engineFactory(cfg)
	if err != nil {
		return usageError("%v", err)
	}
	for _, r := range scheduled {
		// A run reads the stored events of its queryPeriod: older ones are gone.
		if r.QueryPeriod > cfg.Store.Retention {
			log.Warn("a Sentinel rule looks back further than events are kept: raise store.retention", "rule", r.AlertID(), "query_period", r.QueryPeriod.String(), "retention", cfg.Store.Retention.String())
		}
	}
	// The alerts' links name the API's address once it listens.
	var svcPtr atomic.Pointer[serve.Service]
	svcAddr := func() string {
		if p := svcPtr.Load(); p != nil {
			return p.Addr()
		}
		return ""
	}
	reg := prometheus.NewRegistry()
	m := serve.NewMetrics(reg)
	opts := serve.Options{Store: st, NewEngine: newEngine, StaleAfter: cfg.Detections.StaleAfter, GroupWindow: cfg.Alerts.GroupWindow,
		Retention: cfg.Store.Retention, Listen: cfg.Server.Listen, Token: cfg.Server.Token.Value(), Log: log, Registry: reg, Metrics: m, Scheduled: scheduled}
	for _, x := range cfg.Alerts.Suppressions {
		opts.Suppressions = append(opts.Suppressions, serve.Suppression{Rule: x.Rule, Entity: x.Entity, Tenant: x.Tenant, Until: x.Until, Reason: x.Reason})
	}
	for i := range cfg.Tenants {
		t := &cfg.Tenants[i]
		api, err := newGraphClient(t, m)
		if err != nil {
			return usageError("tenant %s: %v", t.Name, err)
		}
		poll := func(p config.Poll) serve.Stream {
			return serve.Stream{Enabled: p.Enabled, Interval: p.Interval, Overlap: p.Overlap}
		}
		opts.Tenants = append(opts.Tenants, &serve.Tenant{Name: t.Name, Graph: api, SignIns: poll(t.SignIns), Audits: poll(t.Audits),
			Devices: poll(t.Devices), Policies: poll(t.Policies), Roles: poll(t.Roles), EventTypes: t.SignIns.EventTypes, Start: t.Start})
	}
	for _, f := range cfg.Files {
		w, err := filesource.New(filesource.Config{Name: f.Name, Paths: f.Paths, Format: f.Format, Poll: f.Poll, Year: f.Year}, st)
		if err != nil {
			return usageError("files %s: %v", f.Name, err)
		}
		opts.Files = append(opts.Files, serve.FileSource{Name: f.Name, Watcher: w})
	}
	if len(cfg.Sinks) > 0 {
		sinks := map[string]deliver.RoutedSink{}
		for _, c := range cfg.Sinks {
			sc := sink.Config{Name: c.Name, URL: c.Target(), Path: c.Path, Network: c.Network, Address: c.Address, CAFile: c.CAFile,
				Index: c.Index, SourceType: c.SourceType, InsecureSkipVerify: c.InsecureSkipVerify, Version: Version, Out: s.Out}
			switch c.Type {
			case config.SinkSplunk:
				sc.Secret = c.Token.Value()
			default:
				sc.Secret = c.Secret.Value()
			}
			if len(c.Headers) > 0 {
				sc.Headers = map[string]string{}
				for _, h := range c.Headers {
					sc.Headers[h.Name] = h.Get()
				}
			}
			sk, err := sink.New(c.Type, sc)
			if err != nil {
				return usageError("%v", err)
			}
			if cl, ok := sk.(io.Closer); ok {
				defer cl.Close()
			}
			sinks[c.Name] = deliver.RoutedSink{Sink: sk, MinSeverity: c.MinSeverity, Rules: c.Rules, MaxAttempts: c.MaxAttempts}
		}
		link := func(id string) string {
			if addr := svcAddr(); addr != "" && cfg.Server.PublicURL == "" {
				return "http://" + addr + "/api/v1/alerts/" + id
			}
			if cfg.Server.PublicURL != "" {
				return strings.TrimRight(cfg.Server.PublicURL, "/") + "/api/v1/alerts/" + id
			}
			return ""
		}
		d, err := deliver.New(st, st, sinks, deliver.Options{Observer: m.Delivery(), Log: log, Link: link})
		if err != nil {
			return usageError("sinks: %v", err)
		}
		opts.Dispatcher = d
	}
	svc, err := serve.New(opts)
	if err != nil {
		return usageError("%v", err)
	}
	svcPtr.Store(svc)
	errc := make(chan error, 1)
	go func() { errc <- svc.Run(ctx) }()
	if cfg.Server.Listen != "" {
		for svc.Addr() == "" {
			select {
			case err := <-errc:
				if err != nil {
					return &ExitError{Code: 1, Err: err}
				}
				return nil
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	if hooks.ready != nil {
		hooks.ready(svc.Addr(), svc)
	}
	log.Info("entrawatch serving", "tenants", len(cfg.Tenants), "files", len(cfg.Files), "sinks", len(cfg.Sinks), "listen", svc.Addr(), "store", cfg.Store.Path)
	if err := <-errc; err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	log.Info("entrawatch stopped")
	return nil
}

// newGraphClient builds a tenant's Graph client with its credential.
func newGraphClient(t *config.Tenant, m *serve.Metrics) (*graph.Client, error) {
	urls := t.BaseURLs()
	hc := &http.Client{Timeout: 2 * time.Minute}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", t.CAFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		hc.Transport = tr
	}
	cred, err := graph.NewCredential(graph.CredentialOptions{Method: t.Auth.Method, TenantID: t.TenantID, ClientID: t.Auth.ClientID,
		ClientSecret: t.Auth.ClientSecret.Value(), CertificatePEMorPFX: []byte(t.Auth.Certificate.Value()), CertificatePassword: t.Auth.CertificatePassword.Value(),
		TokenFile: t.Auth.TokenFile, LoginURL: urls.Login, GraphURL: urls.Graph, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	return graph.New(urls.Graph, cred, graph.WithHTTPClient(hc), graph.WithUserAgent("entrawatch/"+Version), graph.WithObserver(m.Graph(t.Name)))
}

// openStore opens the store named by --config or --db for the alerts
// commands.
func openStore(ctx context.Context, cfgPath, db string) (store.Store, error) {
	if db == "" {
		if cfgPath == "" {
			return nil, usageError("give --config FILE or --db PATH")
		}
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return nil, &ExitError{Code: 2, Err: err}
		}
		db = cfg.Store.Path
	}
	if _, err := os.Stat(db); err != nil {
		return nil, usageError("store %s: %v", filepath.Clean(db), err)
	}
	st, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		return nil, &ExitError{Code: 1, Err: err}
	}
	return st, nil
}
