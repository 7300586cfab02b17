package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// TokenSource yields bearer tokens for Microsoft Graph.
type TokenSource interface {
	// Token returns a valid access token (without the "Bearer " prefix).
	Token(ctx context.Context) (string, error)
}

// Credential methods accepted in CredentialOptions.Method.
const (
	MethodClientSecret     = "client_secret"
	MethodCertificate      = "certificate"
	MethodWorkloadIdentity = "workload_identity"
)

// Default public-cloud endpoints.
const (
	DefaultLoginURL = "https://login.microsoftonline.com"
	DefaultGraphURL = "https://graph.microsoft.com"
)

// CredentialOptions configures NewCredential.
type CredentialOptions struct {
	// Method is one of MethodClientSecret, MethodCertificate or MethodWorkloadIdentity.
	Method string
	// TenantID and ClientID identify the app registration. For workload identity
	// they may be empty, in which case AZURE_TENANT_ID / AZURE_CLIENT_ID are used.
	TenantID, ClientID string
	// ClientSecret is the secret for MethodClientSecret.
	ClientSecret string
	// CertificatePEMorPFX holds the certificate and private key (PEM or PKCS#12)
	// for MethodCertificate; CertificatePassword decrypts it if needed.
	CertificatePEMorPFX []byte
	CertificatePassword string
	// TokenFile is the federated (Kubernetes service account) token file for
	// MethodWorkloadIdentity; empty means AZURE_FEDERATED_TOKEN_FILE.
	TokenFile string
	// LoginURL is the authority host, e.g. https://login.microsoftonline.com
	// (the default). It must be https.
	LoginURL string
	// GraphURL is the Graph host the token is for (default
	// https://graph.microsoft.com); the scope is GraphURL + "/.default".
	GraphURL string
	// HTTPClient, if set, carries the token requests (e.g. for a custom CA).
	HTTPClient *http.Client
}

// wellKnownLoginHosts are the Microsoft authority hosts MSAL trusts without
// instance discovery (mirrors MSAL's aadTrustedHostList).
var wellKnownLoginHosts = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoft.com":              true,
	"login.windows.net":                true,
	"sts.windows.net":                  true,
	"login.microsoftonline.us":         true,
	"login-us.microsoftonline.com":     true,
	"login.usgovcloudapi.net":          true,
	"login.partner.microsoftonline.cn": true,
	"login.chinacloudapi.cn":           true,
	"login.microsoftonline.de":         true,
	"login.sovcloud-identity.fr":       true,
	"login.sovcloud-identity.de":       true,
	"login.sovcloud-identity.sg":       true,
}

// TokenEndpoints returns the two URLs that azidentity (through MSAL) calls to
// get an app-only token from a login host that is not a well-known Microsoft
// host, i.e. what a simulated tenant or test server must serve:
//
//  1. GET discovery = {loginURL}/{tenant}/v2.0/.well-known/openid-configuration,
//     answering JSON with at least "token_endpoint", "authorization_endpoint"
//     and "issuer"; the issuer's scheme and host must equal the login URL's
//     (see OpenIDConfiguration).
//  2. POST token = the "token_endpoint" named there, conventionally
//     {loginURL}/{tenant}/oauth2/v2.0/token, with a form body
//     grant_type=client_credentials, client_id, scope="{GraphURL}/.default
//     openid offline_access profile" (MSAL appends the last three) and
//     either client_secret or client_assertion_type=
//     urn:ietf:params:oauth:client-assertion-type:jwt-bearer + client_assertion
//     (certificate: a JWT signed by the key; workload identity: the token
//     file's content). It answers {"token_type":"Bearer","expires_in":3599,
//     "access_token":"…"}.
//
// Instance discovery (GET https://login.microsoftonline.com/common/discovery/instance)
// is disabled for such hosts, so nothing else is contacted. Both must be https.
func TokenEndpoints(loginURL, tenantID string) (discovery, token string) {
	base := strings.TrimRight(loginURL, "/") + "/" + tenantID
	return base + "/v2.0/.well-known/openid-configuration", base + "/oauth2/v2.0/token"
}

// OpenIDConfiguration returns the minimal discovery document that azidentity
// accepts for tenantID at loginURL, naming the token endpoint from
// TokenEndpoints. Simulated tenants and tests serve it at the discovery URL.
func OpenIDConfiguration(loginURL, tenantID string) []byte {
	base := strings.TrimRight(loginURL, "/") + "/" + tenantID
	_, token := TokenEndpoints(loginURL, tenantID)
	return fmt.Appendf(nil, `{"token_endpoint":%q,"authorization_endpoint":%q,"issuer":%q}`,
		token, base+"/oauth2/v2.0/authorize", base+"/v2.0")
}

// NewCredential builds an azidentity credential for app-only access to Graph.
// Tokens are cached and refreshed by azidentity; nothing is cached here.
func NewCredential(opts CredentialOptions) (TokenSource, error) {
	login := strings.TrimRight(opts.LoginURL, "/")
	if login == "" {
		login = DefaultLoginURL
	}
	lu, err := url.Parse(login)
	if err != nil || lu.Scheme != "https" || lu.Host == "" {
		return nil, fmt.Errorf("graph: credential: login URL %q must be an absolute https URL", opts.LoginURL)
	}
	graphURL := strings.TrimRight(opts.GraphURL, "/")
	if graphURL == "" {
		graphURL = DefaultGraphURL
	}
	if gu, err := url.Parse(graphURL); err != nil || gu.Host == "" {
		return nil, fmt.Errorf("graph: credential: Graph URL %q is not an absolute URL", opts.GraphURL)
	}
	co := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: login}}
	if opts.HTTPClient != nil {
		co.Transport = opts.HTTPClient
	}
	noDiscovery := !wellKnownLoginHosts[strings.ToLower(lu.Hostname())]
	need := func(v, what string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("graph: credential %s: %s is required", opts.Method, what)
		}
		return nil
	}

	var cred azcore.TokenCredential
	switch opts.Method {
	case MethodClientSecret:
		if err := errors.Join(need(opts.TenantID, "tenant ID"), need(opts.ClientID, "client ID"), need(opts.ClientSecret, "client secret")); err != nil {
			return nil, err
		}
		cred, err = azidentity.NewClientSecretCredential(opts.TenantID, opts.ClientID, opts.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: noDiscovery})
	case MethodCertificate:
		if err := errors.Join(need(opts.TenantID, "tenant ID"), need(opts.ClientID, "client ID")); err != nil {
			return nil, err
		}
		if len(opts.CertificatePEMorPFX) == 0 {
			return nil, fmt.Errorf("graph: credential %s: certificate data is required", opts.Method)
		}
		var pw []byte
		if opts.CertificatePassword != "" {
			pw = []byte(opts.CertificatePassword)
		}
		certs, key, perr := azidentity.ParseCertificates(opts.CertificatePEMorPFX, pw)
		if perr != nil {
			return nil, fmt.Errorf("graph: credential %s: parse certificate (PEM or PFX with private key): %w", opts.Method, perr)
		}
		cred, err = azidentity.NewClientCertificateCredential(opts.TenantID, opts.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: noDiscovery})
	case MethodWorkloadIdentity:
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions:            co,
			TenantID:                 opts.TenantID,
			ClientID:                 opts.ClientID,
			TokenFilePath:            opts.TokenFile,
			DisableInstanceDiscovery: noDiscovery,
		})
	case "":
		return nil, fmt.Errorf("graph: credential: method is required (%s, %s or %s)", MethodClientSecret, MethodCertificate, MethodWorkloadIdentity)
	default:
		return nil, fmt.Errorf("graph: credential: unknown method %q (want %s, %s or %s)", opts.Method, MethodClientSecret, MethodCertificate, MethodWorkloadIdentity)
	}
	if err != nil {
		return nil, fmt.Errorf("graph: credential %s for tenant %q: %w", opts.Method, opts.TenantID, err)
	}
	return &azTokenSource{cred: cred, scope: graphURL + "/.default", desc: fmt.Sprintf("%s credential for tenant %q, client %q at %s", opts.Method, opts.TenantID, opts.ClientID, login)}, nil
}

// azTokenSource adapts an azcore.TokenCredential to TokenSource.
type azTokenSource struct {
	cred  azcore.TokenCredential
	scope string
	desc  string
}

func (a *azTokenSource) Token(ctx context.Context) (string, error) {
	tk, err := a.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{a.scope}})
	if err != nil {
		return "", fmt.Errorf("graph: get token for scope %s (%s): %w", a.scope, a.desc, err)
	}
	if tk.Token == "" {
		return "", fmt.Errorf("graph: get token for scope %s (%s): empty access token", a.scope, a.desc)
	}
	return tk.Token, nil
}

// StaticToken returns a TokenSource that always yields tok (for tests and demos).
func StaticToken(tok string) TokenSource { return staticToken(tok) }

type staticToken string

func (s staticToken) Token(context.Context) (string, error) {
	if s == "" {
		return "", errors.New("graph: static token is empty")
	}
	return string(s), nil
}
