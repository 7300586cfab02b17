// Package sink delivers alerts to the outside world: the terminal, a JSON
// lines file, a signed webhook, Slack, Microsoft Teams (Workflows), syslog
// (RFC 5424 with a CEF message) and Splunk's HTTP Event Collector.
//
// Sinks are created by type name from a Config (New); each Send delivers
// one alert, as a Payload. Every alert field is attacker-controlled: each
// sink escapes it for its own format and bounds its size. Send errors say
// whether a retry can help (IsPermanent) and how long the receiver asked to
// wait (RetryAfter); they never contain secrets (HMAC keys, tokens, the
// paths and queries of Slack and Teams webhook URLs).
package sink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Sink delivers alerts to one destination.
type Sink interface {
	// Name is the configured name of the sink.
	Name() string
	// Send delivers one alert. It is safe for concurrent use.
	Send(ctx context.Context, a *Payload) error
}

// Config configures one sink; the service fills it from its configuration
// file. Fields a sink type does not use are ignored.
type Config struct {
	// Name names the sink in errors, logs and the outbox (default: the type).
	Name string
	// Type is the sink type ("webhook", "slack", …); New sets it.
	Type string
	// URL is the endpoint of webhook, slack, teams and splunk sinks.
	URL string
	// Secret is the webhook HMAC key or the Splunk HEC token, resolved.
	Secret string
	// Headers are extra HTTP request headers (webhook, splunk).
	Headers map[string]string
	// Path is the file sink's output file.
	Path string
	// Network is the syslog transport: "udp", "tcp" or "tls".
	Network string
	// Address is the syslog receiver's host:port.
	Address string
	// CAFile is a PEM bundle of CAs trusted for TLS (syslog tls, HTTP sinks)
	// in place of the system roots.
	CAFile string
	// Index and SourceType are the Splunk index (omitted when empty) and
	// sourcetype (default "entrawatch:alert").
	Index, SourceType string
	// InsecureSkipVerify turns off TLS certificate verification.
	InsecureSkipVerify bool
	// HTTPClient is used by HTTP sinks in place of one built from CAFile
	// and InsecureSkipVerify; redirects are never followed either way.
	HTTPClient *http.Client
	// Timeout bounds one Send (default 10s).
	Timeout time.Duration
	// Out is where the stdout sink writes (default os.Stdout).
	Out io.Writer
	// Hostname is this host's name in syslog headers, CEF dvchost and the
	// Splunk event host (default os.Hostname()).
	Hostname string
	// Version is entrawatch's version, in CEF headers and User-Agent
	// (default "dev").
	Version string
	// Clock returns the current time (default time.Now); tests fix it.
	Clock func() time.Time
}

// DefaultTimeout bounds one Send when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Factory creates a sink of one type.
type Factory func(cfg Config) (Sink, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a sink type available to New. It panics if typ is empty,
// f is nil or typ is already registered.
func Register(typ string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if typ == "" || f == nil {
		panic("sink: Register with empty type or nil factory")
	}
	if _, dup := registry[typ]; dup {
		panic("sink: Register called twice for type " + typ)
	}
	registry[typ] = f
}

// Types returns the registered sink types, sorted.
func Types() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	types := make([]string, 0, len(registry))
	for t := range registry {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// New creates a sink of type typ. An unknown type is an error that lists
// the registered ones.
func New(typ string, cfg Config) (Sink, error) {
	regMu.RLock()
	f := registry[typ]
	regMu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("sink %q: unknown type %q (registered: %s)", cfg.Name, typ, strings.Join(Types(), ", "))
	}
	cfg.Type = typ
	if cfg.Name == "" {
		cfg.Name = typ
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return f(cfg)
}

type deliveryKey struct{}

// WithDelivery returns a context carrying the delivery id of the Send it
// is passed to. The dispatcher (internal/deliver) uses "<alert id>/<sink
// name>": the same on every retry of one delivery and, unlike the outbox
// row id, not given to another alert when the database is recreated and
// row ids start over. The webhook sink sends it as X-Entrawatch-Delivery
// so receivers can drop repeats.
func WithDelivery(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, deliveryKey{}, id)
}

// DeliveryID returns the delivery id WithDelivery put in ctx ("" if none).
func DeliveryID(ctx context.Context) string {
	id, _ := ctx.Value(deliveryKey{}).(string)
	return id
}

func init() {
	Register("stdout", newStdout)
	Register("file", newFile)
	Register("webhook", newWebhook)
	Register("slack", newSlack)
	Register("teams", newTeams)
	Register("syslog", newSyslog)
	Register("splunk", newSplunk)
}
