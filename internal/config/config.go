// Package config reads the configuration file of "entrawatch serve".
//
// Decoding is strict and happens in two phases. Parse (and Load) read the
// YAML, check every key, type and value, fill in the defaults and report
// every problem at once as *Errors, each with its line and column; they
// read no secrets. ResolveSecrets then reads the secrets the file refers to
// (written {env: NAME} or {file: PATH}, never inline) and again reports
// every missing one at once, naming the key and the variable or file but
// never a value.
package config

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
)

// Example is a commented example configuration that decodes cleanly.
//
//go:embed example.yaml
var Example string

// MaxFileSize is the largest configuration file Load and Parse accept.
const MaxFileSize = 1 << 20

// Config is a decoded configuration. A zero duration or empty string in it
// means what the field's comment says; the decoder fills in every default.
type Config struct {
	// File is the name the configuration was read under.
	File       string       `json:"-"`
	Server     Server       `json:"server"`
	Store      Store        `json:"store"`
	Tenants    []Tenant     `json:"tenants"`
	Files      []FileSource `json:"files"`
	Detections Detections   `json:"detections"`
	Alerts     Alerts       `json:"alerts"`
	Sinks      []Sink       `json:"sinks"`
	Log        Log          `json:"log"`
	// Warnings are doubtful but accepted settings (a suppression that has
	// expired, say), sorted by position.
	Warnings []Problem `json:"-"`
}

// Server is the HTTP API and metrics server.
type Server struct {
	// Listen is the host:port to listen on; "" disables the server.
	// Default 127.0.0.1:8080.
	Listen string `json:"listen"`
	// Token is the API bearer token; required unless Listen is a loopback
	// address.
	Token Secret `json:"token,omitzero"`
	// PublicURL is the address users reach the API at (behind a proxy),
	// for the links in delivered alerts; "" uses the listen address.
	PublicURL string `json:"public_url,omitempty"`
}

// Store drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Store is where events and alerts are kept.
type Store struct {
	// Driver is DriverSQLite (default) or DriverPostgres.
	Driver string `json:"driver"`
	// Path is the SQLite file (default "entrawatch.db").
	Path string `json:"path,omitempty"`
	// DSN is the PostgreSQL connection string.
	DSN Secret `json:"dsn,omitzero"`
	// Retention is how long events are kept (default 7 days).
	Retention time.Duration `json:"retention"`
}

// Cloud is a Microsoft cloud: CloudPublic, CloudUSGov or CloudChina.
type Cloud string

// Clouds.
const (
	CloudPublic Cloud = "public"
	CloudUSGov  Cloud = "usgov"
	CloudChina  Cloud = "china"
)

// Endpoints are the base URLs of a cloud's login and Graph services,
// without a trailing slash.
type Endpoints struct {
	Login string `json:"login,omitempty"`
	Graph string `json:"graph,omitempty"`
}

// Endpoints returns the cloud's login and Graph base URLs; the zero
// Endpoints for an unknown cloud.
func (c Cloud) Endpoints() Endpoints {
	switch c {
	case CloudPublic, "":
		return Endpoints{Login: "https://login.microsoftonline.com", Graph: "https://graph.microsoft.com"}
	case CloudUSGov:
		return Endpoints{Login: "https://login.microsoftonline.us", Graph: "https://graph.microsoft.us"}
	case CloudChina:
		return Endpoints{Login: "https://login.chinacloudapi.cn", Graph: "https://microsoftgraph.chinacloudapi.cn"}
	}
	return Endpoints{}
}

// Auth methods.
const (
	AuthClientSecret     = "client_secret"
	AuthCertificate      = "certificate"
	AuthWorkloadIdentity = "workload_identity"
)

// Tenant is one Entra tenant polled through Microsoft Graph.
type Tenant struct {
	// Name identifies the tenant in alerts and metrics ([a-z0-9_-]).
	Name string `json:"name"`
	// TenantID is the directory's GUID or one of its domain names.
	TenantID string `json:"tenant_id"`
	// Cloud is the tenant's cloud (default CloudPublic).
	Cloud Cloud `json:"cloud"`
	// Endpoints override the cloud's base URLs (sovereign, test or
	// simulated clouds); empty fields keep the cloud's.
	Endpoints Endpoints `json:"endpoints"`
	// CAFile is an extra CA bundle (PEM) for those endpoints.
	CAFile string `json:"ca_file,omitempty"`
	Auth   Auth   `json:"auth"`
	// The pollers. Defaults: every poller enabled; sign-ins and audits
	// every 5m with a 2h overlap, devices and roles every 1h, policies
	// every 15m; sign-in event types interactiveUser and nonInteractiveUser.
	SignIns  Poll `json:"signins"`
	Audits   Poll `json:"audits"`
	Devices  Poll `json:"devices"`
	Policies Poll `json:"policies"`
	Roles    Poll `json:"roles"`
	// Start is how far back the first poll reaches (default 24h).
	Start time.Duration `json:"start"`
}

// BaseURLs returns the tenant's login and Graph base URLs: its cloud's,
// overridden by its Endpoints.
func (t *Tenant) BaseURLs() Endpoints {
	e := t.Cloud.Endpoints()
	if t.Endpoints.Login != "" {
		e.Login = strings.TrimRight(t.Endpoints.Login, "/")
	}
	if t.Endpoints.Graph != "" {
		e.Graph = strings.TrimRight(t.Endpoints.Graph, "/")
	}
	return e
}

// Auth is how entrawatch signs in to a tenant.
type Auth struct {
	// Method is AuthClientSecret, AuthCertificate or AuthWorkloadIdentity.
	Method string `json:"method"`
	// ClientID is the application (client) id.
	ClientID string `json:"client_id"`
	// ClientSecret is required for AuthClientSecret.
	ClientSecret Secret `json:"client_secret,omitzero"`
	// Certificate (PEM with its key, or PFX) is required for
	// AuthCertificate; its file content is kept byte for byte.
	Certificate Secret `json:"certificate,omitzero"`
	// CertificatePassword decrypts the certificate's key, if needed.
	CertificatePassword Secret `json:"certificate_password,omitzero"`
	// TokenFile is the federated token of AuthWorkloadIdentity; ""
	// means the file named by $AZURE_FEDERATED_TOKEN_FILE, which
	// ResolveSecrets fills in.
	TokenFile string `json:"token_file,omitempty"`

	line, col int // of the auth mapping, for ResolveSecrets
}

// Poll configures one of a tenant's pollers.
type Poll struct {
	Enabled  bool          `json:"enabled"`
	Interval time.Duration `json:"interval"`
	// Overlap is how far each poll reaches back before the last one's end,
	// to catch late-arriving logs (sign-ins and audits only).
	Overlap time.Duration `json:"overlap,omitempty"`
	// EventTypes are the sign-in event types polled (sign-ins only).
	EventTypes []string `json:"event_types,omitempty"`
}

// FileSource is a set of log files or folders followed by the service.
type FileSource struct {
	Name  string   `json:"name"`
	Paths []string `json:"paths"`
	// Format forces a reader by name ("" sniffs each file).
	Format string `json:"format,omitempty"`
	// Poll is how often the paths are checked for new data (default 2s).
	Poll time.Duration `json:"poll"`
	// Year is the year of syslog timestamps without one (0: from the
	// file's modification time).
	Year int `json:"year,omitempty"`
}

// Detections configures the detection engine.
type Detections struct {
	// StaleAfter is the inactivity after which a device is stale (default
	// 90 days, at least detect.MinStaleAfter).
	StaleAfter time.Duration `json:"stale_after"`
	// Disable lists the ids of detections to leave out: built-ins, or
	// (when Rules is set) rules loaded from Rules.
	Disable []string `json:"disable,omitempty"`
	// Rules are Sigma or Sentinel rule files and folders.
	Rules []string `json:"rules,omitempty"`
	// NoBuiltin leaves every built-in detection out.
	NoBuiltin bool `json:"no_builtin"`
	// AllowFile is an allow-list file of local VM accounts (see package
	// allowlist), as scan --allow-list.
	AllowFile string `json:"allow_file,omitempty"`
	// Allow are allowed local VM accounts as "[HOST:]ACCOUNT", as scan
	// --allow; each is checked with allowlist.ParseEntry.
	Allow []string `json:"allow,omitempty"`
}

// Alerts configures alert grouping and suppression.
type Alerts struct {
	// GroupWindow groups repeats of an alert within it (default 1h; 0
	// disables grouping).
	GroupWindow  time.Duration `json:"group_window"`
	Suppressions []Suppression `json:"suppressions,omitempty"`
}

// Suppression silences one rule's alerts, optionally for one entity and
// tenant, optionally until a time.
type Suppression struct {
	Rule string `json:"rule"`
	// Entity is a user, device id or name, IP or host the alert must be
	// about (exact, case-insensitive); "" matches every alert of Rule.
	Entity string `json:"entity,omitempty"`
	// Tenant is a tenant name; "" matches every tenant.
	Tenant string `json:"tenant,omitempty"`
	// Until ends the suppression; zero never does.
	Until  time.Time `json:"until,omitzero"`
	Reason string    `json:"reason"`
}

// Sink types.
const (
	SinkStdout  = "stdout"
	SinkFile    = "file"
	SinkWebhook = "webhook"
	SinkSlack   = "slack"
	SinkTeams   = "teams"
	SinkSyslog  = "syslog"
	SinkSplunk  = "splunk"
)

// Sink is a destination for alerts. Which fields apply depends on Type.
type Sink struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// MinSeverity is the lowest severity sent (default alert.Low).
	MinSeverity alert.Severity `json:"min_severity"`
	// Rules, if set, are the only rule ids sent.
	Rules []string `json:"rules,omitempty"`
	// MaxAttempts are the deliveries tried before an alert is
	// dead-lettered (default 10).
	MaxAttempts int `json:"max_attempts"`

	// Path is a file sink's file.
	Path string `json:"path,omitempty"`
	// URL is a webhook's or Splunk HEC endpoint's URL when written
	// inline; URLSecret holds a Slack or Teams URL, or a webhook URL
	// given as a secret. Target returns whichever is set.
	URL       string `json:"url,omitempty"`
	URLSecret Secret `json:"url_secret,omitzero"`
	// Secret is a webhook's HMAC-SHA256 signing key.
	Secret Secret `json:"secret,omitzero"`
	// Headers are a webhook's extra HTTP headers, in file order.
	Headers []Header `json:"headers,omitempty"`

	// Network is a syslog sink's "udp" (default), "tcp" or "tls".
	Network string `json:"network,omitempty"`
	// Address is a syslog sink's host:port.
	Address string `json:"address,omitempty"`
	// CAFile is a TLS syslog sink's CA bundle.
	CAFile string `json:"ca_file,omitempty"`
	// Format is a syslog sink's message format: "cef".
	Format string `json:"format,omitempty"`

	// Token is a Splunk HEC token.
	Token Secret `json:"token,omitzero"`
	// Index and SourceType (default "entrawatch:alert") are Splunk's.
	Index              string `json:"index,omitempty"`
	SourceType         string `json:"sourcetype,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
}

// Target returns the sink's URL: URL, or URLSecret's value.
func (s *Sink) Target() string {
	if s.URL != "" {
		return s.URL
	}
	return s.URLSecret.Value()
}

// Header is one extra HTTP header of a webhook sink: Value when written
// inline, Secret when it comes from an environment variable or a file.
type Header struct {
	Name   string `json:"name"`
	Value  string `json:"value,omitempty"`
	Secret Secret `json:"secret,omitzero"`
}

// Get returns the header's value.
func (h Header) Get() string {
	if h.Secret.IsSet() {
		return h.Secret.Value()
	}
	return h.Value
}

// Log configures the service's own log.
type Log struct {
	// Level is debug, info (default), warn or error.
	Level string `json:"level"`
	// Format is text (default) or json.
	Format string `json:"format"`
}

// Load reads and decodes the configuration file at path. It reads no
// secrets: call ResolveSecrets for that. Mistakes are reported as *Errors.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes a configuration from data; name is the file name used in
// messages. It checks every key and value, fills in the defaults and
// returns every problem at once as *Errors. It reads no secrets.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, time.Now())
}
