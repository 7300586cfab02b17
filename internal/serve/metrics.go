package serve

import (
	"context"
	"strconv"
	"time"

	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the service's Prometheus metrics. Build them first with
// NewMetrics so that Graph clients and the dispatcher can report into them.
type Metrics struct {
	records, badRecords, sourceErrors *prometheus.CounterVec
	lag                               *prometheus.GaugeVec
	alerts, suppressed                *prometheus.CounterVec
	graphRequests, graphThrottled     *prometheus.CounterVec
	graphLatency                      *prometheus.HistogramVec
	delivered, deliveryFailures, dead *prometheus.CounterVec
	outbox                            *outboxCollector
}

type metrics = Metrics

// NewMetrics registers entrawatch's metrics (and the Go and process
// collectors) in reg.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		records:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_records_ingested_total", Help: "Records stored, per source and tenant (records read again through overlapping windows are not counted)."}, []string{"source", "tenant"}),
		badRecords:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_bad_records_total", Help: "Records that could not be read and were skipped."}, []string{"source", "tenant"}),
		sourceErrors:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_source_errors_total", Help: "Failed polls or reads of a source."}, []string{"source", "tenant"}),
		lag:              prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "entrawatch_ingestion_lag_seconds", Help: "Age of the newest record when it was stored."}, []string{"source", "tenant"}),
		alerts:           prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_alerts_total", Help: "Alerts created, per rule and severity."}, []string{"rule", "severity"}),
		suppressed:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_alerts_suppressed_total", Help: "Alerts dropped by a configured suppression."}, []string{"rule"}),
		graphRequests:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_graph_requests_total", Help: "Microsoft Graph requests, per tenant and HTTP status."}, []string{"tenant", "status"}),
		graphThrottled:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_graph_throttled_total", Help: "Graph answers 429 or 503 that made entrawatch wait."}, []string{"tenant"}),
		graphLatency:     prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "entrawatch_graph_request_seconds", Help: "Graph request latency.", Buckets: prometheus.DefBuckets}, []string{"tenant"}),
		delivered:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_deliveries_total", Help: "Alerts delivered, per sink."}, []string{"sink"}),
		deliveryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_delivery_failures_total", Help: "Failed delivery attempts, per sink."}, []string{"sink", "permanent"}),
		dead:             prometheus.NewCounterVec(prometheus.CounterOpts{Name: "entrawatch_deliveries_dead_total", Help: "Deliveries moved to the dead-letter state."}, []string{"sink"}),
		outbox:           &outboxCollector{desc: prometheus.NewDesc("entrawatch_outbox_depth", "Outbox entries per sink and state.", []string{"sink", "state"}, nil)},
	}
	reg.MustRegister(m.records, m.badRecords, m.sourceErrors, m.lag, m.alerts, m.suppressed, m.graphRequests, m.graphThrottled, m.graphLatency,
		m.delivered, m.deliveryFailures, m.dead, m.outbox,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func newMetrics(reg *prometheus.Registry, s *Service) *Metrics {
	m := s.cfg.Metrics
	if m == nil {
		m = NewMetrics(reg)
	}
	m.outbox.store = s.store
	return m
}

// GraphObserver reports a tenant's Graph requests into the metrics.
type GraphObserver struct {
	m      *Metrics
	tenant string
}

// Graph returns the observer for a tenant's Graph client.
func (m *Metrics) Graph(tenant string) *GraphObserver { return &GraphObserver{m, tenant} }

// Request counts one request.
func (o *GraphObserver) Request(path string, status int, d time.Duration) {
	o.m.graphRequests.WithLabelValues(o.tenant, strconv.Itoa(status)).Inc()
	o.m.graphLatency.WithLabelValues(o.tenant).Observe(d.Seconds())
}

// Throttled counts one throttling answer.
func (o *GraphObserver) Throttled(path string, retryAfter time.Duration) {
	o.m.graphThrottled.WithLabelValues(o.tenant).Inc()
}

// DeliveryObserver reports deliveries into the metrics.
type DeliveryObserver struct{ m *Metrics }

// Delivery returns the dispatcher's observer.
func (m *Metrics) Delivery() *DeliveryObserver { return &DeliveryObserver{m} }

// Delivered counts a delivered alert.
func (o *DeliveryObserver) Delivered(sink string) { o.m.delivered.WithLabelValues(sink).Inc() }

// Failed counts a failed attempt.
func (o *DeliveryObserver) Failed(sink string, permanent bool) {
	o.m.deliveryFailures.WithLabelValues(sink, strconv.FormatBool(permanent)).Inc()
}

// Dead counts a delivery given up.
func (o *DeliveryObserver) Dead(sink string) { o.m.dead.WithLabelValues(sink).Inc() }

// outboxCollector reads the outbox depth from the store at scrape time.
type outboxCollector struct {
	desc  *prometheus.Desc
	store store.Store
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.store.OutboxStats(ctx)
	if err != nil {
		return
	}
	for sink, m := range st {
		for state, n := range m {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), sink, string(state))
		}
	}
}
