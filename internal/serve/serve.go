// Package serve is entrawatch's service: it watches tenants through
// Microsoft Graph and files on disk, runs the detections on what arrives,
// keeps alerts, events, the device inventory and cursors in the store, and
// delivers alerts to sinks through the store's outbox; an HTTP server gives
// health, Prometheus metrics and a JSON API.
//
// The shape is a pipeline: source → decode/classify → detect → store (one
// transaction with the source's cursor) → outbox → sinks. A source's cursor
// only advances with what it read, so a crash re-reads and never loses, and
// alert identities are stable, so re-reading never duplicates.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/sentinel"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Suppression silences a rule, optionally for one entity or tenant, until
// a time.
type Suppression struct {
	Rule, Entity, Tenant, Reason string
	Until                        time.Time
}

// Dispatcher delivers stored alerts; the service kicks it after a commit
// that created alerts and asks it which sinks take an alert.
type Dispatcher interface {
	Run(ctx context.Context) error
	Kick()
	Route(a *store.Alert) []string
}

// Options configure a Service.
type Options struct {
	Store store.Store
	// NewEngine builds the detection engine (built-ins and rules) with the
	// given reference time; inventory and policy checks build one per check.
	NewEngine func(now time.Time) (*detect.Engine, error)
	// StaleAfter is the inactivity period of a stale device (inventory).
	StaleAfter   time.Duration
	GroupWindow  time.Duration
	Suppressions []Suppression
	// Retention is how long events are kept (default 7 days).
	Retention time.Duration
	Tenants   []*Tenant
	Files     []FileSource
	// Scheduled are Microsoft Sentinel scheduled analytic rules: each runs
	// for every tenant and file source every queryFrequency over the
	// stored events of its queryPeriod.
	Scheduled []*sentinel.Rule
	// MaxScheduledRecords bounds the records one run of a scheduled rule
	// reads (default DefaultMaxScheduledRecords); a run over more fails.
	MaxScheduledRecords int
	// Dispatcher delivers alerts; nil stores them only.
	Dispatcher Dispatcher
	// Listen is the HTTP address ("" for none); Token the bearer token the
	// API requires (required when Listen is not a loopback address).
	Listen string
	Token  string
	// Log receives the service's own log.
	Log   *slog.Logger
	Clock func() time.Time
	// Registry collects the metrics (default: a new registry); Metrics,
	// when set, were already registered in it by NewMetrics.
	Registry *prometheus.Registry
	Metrics  *Metrics
}

// Service is a running entrawatch service.
type Service struct {
	cfg        Options
	store      store.Store
	dispatcher Dispatcher
	log        *slog.Logger
	metrics    *metrics
	now        func() time.Time
	lastSignIn *record.Field

	engMu sync.Mutex
	eng   *detect.Engine

	stMu    sync.Mutex
	sources map[string]*SourceStatus

	addr atomic.Value // string
}

// New checks the options and builds a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.NewEngine == nil {
		return nil, errors.New("serve: a store and an engine are required")
	}
	if opts.Retention == 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	if opts.StaleAfter == 0 {
		opts.StaleAfter = detect.DefaultStaleAfter
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxScheduledRecords <= 0 {
		opts.MaxScheduledRecords = DefaultMaxScheduledRecords
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Listen != "" && opts.Token == "" && !loopback(opts.Listen) {
		return nil, fmt.Errorf("serve: listening on %s, which is not a loopback address, needs an API token (server.token)", opts.Listen)
	}
	s := &Service{cfg: opts, store: opts.Store, dispatcher: opts.Dispatcher, log: opts.Log,
		now: func() time.Time { return opts.Clock().UTC() }, sources: map[string]*SourceStatus{},
		lastSignIn: record.CompileField("approximateLastSignInDateTime")}
	s.metrics = newMetrics(opts.Registry, s)
	eng, err := opts.NewEngine(s.now())
	if err != nil {
		return nil, fmt.Errorf("serve: building the detections: %w", err)
	}
	s.eng = eng
	return s, nil
}

// engine returns the engine for log records.
func (s *Service) engine() *detect.Engine {
	s.engMu.Lock()
	defer s.engMu.Unlock()
	return s.eng
}

func (s *Service) route(a *store.Alert) []string {
	if s.dispatcher == nil {
		return nil
	}
	return s.dispatcher.Route(a)
}

// Addr is the HTTP server's address once Run listens.
func (s *Service) Addr() string {
	a, _ := s.addr.Load().(string)
	return a
}

// Run runs every source, the dispatcher, retention and the HTTP server
// until ctx ends; it returns nil on a clean shutdown.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
		cancel()
	}
	var srv *http.Server
	if s.cfg.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("serve: listening on %s: %w", s.cfg.Listen, err)
		}
		s.addr.Store(ln.Addr().String())
		srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fail(fmt.Errorf("serve: http: %w", err))
			}
		}()
	}
	if s.dispatcher != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.dispatcher.Run(ctx); err != nil && ctx.Err() == nil {
				fail(fmt.Errorf("serve: delivery: %w", err))
			}
		}()
	}
	for _, t := range s.cfg.Tenants {
		for _, st := range t.streams(s) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.loop(ctx, st)
			}()
		}
	}
	for _, st := range s.scheduledStreams() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, st)
		}()
	}
	for _, f := range s.cfg.Files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runFiles(ctx, f)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.retention(ctx)
	}()
	<-ctx.Done()
	if srv != nil {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(sctx)
		c()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return nil
}

// retention prunes old events and deliveries once an hour.
func (s *Service) retention(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.store.Prune(ctx, s.now().Add(-s.cfg.Retention)); err != nil && ctx.Err() == nil {
			s.log.Warn("retention", "error", err.Error())
		} else if n > 0 {
			s.log.Info("retention", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stream is one periodic task of a source.
type stream struct {
	name     string // "graph/signins"
	tenant   string
	interval time.Duration
	// delay is how long the first poll waits (0: it runs at once).
	delay time.Duration
	poll  func(ctx context.Context) error
}

// SourceStatus is what /api/v1/sources reports of a source.
type SourceStatus struct {
	Name        string    `json:"name"`
	Tenant      string    `json:"tenant"`
	LastPoll    time.Time `json:"last_poll,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Lag is how old the newest record was when it was stored (seconds).
	Lag       float64 `json:"lag_seconds"`
	Records   int64   `json:"records"`
	Polls     int64   `json:"polls"`
	Failures  int64   `json:"failures"`
	LastError string  `json:"last_error,omitempty"`
}

func (s *Service) status(tenant, name string) *SourceStatus {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	k := tenant + "/" + name
	st := s.sources[k]
	if st == nil {
		st = &SourceStatus{Name: name, Tenant: tenant}
		s.sources[k] = st
	}
	return st
}

// loop runs a stream every interval; failures are retried with capped
// exponential backoff, and a stream never stops the service.
func (s *Service) loop(ctx context.Context, st stream) {
	if st.delay > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(st.delay):
		}
	}
	backoff := time.Second
	for {
		err := st.poll(ctx)
		if ctx.Err() != nil {
			return
		}
		status := s.status(st.tenant, st.name)
		s.stMu.Lock()
		status.LastPoll = s.now()
		status.Polls++
		wait := st.interval
		if err != nil {
			status.Failures++
			status.LastError = err.Error()
			if backoff < st.interval {
				wait = backoff
			}
			backoff *= 2
		} else {
			status.LastSuccess = status.LastPoll
			status.LastError = ""
			backoff = time.Second
		}
		s.stMu.Unlock()
		if err != nil {
			s.metrics.sourceErrors.WithLabelValues(st.name, st.tenant).Inc()
			s.log.Warn("source failed", "source", st.name, "tenant", st.tenant, "error", err.Error(), "retry_in", wait.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// noted records what an ingest step did in the source's status.
func (s *Service) noted(tenant, name string, r *IngestResult, newest time.Time) {
	status := s.status(tenant, name)
	s.stMu.Lock()
	defer s.stMu.Unlock()
	status.Records += int64(r.Records)
	if !newest.IsZero() {
		lag := s.now().Sub(newest).Seconds()
		status.Lag = lag
		s.metrics.lag.WithLabelValues(name, tenant).Set(lag)
	}
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
