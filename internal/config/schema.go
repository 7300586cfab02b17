package config

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/allowlist"
	_ "github.com/entrawatch/entrawatch/internal/catalog" // registers the Sigma built-ins
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// Defaults.
const (
	DefaultListen      = "127.0.0.1:8080"
	DefaultStorePath   = "entrawatch.db"
	DefaultRetention   = 7 * 24 * time.Hour
	DefaultStart       = 24 * time.Hour
	DefaultFilePoll    = 2 * time.Second
	DefaultGroupWindow = time.Hour
	DefaultMaxAttempts = 10
	DefaultSourceType  = "entrawatch:alert"
)

// SignInEventTypes are the sign-in event types a tenant's sign-in poller
// may read (Graph's signInEventTypes).
var SignInEventTypes = []string{"interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity"}

// builtinIDs returns the ids of the built-in detections.
var builtinIDs = sync.OnceValue(func() []string {
	var ids []string
	for _, d := range detect.Catalogue() {
		ids = append(ids, d.ID)
	}
	return ids
})

// parse decodes data with now as the reference time of warnings.
func parse(name string, data []byte, now time.Time) (*Config, error) {
	d := &decoder{now: now}
	fail := func() (*Config, error) {
		return nil, &Errors{File: name, List: d.errs.sorted()}
	}
	if len(data) > MaxFileSize {
		d.errs.add(0, 0, fmt.Sprintf("the file is larger than %d bytes", MaxFileSize))
		return fail()
	}
	docs, perr := parseYAML(data)
	if perr != nil {
		var ye *yamltree.Error
		if errors.As(perr, &ye) {
			d.errs.add(ye.Line, ye.Col, ye.Msg)
		} else {
			d.errs.add(0, 0, perr.Error())
		}
		return fail()
	}
	var root *yamltree.Node
	if len(docs) > 0 {
		root = docs[0]
	} else if line := contentLine(data); line > 0 {
		// The parser can drop documents after an empty one ("---\n---").
		d.errs.add(line, 1, "YAML: this content was not read as part of a document (check the --- separators)")
		return fail()
	}
	for _, extra := range docs[min(1, len(docs)):] {
		d.errorf(extra, "a configuration file holds one YAML document; this is another")
	}
	cfg := d.config(root)
	cfg.File = name
	if len(d.errs.list) > 0 {
		return fail()
	}
	cfg.Warnings = d.warns.sorted()
	return cfg, nil
}

// contentLine returns the first line holding YAML content (not blank, a
// comment, a directive or a document marker), or 0.
func contentLine(data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == '%' || t == "---" || t == "..." || strings.HasPrefix(t, "--- #") {
			continue
		}
		return i + 1
	}
	return 0
}

// parseYAML runs yamltree.Parse, turning a panic of the YAML parser on
// odd input into an error.
func parseYAML(data []byte) (docs []*yamltree.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, &yamltree.Error{Line: 1, Col: 1, Msg: fmt.Sprintf("YAML syntax: the parser failed (%v)", r)}
		}
	}()
	return yamltree.Parse(data)
}

func (d *decoder) config(root *yamltree.Node) *Config {
	c := &Config{}
	top := &object{d: d}
	switch {
	case absent(root):
	case root.Kind != yamltree.Map:
		d.errorf(root, "the configuration must be a mapping of sections (server, store, tenants, files, detections, alerts, sinks, log), got %s", describe(root))
	default:
		top.n = root
	}
	c.Server = d.server(top.get("server"))
	c.Store = d.store(top.get("store"))
	c.Tenants = d.tenants(top.list("tenants"))
	c.Files = d.files(top.list("files"))
	c.Detections = d.detections(top.get("detections"))
	rulesGiven := len(c.Detections.Rules) > 0
	c.Alerts = d.alerts(top.get("alerts"), c.Tenants, rulesGiven)
	c.Sinks = d.sinks(top.list("sinks"), rulesGiven)
	c.Log = d.log(top.get("log"))
	top.done(nil)
	if len(c.Tenants) == 0 && len(c.Files) == 0 && len(d.errs.list) == 0 {
		d.warns.add(0, 0, "no tenants and no file sources: entrawatch serve will watch nothing")
	}
	return c
}

func (d *decoder) server(n *yamltree.Node) Server {
	o := d.object(n, "server")
	s := Server{Listen: DefaultListen}
	listen, ln := o.str("listen")
	if ln != nil {
		s.Listen = listen
	}
	s.Token = o.secret("token")
	if u, un := o.str("public_url"); un != nil {
		if err := checkURL(u, false, false); err != nil {
			d.errorf(un, "server.public_url: %v", err)
		}
		s.PublicURL = u
	}
	o.done(nil)
	if s.Listen == "" {
		return s
	}
	host, err := checkAddr(s.Listen, false)
	switch {
	case err != nil:
		d.errorf(ln, "server.listen: %v", err)
	case !isLoopback(host) && !s.Token.IsSet() && o.get("token") == nil:
		at := ln
		if at == nil {
			at = o.n
		}
		d.errorf(at, "server.token is required when server.listen (%s) is not a loopback address: add token: {env: ENTRAWATCH_API_TOKEN}", quote(s.Listen))
	}
	return s
}

func (d *decoder) store(n *yamltree.Node) Store {
	o := d.object(n, "store")
	s := Store{}
	s.Driver, _ = o.enum("driver", DriverSQLite, DriverSQLite, DriverPostgres)
	s.Retention = o.duration("retention", DefaultRetention, time.Minute)
	drivers := map[string][]string{DriverSQLite: {"path"}, DriverPostgres: {"dsn"}}
	switch s.Driver {
	case DriverSQLite:
		s.Path, _ = o.str("path")
		if s.Path == "" {
			s.Path = DefaultStorePath
		}
	case DriverPostgres:
		s.DSN = o.secret("dsn")
		if !s.DSN.IsSet() && o.get("dsn") == nil {
			o.required("dsn", " for the postgres driver: add dsn: {env: DATABASE_URL}")
		}
	}
	o.done(func(key string) string {
		for drv, keys := range drivers {
			if drv != s.Driver && contains(keys, key) {
				return fmt.Sprintf("%s is not a key of the %s store (it belongs to the %s driver)", keyName(key), s.Driver, drv)
			}
		}
		return ""
	})
	return s
}

// names checks the name of each item of a list for uniqueness.
type names struct {
	d     *decoder
	what  string
	first map[string]*yamltree.Node
}

func (d *decoder) names(what string) *names {
	return &names{d: d, what: what, first: map[string]*yamltree.Node{}}
}

func (ns *names) add(name string, n *yamltree.Node) {
	if n == nil || name == "" {
		return
	}
	if f, dup := ns.first[name]; dup {
		ns.d.errorf(n, "duplicate %s name %s (first at %s)", ns.what, quote(name), f.Pos())
		return
	}
	ns.first[name] = n
}

func (d *decoder) tenants(items []*yamltree.Node) []Tenant {
	out := make([]Tenant, 0, len(items))
	seen := d.names("tenant")
	for i, it := range items {
		t := d.tenant(it, fmt.Sprintf("tenants[%d]", i), seen)
		out = append(out, t)
	}
	return out
}

// Auth keys by method (besides method and client_id).
var authKeys = map[string][]string{
	AuthClientSecret:     {"client_secret"},
	AuthCertificate:      {"certificate", "certificate_password"},
	AuthWorkloadIdentity: {"token_file"},
}

func (d *decoder) tenant(n *yamltree.Node, path string, seen *names) Tenant {
	o := d.item(n, path)
	t := Tenant{}
	name, nn := o.reqStr("name")
	if nn != nil && name != "" {
		if !validName(name) {
			d.errorf(nn, "%s.name: %s may hold only a-z, 0-9, - and _ (at most 64)", path, quote(name))
		}
		seen.add(name, nn)
	}
	t.Name = name
	id, idn := o.reqStr("tenant_id")
	if idn != nil && id != "" && !isGUID(id) && !isDomain(id) {
		d.errorf(idn, "%s.tenant_id: %s is neither a GUID nor a domain name", path, quote(id))
	}
	t.TenantID = id
	cloud, _ := o.enum("cloud", string(CloudPublic), string(CloudPublic), string(CloudUSGov), string(CloudChina))
	t.Cloud = Cloud(cloud)
	eo := d.object(o.get("endpoints"), path+".endpoints")
	for _, k := range []struct {
		key string
		dst *string
	}{{"login", &t.Endpoints.Login}, {"graph", &t.Endpoints.Graph}} {
		v, vn := eo.str(k.key)
		if vn == nil {
			continue
		}
		if err := checkURL(v, false, false); err != nil {
			d.errorf(vn, "%s: %s %v", eo.at(k.key), quote(v), err)
			continue
		}
		*k.dst = strings.TrimRight(v, "/")
	}
	eo.done(nil)
	t.CAFile, _ = o.str("ca_file")
	t.Auth = d.auth(o.get("auth"), path+".auth")
	if o.n != nil && o.get("auth") == nil {
		o.required("auth", " (method and client_id)")
	}
	t.SignIns = d.poll(o.get("signins"), path+".signins", Poll{Enabled: true, Interval: 5 * time.Minute, Overlap: 2 * time.Hour, EventTypes: []string{"interactiveUser", "nonInteractiveUser"}})
	t.Audits = d.poll(o.get("audits"), path+".audits", Poll{Enabled: true, Interval: 5 * time.Minute, Overlap: 2 * time.Hour})
	t.Devices = d.poll(o.get("devices"), path+".devices", Poll{Enabled: true, Interval: time.Hour})
	t.Policies = d.poll(o.get("policies"), path+".policies", Poll{Enabled: true, Interval: 15 * time.Minute})
	t.Roles = d.poll(o.get("roles"), path+".roles", Poll{Enabled: true, Interval: time.Hour})
	t.Start = o.duration("start", DefaultStart, time.Minute)
	o.done(nil)
	return t
}

func (d *decoder) auth(n *yamltree.Node, path string) Auth {
	o := d.object(n, path)
	a := Auth{}
	a.line, a.col = pos(n)
	methods := []string{AuthClientSecret, AuthCertificate, AuthWorkloadIdentity}
	method, mn := o.enum("method", "", methods...)
	if mn == nil && o.get("method") == nil {
		o.required("method", " ("+strings.Join(methods, ", ")+")")
	}
	a.Method = method
	id, idn := o.reqStr("client_id")
	if idn != nil && id != "" && !isGUID(id) {
		d.errorf(idn, "%s.client_id: %s is not a GUID (the application's client id)", path, quote(id))
	}
	a.ClientID = id
	switch method {
	case AuthClientSecret:
		a.ClientSecret = o.secret("client_secret")
		if !a.ClientSecret.IsSet() && o.get("client_secret") == nil {
			o.required("client_secret", " for method client_secret: add client_secret: {env: NAME}")
		}
	case AuthCertificate:
		a.Certificate = o.secret("certificate")
		a.Certificate.binary = true
		if !a.Certificate.IsSet() && o.get("certificate") == nil {
			o.required("certificate", " for method certificate: add certificate: {file: PATH}")
		}
		a.CertificatePassword = o.secret("certificate_password")
	case AuthWorkloadIdentity:
		a.TokenFile, _ = o.str("token_file")
	default:
		// Unknown method (reported): accept every method's keys.
		for _, keys := range authKeys {
			for _, k := range keys {
				o.get(k)
			}
		}
	}
	o.done(func(key string) string {
		for m, keys := range authKeys {
			if m != method && contains(keys, key) {
				return fmt.Sprintf("%s is not a key of %s auth (it belongs to method %s)", keyName(key), method, m)
			}
		}
		return ""
	})
	return a
}

func (d *decoder) poll(n *yamltree.Node, path string, def Poll) Poll {
	o := d.object(n, path)
	p := def
	p.Enabled = o.boolean("enabled", def.Enabled)
	p.Interval = o.duration("interval", def.Interval, time.Second)
	if def.Overlap > 0 {
		p.Overlap = o.duration("overlap", def.Overlap, 0)
	}
	var en *yamltree.Node // event_types: of the sign-in poller only
	if def.EventTypes != nil {
		en = o.get("event_types")
	}
	if en != nil {
		types, nodes := o.strs("event_types")
		p.EventTypes = nil
		for i, t := range types {
			if !contains(SignInEventTypes, t) {
				d.errorf(nodes[i], "%s.event_types: %s is not one of %s%s", path, quote(t), strings.Join(SignInEventTypes, ", "), didYouMean(t, SignInEventTypes))
				continue
			}
			if !contains(p.EventTypes, t) {
				p.EventTypes = append(p.EventTypes, t)
			}
		}
		if en.Kind == yamltree.Seq && len(en.Items) == 0 {
			d.errorf(en, "%s.event_types must list at least one of %s", path, strings.Join(SignInEventTypes, ", "))
		}
	}
	o.done(nil)
	return p
}

func (d *decoder) files(items []*yamltree.Node) []FileSource {
	out := make([]FileSource, 0, len(items))
	seen := d.names("file source")
	formats := format.Names()
	for i, it := range items {
		path := fmt.Sprintf("files[%d]", i)
		o := d.item(it, path)
		f := FileSource{}
		name, nn := o.reqStr("name")
		d.checkLabel(nn, name, path+".name")
		seen.add(name, nn)
		f.Name = name
		f.Paths, _ = o.strs("paths")
		if len(f.Paths) == 0 && o.n != nil {
			if pn := o.get("paths"); pn == nil {
				o.required("paths", " (a list of files and folders)")
			} else if pn.Kind == yamltree.Seq && len(pn.Items) == 0 {
				d.errorf(pn, "%s.paths must list at least one file or folder", path)
			}
		}
		if fs, fn := o.str("format"); fn != nil && fs != "" {
			if !contains(formats, fs) {
				d.errorf(fn, "%s.format: %s is not one of %s%s", path, quote(fs), strings.Join(formats, ", "), didYouMean(fs, formats))
			} else {
				f.Format = fs
			}
		}
		f.Poll = o.duration("poll", DefaultFilePoll, 100*time.Millisecond)
		f.Year = o.integer("year", 0, 0, 9999)
		if f.Year != 0 && f.Year < 1970 {
			d.errorf(o.get("year"), "%s.year: %d is before 1970 (0 takes the year from the file's modification time)", path, f.Year)
			f.Year = 0
		}
		o.done(nil)
		out = append(out, f)
	}
	return out
}

// checkLabel checks a file source's or sink's name: printable, at most
// 64 bytes.
func (d *decoder) checkLabel(n *yamltree.Node, name, path string) {
	if n == nil || name == "" {
		return
	}
	if len(name) > 64 {
		d.errorf(n, "%s is longer than 64 bytes", path)
		return
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\ufffd' {
			d.errorf(n, "%s: %s holds a control character", path, quote(name))
			return
		}
	}
}

// checkRuleID checks a detection id: a built-in's, or with rules
// configured any id (they may be the rules' own), with a warning.
func (d *decoder) checkRuleID(n *yamltree.Node, id, path string, rulesGiven bool) bool {
	ids := builtinIDs()
	if contains(ids, id) {
		return true
	}
	if rulesGiven {
		d.warnf(n, "%s: %s is not a built-in detection; it must be the id of a rule in detections.rules%s", path, quote(id), didYouMean(id, ids))
		return true
	}
	d.errorf(n, "%s: %s is not a built-in detection%s; see entrawatch rules list", path, quote(id), didYouMean(id, ids))
	return false
}

func (d *decoder) detections(n *yamltree.Node) Detections {
	o := d.object(n, "detections")
	det := Detections{}
	det.StaleAfter = o.duration("stale_after", detect.DefaultStaleAfter, 0)
	if sn := o.get("stale_after"); sn != nil && det.StaleAfter < detect.MinStaleAfter {
		d.errorf(sn, "detections.stale_after: %s is under %s: Entra updates a device's activity time only every 14±5 days, so shorter periods flag active devices", quote(sn.Str), formatDuration(detect.MinStaleAfter))
		det.StaleAfter = detect.DefaultStaleAfter
	}
	det.Rules, _ = o.strs("rules")
	det.NoBuiltin = o.boolean("no_builtin", false)
	disable, nodes := o.strs("disable")
	for i, id := range disable {
		if d.checkRuleID(nodes[i], id, fmt.Sprintf("detections.disable[%d]", i), len(det.Rules) > 0) {
			det.Disable = append(det.Disable, id)
		}
	}
	det.AllowFile, _ = o.str("allow_file")
	allow, anodes := o.strs("allow")
	for i, a := range allow {
		if _, err := allowlist.ParseEntry(a); err != nil {
			d.errorf(anodes[i], "detections.allow[%d]: %s: %v (want [HOST:]ACCOUNT)", i, quote(a), err)
			continue
		}
		det.Allow = append(det.Allow, a)
	}
	o.done(nil)
	if det.NoBuiltin && len(det.Rules) == 0 && o.n != nil {
		d.warnf(o.keyNode("no_builtin"), "detections.no_builtin is set and detections.rules is empty: no detection will run")
	}
	return det
}

func (d *decoder) alerts(n *yamltree.Node, tenants []Tenant, rulesGiven bool) Alerts {
	o := d.object(n, "alerts")
	a := Alerts{}
	a.GroupWindow = o.duration("group_window", DefaultGroupWindow, 0)
	var tenantNames []string
	for _, t := range tenants {
		tenantNames = append(tenantNames, t.Name)
	}
	for i, it := range o.list("suppressions") {
		path := fmt.Sprintf("alerts.suppressions[%d]", i)
		so := d.item(it, path)
		s := Suppression{}
		rule, rn := so.reqStr("rule")
		if rn != nil && rule != "" {
			d.checkRuleID(rn, rule, path+".rule", rulesGiven)
		}
		s.Rule = rule
		s.Entity, _ = so.str("entity")
		if tn, tnn := so.str("tenant"); tnn != nil && tn != "" {
			if !contains(tenantNames, tn) {
				d.errorf(tnn, "%s.tenant: %s is not the name of a configured tenant%s", path, quote(tn), didYouMean(tn, tenantNames))
			}
			s.Tenant = tn
		}
		if u, un := so.str("until"); un != nil {
			t, err := time.Parse(time.RFC3339, u)
			switch {
			case err != nil:
				d.errorf(un, "%s.until: %s is not an RFC 3339 time such as 2027-01-01T00:00:00Z", path, quote(u))
			case !t.After(d.now):
				d.warnf(un, "%s.until: %s has passed: the suppression no longer applies", path, u)
				s.Until = t
			default:
				s.Until = t
			}
		}
		s.Reason, _ = so.reqStr("reason")
		so.done(nil)
		a.Suppressions = append(a.Suppressions, s)
	}
	o.done(nil)
	return a
}

// Sink keys by type (besides name, type, min_severity, rules and
// max_attempts).
var sinkKeys = map[string][]string{
	SinkStdout:  nil,
	SinkFile:    {"path"},
	SinkWebhook: {"url", "secret", "headers"},
	SinkSlack:   {"url"},
	SinkTeams:   {"url"},
	SinkSyslog:  {"network", "address", "ca_file", "format"},
	SinkSplunk:  {"url", "token", "index", "sourcetype", "insecure_skip_verify"},
}

// sinkTypes lists the sink types in documentation order.
var sinkTypes = []string{SinkStdout, SinkFile, SinkWebhook, SinkSlack, SinkTeams, SinkSyslog, SinkSplunk}

func (d *decoder) sinks(items []*yamltree.Node, rulesGiven bool) []Sink {
	out := make([]Sink, 0, len(items))
	seen := d.names("sink")
	for i, it := range items {
		path := fmt.Sprintf("sinks[%d]", i)
		o := d.item(it, path)
		s := Sink{}
		name, nn := o.reqStr("name")
		d.checkLabel(nn, name, path+".name")
		seen.add(name, nn)
		s.Name = name
		typ, tn := o.enum("type", "", sinkTypes...)
		if tn == nil && o.get("type") == nil {
			o.required("type", " ("+strings.Join(sinkTypes, ", ")+")")
		}
		s.Type = typ
		sev, _ := o.enum("min_severity", "low", "low", "medium", "high")
		s.MinSeverity, _ = alert.ParseSeverity(sev)
		rules, rnodes := o.strs("rules")
		for j, id := range rules {
			if d.checkRuleID(rnodes[j], id, fmt.Sprintf("%s.rules[%d]", path, j), rulesGiven) {
				s.Rules = append(s.Rules, id)
			}
		}
		s.MaxAttempts = o.integer("max_attempts", DefaultMaxAttempts, 1, 1000)
		d.sinkType(o, &s, path)
		o.done(func(key string) string {
			var owners []string
			for _, t := range sinkTypes {
				if contains(sinkKeys[t], key) {
					owners = append(owners, t)
				}
			}
			if len(owners) == 0 {
				return ""
			}
			return fmt.Sprintf("%s is not a key of %s %s sink (it is a key of %s sinks)", keyName(key), article(typ), typ, strings.Join(owners, " and "))
		})
		out = append(out, s)
	}
	return out
}

func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an"
	}
	return "a"
}

// sinkType reads the keys of the sink's type.
func (d *decoder) sinkType(o *object, s *Sink, path string) {
	reqSecret := func(key, hint string) Secret {
		sec := o.secret(key)
		if !sec.IsSet() && o.get(key) == nil {
			o.required(key, hint)
		}
		return sec
	}
	reqURL := func(key string) string {
		u, un := o.reqStr(key)
		if un != nil && u != "" {
			if err := checkURL(u, false, true); err != nil {
				d.errorf(un, "%s: %s %v", o.at(key), quote(u), err)
			}
		}
		return u
	}
	switch s.Type {
	case SinkFile:
		s.Path, _ = o.reqStr("path")
	case SinkWebhook:
		if un := o.get("url"); un != nil && un.Kind == yamltree.Map {
			s.URLSecret = o.secret("url")
		} else {
			s.URL = reqURL("url")
		}
		s.Secret = o.secret("secret")
		s.Headers = d.headers(o.get("headers"), path+".headers")
	case SinkSlack, SinkTeams:
		s.URLSecret = reqSecret("url", fmt.Sprintf(" for a %s sink: its webhook URL is a credential, so add url: {env: NAME}", s.Type))
	case SinkSyslog:
		s.Network, _ = o.enum("network", "udp", "udp", "tcp", "tls")
		addr, an := o.reqStr("address")
		if an != nil && addr != "" {
			if _, err := checkAddr(addr, true); err != nil {
				d.errorf(an, "%s.address: %v", path, err)
			}
		}
		s.Address = addr
		ca, cn := o.str("ca_file")
		if cn != nil && s.Network != "tls" {
			d.errorf(cn, "%s.ca_file applies only to network tls, not %s", path, s.Network)
		}
		s.CAFile = ca
		s.Format, _ = o.enum("format", "cef", "cef")
	case SinkSplunk:
		s.URL = reqURL("url")
		s.Token = reqSecret("token", " for a splunk sink: add token: {env: NAME}")
		s.Index, _ = o.str("index")
		s.SourceType, _ = o.str("sourcetype")
		if s.SourceType == "" {
			s.SourceType = DefaultSourceType
		}
		s.InsecureSkipVerify = o.boolean("insecure_skip_verify", false)
	case "":
		// Unknown or missing type (reported): accept every type's keys.
		for _, keys := range sinkKeys {
			for _, k := range keys {
				o.get(k)
			}
		}
	}
}

// credentialHeaders are header names whose inline values are refused.
var credentialHeaders = []string{"authorization", "proxy-authorization", "cookie", "token", "secret", "key", "password", "signature"}

func (d *decoder) headers(n *yamltree.Node, path string) []Header {
	if n == nil {
		return nil
	}
	if n.Kind != yamltree.Map {
		d.errorf(n, "%s: want a mapping of header names to values, got %s", path, describe(n))
		return nil
	}
	var out []Header
	seen := map[string]*yamltree.Node{}
	for i, k := range n.Keys {
		v := n.Values[i]
		name := k.Str
		at := path + "." + name
		if !validHeaderName(name) {
			d.errorf(k, "%s: %s is not an HTTP header name", path, quote(name))
			continue
		}
		lower := strings.ToLower(name)
		if f, dup := seen[lower]; dup {
			d.errorf(k, "%s: header %s is given twice (first at %s)", path, quote(name), f.Pos())
			continue
		}
		seen[lower] = k
		h := Header{Name: name}
		switch {
		case absent(v):
			d.errorf(k, "%s: give the header a value", at)
			continue
		case v.Kind == yamltree.Map:
			h.Secret = d.secret(v, at)
		case v.Kind == yamltree.Scalar && v.Type != yamltree.Bool:
			for _, c := range credentialHeaders {
				if strings.Contains(lower, c) {
					d.errorf(v, "%s: the header looks like a credential; %s", at, secretMsg)
					break
				}
			}
			if strings.ContainsAny(v.Str, "\r\n\x00") {
				d.errorf(v, "%s: a header value must not hold a line break or NUL", at)
			}
			h.Value = v.Str
		default:
			d.errorf(v, "%s: want a string or {env: NAME}, got %s", at, describe(v))
			continue
		}
		out = append(out, h)
	}
	return out
}

// validHeaderName checks an HTTP header name (an RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func (d *decoder) log(n *yamltree.Node) Log {
	o := d.object(n, "log")
	l := Log{}
	l.Level, _ = o.enum("level", "info", "debug", "info", "warn", "error")
	l.Format, _ = o.enum("format", "text", "text", "json")
	o.done(nil)
	return l
}
