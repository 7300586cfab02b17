package graphsim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestOpenIDConfiguration(t *testing.T) {
	h := newHarness(t, Options{})
	tid := h.ten.Options().TenantID
	resp, body := h.getAuth("/"+tid+"/v2.0/.well-known/openid-configuration", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openid-configuration: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var cfg map[string]any
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	base := h.srv.URL + "/" + tid
	for k, want := range map[string]string{
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"issuer":                 base + "/v2.0",
		"jwks_uri":               base + "/discovery/v2.0/keys",
	} {
		if cfg[k] != want {
			t.Errorf("%s = %v, want %s", k, cfg[k], want)
		}
	}

	resp, body = h.getAuth("/common/discovery/instance", "", "api-version", "1.1", "authorization_endpoint", base+"/oauth2/v2.0/authorize")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"tenant_discovery_endpoint":"`+base+`/v2.0/.well-known/openid-configuration"`) {
		t.Errorf("instance discovery: %d %s", resp.StatusCode, body)
	}
	resp, body = h.getAuth("/00000000-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration", "")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"error":"invalid_tenant"`) || !strings.Contains(string(body), "AADSTS90002") {
		t.Errorf("unknown tenant: %d %s", resp.StatusCode, body)
	}
}

func TestTokenEndpoint(t *testing.T) {
	h := newHarness(t, Options{ClientSecret: "s3cret"})
	o := h.ten.Options()
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {o.ClientID}, "client_secret": {"s3cret"}, "scope": {"https://graph.microsoft.com/.default"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name       string
		form       url.Values
		status     int
		error, msg string
	}{
		{"client credentials", good, http.StatusOK, "", ""},
		{"wrong secret", with("client_secret", "guess"), http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided"},
		{"unknown client", with("client_id", "11111111-1111-1111-1111-111111111111"), http.StatusBadRequest, "unauthorized_client", "AADSTS700016"},
		{"other grant", with("grant_type", "password"), http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003"},
		{"scope without /.default", with("scope", "User.Read"), http.StatusBadRequest, "invalid_scope", "AADSTS1002012"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := h.post("/"+o.TenantID+"/oauth2/v2.0/token", tt.form)
			if st != tt.status {
				t.Fatalf("status %d, want %d: %s", st, tt.status, body)
			}
			var r map[string]any
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if tt.status == http.StatusOK {
				if r["token_type"] != "Bearer" || r["expires_in"] != float64(3599) || r["ext_expires_in"] != float64(3599) || r["access_token"] == "" {
					t.Errorf("token response %s", body)
				}
				return
			}
			if r["error"] != tt.error || !strings.Contains(r["error_description"].(string), tt.msg) {
				t.Errorf("error %v %q, want %s %q", r["error"], r["error_description"], tt.error, tt.msg)
			}
		})
	}
}

func TestGraphRequiresToken(t *testing.T) {
	h := newHarness(t, Options{})
	other := newHarness(t, Options{ClientSecret: "another"})
	tests := []struct {
		name, auth string
		later      time.Duration
		status     int
		msg        string
	}{
		{"valid token", "Bearer " + h.bearer, 0, http.StatusOK, ""},
		{"no token", "", 0, http.StatusUnauthorized, "Access token is empty."},
		{"not a JWT", "Bearer abc", 0, http.StatusUnauthorized, "not a JWT"},
		{"basic scheme", "Basic " + h.bearer, 0, http.StatusUnauthorized, "Bearer <token>"},
		{"another tenant's token", "Bearer " + other.bearer, 0, http.StatusUnauthorized, "Invalid signature"},
		{"expired token", "Bearer " + h.bearer, TokenLifetime + time.Second, http.StatusUnauthorized, "the token is expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.at(tt.later)
			resp, body := h.getAuth(PathDevices, tt.auth)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == http.StatusOK {
				return
			}
			var e graphErrorBody
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			if e.Error.Code != "InvalidAuthenticationToken" || !strings.Contains(e.Error.Message, tt.msg) || e.Error.InnerError["request-id"] == "" {
				t.Errorf("error body %s, want InvalidAuthenticationToken %q", body, tt.msg)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if got := h.ten.Stats().Unauthorized; got != 5 {
		t.Errorf("Stats().Unauthorized = %d, want 5", got)
	}
}

// TestAzidentity runs the token flow as entrawatch does, with azidentity
// (MSAL) against the tenant served over TLS as a custom authority host.
func TestAzidentity(t *testing.T) {
	c := &fakeClock{now: start}
	ten := New(Options{Seed: 1, Clock: c.Now, History: -1})
	srv := httptest.NewTLSServer(ten.Handler())
	defer srv.Close()
	o := ten.Options()
	cred := func(secret string) *azidentity.ClientSecretCredential {
		cr, err := azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: srv.URL + "/"}, Transport: srv.Client()},
			DisableInstanceDiscovery: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return cr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	scopes := policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}
	tok, err := cred(o.ClientSecret).GetToken(ctx, scopes)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+PathSignIns+"?$top=5", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var p page
	err = json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("sign-ins with the azidentity token: %d %v", resp.StatusCode, err)
	}
	if p.NextLink != "" && !strings.HasPrefix(p.NextLink, "https://") {
		t.Errorf("nextLink over TLS is %s", p.NextLink)
	}

	_, err = cred("wrong").GetToken(ctx, scopes)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("GetToken with a wrong secret: %v, want AADSTS7000215", err)
	}
}
