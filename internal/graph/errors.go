package graph

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/valyala/fastjson"
)

// CodeNonPremiumTenant is the Graph error code returned when the tenant lacks
// a Microsoft Entra ID P1/P2 licence (or is a B2C tenant) for sign-in logs.
const CodeNonPremiumTenant = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"

// Error is a non-2xx answer from Graph.
type Error struct {
	Status    int    // HTTP status
	Code      string // Graph error code, e.g. "Authorization_RequestDenied"
	Message   string // Graph error message (sanitised, bounded)
	Path      string // URL path requested, without the query
	RequestID string // Graph request-id, for Microsoft support
	Hint      string // what is probably missing (permission, licence), if known
	Attempts  int    // HTTP attempts made, >1 when retries were exhausted
}

// Error reads like "graph: GET /beta/auditLogs/signIns: 403 Authorization_RequestDenied:
// Insufficient privileges… (needs AuditLog.Read.All …)".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: GET %s: %d", e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request-id " + e.RequestID + "]")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (gave up after %d attempts)", e.Attempts)
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// newError parses Graph's {"error":{"code","message","innerError":{"request-id"}}}
// envelope. Every value is untrusted: it is bounded, stripped of control
// characters and of the bearer token.
func newError(status int, h http.Header, body []byte, path, tok string) *Error {
	e := &Error{Status: status, Path: path}
	var p fastjson.Parser
	if v, err := p.ParseBytes(body); err == nil {
		if ev := v.Get("error"); ev != nil && ev.Type() == fastjson.TypeObject {
			e.Code = string(ev.GetStringBytes("code"))
			e.Message = string(ev.GetStringBytes("message"))
			for _, k := range []string{"innerError", "innererror"} {
				if id := ev.GetStringBytes(k, "request-id"); len(id) > 0 {
					e.RequestID = string(id)
					break
				}
			}
		}
	} else if len(body) > 0 {
		e.Message = string(body)
	}
	if e.RequestID == "" {
		e.RequestID = h.Get("request-id")
	}
	e.Code = clip(redact(e.Code, tok), 100)
	e.Message = clip(redact(strings.TrimSpace(e.Message), tok), maxErrorText)
	e.RequestID = clip(redact(e.RequestID, tok), 100)
	e.Hint = hint(status, e.Code, path)
	return e
}

// Hints naming the application permissions each endpoint needs.
const (
	hintSignIns = "needs AuditLog.Read.All and Directory.Read.All (application permissions), and a Microsoft Entra ID P1 or P2 licence: without it Graph answers 403 " + CodeNonPremiumTenant
	hintAudits  = "needs AuditLog.Read.All (application permission, admin-consented)"
	hintDevices = "needs Device.Read.All (application permission, admin-consented)"
	hintDRP     = "needs Policy.Read.DeviceConfiguration (the application permission Microsoft documents for this policy; Policy.Read.All covers delegated reads), admin-consented"
	hintCA      = "needs Policy.Read.All (application permission, admin-consented)"
	hintRoles   = "needs RoleManagement.Read.Directory (application permission, admin-consented)"
	hintPIM     = "needs RoleManagement.Read.Directory (application permission, admin-consented) and a Microsoft Entra ID P2 licence for PIM eligibility"
	hintPremium = "needs a Microsoft Entra ID P1 or P2 licence: Graph serves sign-in logs only to premium, non-B2C tenants"
	hintOther   = "needs the Graph application permission for this call, with admin consent"
	hint401     = "the token was rejected: check tenant ID, client ID, credential expiry and that the token is for this Graph host; then "
)

func hint(status int, code, path string) string {
	if strings.EqualFold(code, CodeNonPremiumTenant) {
		return hintPremium
	}
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		return ""
	}
	p := strings.ToLower(path)
	var h string
	switch {
	case strings.Contains(p, "/auditlogs/signins"):
		h = hintSignIns
	case strings.Contains(p, "/auditlogs/directoryaudits"):
		h = hintAudits
	case strings.Contains(p, "/devices"):
		h = hintDevices
	case strings.Contains(p, "/policies/deviceregistrationpolicy"):
		h = hintDRP
	case strings.Contains(p, "/identity/conditionalaccess/policies"):
		h = hintCA
	case strings.Contains(p, "/rolemanagement/directory/roleeligibility"):
		h = hintPIM
	case strings.Contains(p, "/rolemanagement/"):
		h = hintRoles
	default:
		h = hintOther
	}
	if status == http.StatusUnauthorized {
		return hint401 + h
	}
	return h
}
