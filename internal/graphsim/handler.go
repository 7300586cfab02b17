package graphsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// graphAppID is Microsoft Graph's app id, named in WWW-Authenticate.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// Handler returns the HTTP handler of the identity platform and Graph
// endpoints. Absolute links (token endpoint, @odata.nextLink) are built
// from the request's Host, with https when the request came over TLS.
func (t *Tenant) Handler() http.Handler { return http.HandlerFunc(t.serve) }

// req is one request being answered.
type req struct {
	w        http.ResponseWriter
	r        *http.Request
	now      time.Time
	base     string // scheme://host
	id       string // request-id
	clientID string // client-request-id
}

func (t *Tenant) serve(w http.ResponseWriter, r *http.Request) {
	now := t.clock().UTC()
	t.mu.Lock()
	t.stepLocked(now)
	t.stats.Requests++
	t.reqCount++
	n := t.reqCount
	t.mu.Unlock()

	q := &req{w: w, r: r, now: now, base: baseURL(r), id: newGUID(newRNG(t.opts.Seed, "request", int64(n)))}
	q.clientID = r.Header.Get("client-request-id")
	if len(q.clientID) > 64 || strings.ContainsAny(q.clientID, "\r\n") {
		q.clientID = ""
	}
	if q.clientID == "" {
		q.clientID = q.id
	}
	w.Header().Set("request-id", q.id)
	w.Header().Set("client-request-id", q.clientID)

	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch strings.ToLower(segs[0]) {
	case "v1.0", "beta":
		t.serveGraph(q, strings.ToLower(segs[0]), strings.ToLower(strings.Join(segs[1:], "/")))
	default:
		t.serveIdentity(q, segs)
	}
}

// baseURL is the scheme and host the request was made to.
func baseURL(r *http.Request) string {
	host := r.Host
	if host == "" || len(host) > 255 || strings.IndexFunc(host, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c))
	}) >= 0 {
		host = "localhost"
	}
	if r.TLS != nil {
		return "https://" + host
	}
	return "http://" + host
}

func writeJSON(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

const (
	graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	aadContentType   = "application/json; charset=utf-8"
)

type graphErrorBody struct {
	Error graphError `json:"error"`
}

type graphError struct {
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	InnerError map[string]string `json:"innerError"`
}

// graphError answers with Graph's error body.
func (t *Tenant) graphError(q *req, status int, code, msg string) {
	switch status {
	case http.StatusUnauthorized:
		t.count(func(s *Stats) { s.Unauthorized++ })
	case http.StatusTooManyRequests:
		t.count(func(s *Stats) { s.Throttled++ })
	}
	inner := map[string]string{"date": q.now.Format("2006-01-02T15:04:05"), "request-id": q.id, "client-request-id": q.clientID}
	if status == http.StatusTooManyRequests {
		inner["code"], inner["status"], inner["message"] = "429", "429", "Please retry after"
	}
	writeJSON(q.w, status, graphContentType, mustJSON(graphErrorBody{graphError{Code: code, Message: msg, InnerError: inner}}))
}

func (t *Tenant) count(f func(*Stats)) {
	t.mu.Lock()
	f(&t.stats)
	t.mu.Unlock()
}

// serveIdentity answers the identity platform endpoints MSAL uses with a
// custom authority host.
func (t *Tenant) serveIdentity(q *req, segs []string) {
	r := q.r
	path := strings.ToLower(strings.Join(segs, "/"))
	switch {
	case path == "common/discovery/instance" && r.Method == http.MethodGet:
		t.instanceDiscovery(q)
		return
	case len(segs) == 4 && strings.ToLower(strings.Join(segs[1:], "/")) == "v2.0/.well-known/openid-configuration" && r.Method == http.MethodGet:
		if t.knownTenant(q, segs[0]) {
			t.openIDConfig(q)
		}
		return
	case len(segs) == 4 && strings.ToLower(strings.Join(segs[1:], "/")) == "discovery/v2.0/keys" && r.Method == http.MethodGet:
		if t.knownTenant(q, segs[0]) {
			writeJSON(q.w, http.StatusOK, aadContentType, []byte(`{"keys":[]}`))
		}
		return
	case len(segs) == 4 && strings.ToLower(strings.Join(segs[1:], "/")) == "oauth2/v2.0/token":
		if r.Method != http.MethodPost {
			t.aadError(q, http.StatusMethodNotAllowed, "invalid_request", 900561, "AADSTS900561: The endpoint only accepts POST requests. Received a "+trunc(r.Method)+" request.")
			return
		}
		if t.knownTenant(q, segs[0]) {
			t.token(q)
		}
		return
	}
	t.aadError(q, http.StatusNotFound, "invalid_request", 90002, fmt.Sprintf("graphsim does not simulate %s %s; it answers the token flow under /%s/ and the Graph paths under /v1.0/ and /beta/", trunc(r.Method), trunc(r.URL.Path), t.opts.TenantID))
}

func (t *Tenant) knownTenant(q *req, tenant string) bool {
	if strings.EqualFold(tenant, t.opts.TenantID) {
		return true
	}
	t.aadError(q, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", trunc(tenant)))
	return false
}

type aadErrorBody struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
}

// aadError answers with the identity platform's OAuth error body.
func (t *Tenant) aadError(q *req, status int, code string, aadsts int, msg string) {
	if status == http.StatusUnauthorized {
		t.count(func(s *Stats) { s.Unauthorized++ })
	}
	ts := q.now.Format("2006-01-02 15:04:05Z")
	writeJSON(q.w, status, aadContentType, mustJSON(aadErrorBody{
		Error: code, Codes: []int{aadsts}, Timestamp: ts, TraceID: q.id, CorrelationID: q.clientID,
		Description: fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s", msg, q.id, q.clientID, ts),
		ErrorURI:    fmt.Sprintf("%s/error?code=%d", q.base, aadsts),
	}))
}

func (t *Tenant) instanceDiscovery(q *req) {
	tenant := t.opts.TenantID
	if u, err := url.Parse(q.r.URL.Query().Get("authorization_endpoint")); err == nil {
		if seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/"); seg != "" && len(seg) <= 64 {
			tenant = seg
		}
	}
	host := strings.TrimPrefix(strings.TrimPrefix(q.base, "https://"), "http://")
	writeJSON(q.w, http.StatusOK, aadContentType, mustJSON(map[string]any{
		"tenant_discovery_endpoint": q.base + "/" + url.PathEscape(tenant) + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  []map[string]any{{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}},
	}))
}

func (t *Tenant) openIDConfig(q *req) {
	tb := q.base + "/" + t.opts.TenantID
	host := strings.TrimPrefix(strings.TrimPrefix(q.base, "https://"), "http://")
	writeJSON(q.w, http.StatusOK, aadContentType, mustJSON(map[string]any{
		"token_endpoint":                        tb + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              tb + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                tb + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     q.base + "/oidc/userinfo",
		"authorization_endpoint":                tb + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         tb + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  tb + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     tb + "/kerberos",
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          host,
		"rbac_url":                              "https://pas.windows.net",
	}))
}

// token answers the client-credentials grant.
func (t *Tenant) token(q *req) {
	r := q.r
	r.Body = http.MaxBytesReader(q.w, r.Body, 64<<10)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		t.aadError(q, http.StatusBadRequest, "invalid_request", 900144, fmt.Sprintf("AADSTS900144: The request body must be application/x-www-form-urlencoded, not %q.", ct))
		return
	}
	if err := r.ParseForm(); err != nil {
		t.aadError(q, http.StatusBadRequest, "invalid_request", 900144, "AADSTS900144: The request body could not be read: "+err.Error())
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if id, s, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		s, _ = url.QueryUnescape(s)
		clientID, secret = firstNonEmpty(clientID, id), firstNonEmpty(secret, s)
	}
	grant := f.Get("grant_type")
	switch {
	case grant == "":
		t.aadError(q, http.StatusBadRequest, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
	case grant != "client_credentials":
		t.aadError(q, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("AADSTS70003: The app requested an unsupported grant type '%s'; graphsim supports only client_credentials.", trunc(grant)))
	case clientID == "":
		t.aadError(q, http.StatusBadRequest, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
	case !strings.EqualFold(clientID, t.opts.ClientID):
		t.aadError(q, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.", trunc(clientID), t.opts.TenantID))
	case secret == "" && f.Get("client_assertion") != "":
		t.aadError(q, http.StatusUnauthorized, "invalid_client", 7000215, "AADSTS7000215: Invalid client secret provided. graphsim accepts only a client secret, not a client assertion.")
	case subtle.ConstantTimeCompare([]byte(secret), []byte(t.opts.ClientSecret)) != 1:
		t.aadError(q, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", t.opts.ClientID))
	case !hasDefaultScope(f.Get("scope")):
		t.aadError(q, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("AADSTS1002012: The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", trunc(f.Get("scope"))))
	default:
		t.count(func(s *Stats) { s.TokensIssued++ })
		writeJSON(q.w, http.StatusOK, aadContentType, mustJSON(map[string]any{
			"token_type": "Bearer", "expires_in": int(TokenLifetime / time.Second), "ext_expires_in": int(TokenLifetime / time.Second),
			"access_token": t.issueToken(q.now),
		}))
	}
}

// hasDefaultScope reports whether a scope list holds a "<resource>/.default"
// scope, which client credentials require (MSAL adds openid, profile and
// offline_access, which are accepted alongside).
func hasDefaultScope(scope string) bool {
	for _, s := range strings.Fields(scope) {
		if strings.HasSuffix(s, "/.default") {
			return true
		}
	}
	return false
}

func trunc(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// deriveKey is the key access tokens are signed with.
func deriveKey(seed int64, secret string) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "graphsim-token-key|%d|%s", seed, secret))
	return h[:]
}

type tokenClaims struct {
	Aud   string   `json:"aud"`
	Iss   string   `json:"iss"`
	Iat   int64    `json:"iat"`
	Nbf   int64    `json:"nbf"`
	Exp   int64    `json:"exp"`
	AppID string   `json:"appid"`
	IDTyp string   `json:"idtyp"`
	Oid   string   `json:"oid"`
	Roles []string `json:"roles"`
	Sub   string   `json:"sub"`
	Tid   string   `json:"tid"`
	Ver   string   `json:"ver"`
}

// issueToken returns a signed JWT access token valid for TokenLifetime.
func (t *Tenant) issueToken(now time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256","kid":"graphsim"}`))
	sp := seedGUID(t.opts.Seed, "service-principal")
	body := enc.EncodeToString(mustJSON(tokenClaims{
		Aud: "https://graph.microsoft.com", Iss: "https://sts.windows.net/" + t.opts.TenantID + "/",
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(TokenLifetime).Unix(), AppID: t.opts.ClientID, IDTyp: "app", Oid: sp, Sub: sp,
		Roles: []string{"AuditLog.Read.All", "Directory.Read.All", "Device.Read.All", "Policy.Read.All", "RoleManagement.Read.Directory"},
		Tid:   t.opts.TenantID, Ver: "1.0",
	}))
	mac := hmac.New(sha256.New, t.key)
	mac.Write([]byte(head + "." + body))
	return head + "." + body + "." + enc.EncodeToString(mac.Sum(nil))
}

// checkToken validates a bearer token at now and returns the reason it is
// refused, or "".
func (t *Tenant) checkToken(auth string, now time.Time) string {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(auth), " ")
	tok = strings.TrimSpace(tok)
	switch {
	case auth == "":
		return "Access token is empty."
	case !strings.EqualFold(scheme, "Bearer") || tok == "":
		return "Access token validation failure: the Authorization header must be 'Bearer <token>'."
	case len(tok) > 8192:
		return "Access token validation failure: the token is too long."
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "Access token validation failure: the token is not a JWT (IDX14100: JWT is not well formed)."
	}
	mac := hmac.New(sha256.New, t.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return "Access token validation failure. Invalid signature: the token was not issued by this tenant."
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c tokenClaims
	if err != nil || json.Unmarshal(body, &c) != nil {
		return "Access token validation failure: the token's claims are unreadable."
	}
	switch {
	case now.Unix() >= c.Exp:
		return "Lifetime validation failed, the token is expired."
	case now.Add(5*time.Minute).Unix() < c.Nbf:
		return "Lifetime validation failed, the token is not yet valid."
	}
	return ""
}

// serveGraph authenticates a Graph request, throttles sign-in lists and
// dispatches.
func (t *Tenant) serveGraph(q *req, version, path string) {
	if why := t.checkToken(q.r.Header.Get("Authorization"), q.now); why != "" {
		q.w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="", authorization_uri="%s/common/oauth2/authorize", client_id="%s"`, q.base, graphAppID))
		t.graphError(q, http.StatusUnauthorized, "InvalidAuthenticationToken", why)
		return
	}
	route, ok := graphRoutes[path]
	if !ok || (route.betaOnly && version != "beta") {
		t.graphError(q, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("graphsim does not simulate GET %s (simulated: %s)", trunc(q.r.URL.Path), simulatedPaths))
		return
	}
	if q.r.Method != http.MethodGet {
		t.graphError(q, http.StatusMethodNotAllowed, "Request_BadRequest", fmt.Sprintf("graphsim answers only GET on %s, not %s", trunc(q.r.URL.Path), trunc(q.r.Method)))
		return
	}
	if route.throttled && t.opts.ThrottleEvery > 0 {
		t.mu.Lock()
		t.siCount++
		throttle := t.siCount%uint64(t.opts.ThrottleEvery) == 0
		t.mu.Unlock()
		if throttle {
			q.w.Header().Set("Retry-After", "1")
			t.graphError(q, http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Please retry again later.")
			return
		}
	}
	route.serve(t, q, version)
}

type graphRoute struct {
	serve     func(t *Tenant, q *req, version string)
	betaOnly  bool
	throttled bool
}

var graphRoutes = map[string]graphRoute{
	"auditlogs/signins":                                 {serve: (*Tenant).listSignIns, betaOnly: true, throttled: true},
	"auditlogs/directoryaudits":                         {serve: (*Tenant).listAudits},
	"devices":                                           {serve: (*Tenant).listDevices},
	"devices/delta":                                     {serve: (*Tenant).deltaDevices},
	"policies/deviceregistrationpolicy":                 {serve: (*Tenant).registrationPolicy},
	"identity/conditionalaccess/policies":               {serve: (*Tenant).listCAPolicies},
	"rolemanagement/directory/roleassignments":          {serve: (*Tenant).listRoleAssignments},
	"rolemanagement/directory/roleeligibilityschedules": {serve: (*Tenant).listEligibility},
}

const simulatedPaths = "/beta/auditLogs/signIns, /v1.0/auditLogs/directoryAudits, /v1.0/devices, /v1.0/devices/delta, " +
	"/beta/policies/deviceRegistrationPolicy, /v1.0/identity/conditionalAccess/policies, " +
	"/v1.0/roleManagement/directory/roleAssignments, /v1.0/roleManagement/directory/roleEligibilitySchedules (v1.0 and beta alike except signIns, beta only)"

// writePage answers a Graph collection page.
func writePage(q *req, context string, link, linkName string, items [][]byte) {
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":`)
	b.Write(mustJSON(context))
	if link != "" {
		b.WriteString(`,"` + linkName + `":`)
		b.Write(mustJSON(link))
	}
	b.WriteString(`,"value":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteString("]}")
	writeJSON(q.w, http.StatusOK, graphContentType, b.Bytes())
}

// param reads an OData query option, with or without its "$".
func param(q *req, name string) (string, bool) {
	v := q.r.URL.Query()
	if s, ok := v["$"+name]; ok && len(s) > 0 {
		return s[0], true
	}
	if s, ok := v[name]; ok && len(s) > 0 {
		return s[0], true
	}
	return "", false
}

// pageSize reads $top: the page is the smaller of $top and PageSize.
func (t *Tenant) pageSize(q *req) (int, int, bool) {
	s, ok := param(q, "top")
	if !ok {
		return t.opts.PageSize, 0, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		t.graphError(q, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid $top value %q: it must be a positive integer.", trunc(s)))
		return 0, 0, false
	}
	return min(n, t.opts.PageSize), n, true
}
