// Package graphsim simulates a Microsoft Entra tenant: an http.Handler that
// answers the Microsoft identity platform's client-credentials token flow
// and the Microsoft Graph paths entrawatch polls (sign-ins, directory
// audits, devices and their delta, the device registration policy,
// Conditional Access policies, role assignments), in Graph's own shapes.
//
// The simulated organisation has ordinary traffic every few seconds and,
// every ThreatEvery, one cycle of each threat of Microsoft's "security
// operations for devices" guide, so that every Graph-fed built-in detection
// fires. Everything is deterministic from Options.Seed and the clock: the
// simulation is a function of time, advanced by Step (the handler steps to
// the clock's time on every request), so tests drive it with a fake clock.
package graphsim

import (
	"sync"
	"time"
)

// Options configure a simulated tenant. Zero values take the defaults
// documented on each field.
type Options struct {
	// TenantID is the directory id (default derived from Seed).
	TenantID string
	// ClientID and ClientSecret are the only credentials the token
	// endpoint accepts (defaults: an id derived from Seed, and
	// DefaultClientSecret).
	ClientID, ClientSecret string
	// Seed makes the organisation and its traffic reproducible.
	Seed int64
	// Clock is the simulation's time source (default time.Now).
	Clock func() time.Time
	// ThreatEvery is how often the threat cycle repeats (default 3m, at
	// least MinThreatEvery). The first cycle starts FirstThreatAfter after
	// New and its threats all happen within the next 40 seconds.
	ThreatEvery time.Duration
	// TrafficEvery is the interval of ordinary traffic: one sign-in and
	// sometimes a benign audit per interval (default 5s, at least 1s).
	TrafficEvery time.Duration
	// PageSize is the largest page a list answers, whatever $top asks
	// (default 50).
	PageSize int
	// ThrottleEvery answers every ThrottleEvery-th authenticated sign-in
	// list request with 429 and Retry-After: 1; 0 disables throttling.
	ThrottleEvery int
	// LateFraction is the fraction (0 to 1) of sign-ins and audits that
	// become visible only LateBy after their timestamp, like Entra's
	// ingestion delay; 0 makes every record visible at its timestamp.
	LateFraction float64
	// LateBy is the ingestion delay of late records (default 30s).
	LateBy time.Duration
	// History is how much ordinary traffic exists before New's time
	// (default 1h; negative for none).
	History time.Duration
	// Retention is how long records (and removed devices) are kept
	// (default 24h).
	Retention time.Duration
	// MaxRecords bounds the sign-ins and, separately, the audits kept
	// (default 20000): the oldest go first.
	MaxRecords int
}

// Defaults and bounds of Options.
const (
	DefaultThreatEvery  = 3 * time.Minute
	MinThreatEvery      = 90 * time.Second
	DefaultTrafficEvery = 5 * time.Second
	DefaultPageSize     = 50
	DefaultLateBy       = 30 * time.Second
	DefaultHistory      = time.Hour
	DefaultRetention    = 24 * time.Hour
	DefaultMaxRecords   = 20000
	// DefaultClientSecret is the client secret accepted when
	// Options.ClientSecret is empty.
	DefaultClientSecret = "graphsim-client-secret"
	// FirstThreatAfter is when the first threat cycle starts, after New.
	FirstThreatAfter = 5 * time.Second
	// TokenLifetime is the lifetime of issued access tokens (expires_in).
	TokenLifetime = 3599 * time.Second
)

// Built-in detections the threats are expected to fire (internal/detect
// and internal/catalog ids).
const (
	RuleRegistrationWithoutMFA = "device-registration-without-mfa"
	RuleRegistrationMFAOff     = "device-registration-mfa-not-required"
	RuleNoncompliantSignIn     = "noncompliant-device-signin"
	RuleUnknownDeviceSignIn    = "unknown-device-signin"
	RuleBitLockerKeyRead       = "bitlocker-key-read"
	RulePrivilegedRoleAdded    = "privileged-device-role-added"
	RuleStaleDevice            = "stale-device"
)

// Graph paths of the records threats point at.
const (
	PathSignIns            = "/beta/auditLogs/signIns"
	PathDirectoryAudits    = "/v1.0/auditLogs/directoryAudits"
	PathDevices            = "/v1.0/devices"
	PathRegistrationPolicy = "/beta/policies/deviceRegistrationPolicy"
)

// Threat is one simulated threat: the record a built-in detection is
// expected to fire on.
type Threat struct {
	// Rule is the id of the built-in detection expected to fire.
	Rule string
	// Cycle numbers the threat cycle from 1; 0 for standing threats
	// (stale devices, in the inventory from the start).
	Cycle int
	// At is the record's timestamp, or when the state began.
	At time.Time
	// VisibleAt is when the record appears in listings (At, or later for
	// a late record).
	VisibleAt time.Time
	// Until is when a state threat ends (the registration policy is
	// switched back); zero for records.
	Until time.Time
	// Path is the Graph list or object that serves the record.
	Path string
	// RecordID is the id of the record the detection fires on: a sign-in,
	// a directory audit, a device object or "deviceRegistrationPolicy".
	RecordID string
	// Related are ids of companion records that no detection flags: the
	// registration's "Register device", "Add device" and owner audits and
	// the registered device's object id; the "Device no longer compliant"
	// audit and the device; the BitLocker key's device; the role
	// assignment's id.
	Related []string
	// Summary describes the threat for people.
	Summary string
}

// Stats count what the handler served.
type Stats struct {
	// Requests is every request answered.
	Requests int64
	// Throttled is the 429 answers sent.
	Throttled int64
	// Unauthorized is the 401 answers sent (Graph and token endpoint).
	Unauthorized int64
	// TokensIssued is the access tokens issued.
	TokensIssued int64
	// SignIns and Audits are the records currently held, Devices the
	// devices in the inventory.
	SignIns, Audits, Devices int
}

// Tenant is a simulated Entra tenant. Its methods are safe for concurrent
// use.
type Tenant struct {
	opts  Options
	clock func() time.Time
	t0    time.Time
	org   *org
	key   []byte // access-token signing key

	mu       sync.Mutex
	stepped  time.Time
	nextTick int64
	nextCyc  int64
	pending  []mutation
	signIns  logStore
	audits   logStore
	devices  *inventory
	roles    *roleState
	mfaReq   bool
	threats  []Threat
	stats    Stats
	reqCount uint64
	siCount  uint64
}

// New builds the tenant at the clock's current time and generates its
// history.
func New(opts Options) *Tenant {
	opts = withDefaults(opts)
	t := &Tenant{opts: opts, clock: opts.Clock}
	t.t0 = opts.Clock().UTC().Truncate(100 * time.Nanosecond)
	t.key = deriveKey(opts.Seed, opts.ClientSecret)
	t.org = newOrg(opts.Seed, t.t0)
	t.devices = newInventory(t.org.devices)
	t.roles = newRoleState(t.org)
	t.mfaReq = true
	t.signIns.max, t.audits.max = opts.MaxRecords, opts.MaxRecords
	t.nextTick = 0
	if opts.History > 0 {
		t.nextTick = -int64((opts.History + opts.TrafficEvery - 1) / opts.TrafficEvery)
	}
	for _, d := range t.org.devices {
		if d.stale && d.accountEnabled {
			t.threats = append(t.threats, Threat{
				Rule: RuleStaleDevice, At: t.t0, VisibleAt: t.t0, Path: PathDevices, RecordID: d.id,
				Summary: "stale device " + d.displayName + " (" + d.trustType + "), last signed in " + d.lastSignIn.Format("2006-01-02"),
			})
		}
	}
	t.stepLocked(t.t0)
	return t
}

func withDefaults(o Options) Options {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.TenantID == "" {
		o.TenantID = seedGUID(o.Seed, "tenant")
	}
	if o.ClientID == "" {
		o.ClientID = seedGUID(o.Seed, "client")
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.ThreatEvery == 0 {
		o.ThreatEvery = DefaultThreatEvery
	}
	o.ThreatEvery = max(o.ThreatEvery, MinThreatEvery)
	if o.TrafficEvery == 0 {
		o.TrafficEvery = DefaultTrafficEvery
	}
	o.TrafficEvery = max(o.TrafficEvery, time.Second)
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	o.ThrottleEvery = max(o.ThrottleEvery, 0)
	o.LateFraction = min(max(o.LateFraction, 0), 1)
	if o.LateBy <= 0 {
		o.LateBy = DefaultLateBy
	}
	if o.History == 0 {
		o.History = DefaultHistory
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = DefaultMaxRecords
	}
	return o
}

// Options returns the options in effect, defaults filled in.
func (t *Tenant) Options() Options { return t.opts }

// StartTime returns the simulation's start: the clock's time at New. The
// first threat cycle starts FirstThreatAfter later.
func (t *Tenant) StartTime() time.Time { return t.t0 }

// Step advances the simulation to now: it generates the traffic and threat
// records up to now, applies the state changes due (devices, role
// assignments, registration policy) and drops what is older than
// Retention. Steps to an earlier time do nothing. The handler steps to the
// clock's time on every request.
func (t *Tenant) Step(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stepLocked(now.UTC())
}

// Events returns the threats that have happened by the clock's time, in
// time order: the standing ones (Cycle 0) first, then each cycle's.
func (t *Tenant) Events() []Threat {
	now := t.clock().UTC()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stepLocked(now)
	var out []Threat
	for _, th := range t.threats {
		if !th.At.After(now) {
			th.Related = append([]string(nil), th.Related...)
			out = append(out, th)
		}
	}
	sortThreats(out)
	return out
}

// Stats returns the request counters and the amount of data held.
func (t *Tenant) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.SignIns, s.Audits, s.Devices = len(t.signIns.entries), len(t.audits.entries), t.devices.live()
	return s
}
