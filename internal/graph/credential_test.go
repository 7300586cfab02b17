package graph

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testTenant = "11111111-2222-3333-4444-555555555555"
	testClient = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	testGraph  = "https://graph.example.test"
)

// fakeAuthority is a minimal Entra login host: the openid-configuration and
// token endpoints named by TokenEndpoints, nothing else.
type fakeAuthority struct {
	t          *testing.T
	srv        *httptest.Server
	secret     string // accepted client_secret
	assertion  string // accepted client_assertion ("" = any non-empty JWT-shaped one)
	mu         sync.Mutex
	paths      []string
	tokenCalls int
}

func newFakeAuthority(t *testing.T) *fakeAuthority {
	t.Helper()
	fa := &fakeAuthority{t: t}
	fa.srv = httptest.NewTLSServer(http.HandlerFunc(fa.serve))
	t.Cleanup(fa.srv.Close)
	return fa
}

func (fa *fakeAuthority) serve(w http.ResponseWriter, r *http.Request) {
	fa.mu.Lock()
	fa.paths = append(fa.paths, r.Method+" "+r.URL.Path)
	fa.mu.Unlock()
	discovery, token := TokenEndpoints(fa.srv.URL, testTenant)
	switch fa.srv.URL + r.URL.Path {
	case discovery:
		w.Header().Set("Content-Type", "application/json")
		w.Write(OpenIDConfiguration(fa.srv.URL, testTenant))
	case token:
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := r.PostForm
		if f.Get("scope") == "" {
			f.Set("scope", "-")
		}
		ok := r.Method == http.MethodPost && f.Get("grant_type") == "client_credentials" &&
			f.Get("client_id") == testClient && strings.Fields(f.Get("scope"))[0] == testGraph+"/.default"
		switch {
		case f.Get("client_secret") != "":
			ok = ok && f.Get("client_secret") == fa.secret
		case f.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
			a := f.Get("client_assertion")
			ok = ok && (a == fa.assertion || fa.assertion == "" && strings.Count(a, ".") == 2)
		default:
			ok = false
		}
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`))
			return
		}
		fa.mu.Lock()
		fa.tokenCalls++
		fa.mu.Unlock()
		w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-from-fake-authority"}`))
	default:
		fa.t.Errorf("unexpected request to the login host: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	}
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "entrawatch-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})...)
}

func TestNewCredentialGetsTokenFromCustomAuthority(t *testing.T) {
	fa := newFakeAuthority(t)
	fa.secret = "s3cret"
	tokenFile := filepath.Join(t.TempDir(), "sa-token")
	if err := os.WriteFile(tokenFile, []byte("federated.jwt.assertion"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := CredentialOptions{TenantID: testTenant, ClientID: testClient, LoginURL: fa.srv.URL + "/",
		GraphURL: testGraph, HTTPClient: fa.srv.Client()}
	tests := []struct {
		name      string
		set       func(*CredentialOptions)
		assertion string
	}{
		{"client secret", func(o *CredentialOptions) { o.Method = MethodClientSecret; o.ClientSecret = "s3cret" }, ""},
		{"certificate", func(o *CredentialOptions) { o.Method = MethodCertificate; o.CertificatePEMorPFX = selfSignedPEM(t) }, ""},
		{"workload identity", func(o *CredentialOptions) { o.Method = MethodWorkloadIdentity; o.TokenFile = tokenFile }, "federated.jwt.assertion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa.assertion = tt.assertion
			opts := base
			tt.set(&opts)
			ts, err := NewCredential(opts)
			if err != nil {
				t.Fatalf("NewCredential: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tok, err := ts.Token(ctx)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok != "tok-from-fake-authority" {
				t.Errorf("token = %q", tok)
			}
		})
	}
	// Only the two documented endpoints were contacted (no instance discovery).
	discovery, token := TokenEndpoints(fa.srv.URL, testTenant)
	for _, p := range fa.paths {
		if p != "GET "+strings.TrimPrefix(discovery, fa.srv.URL) && p != "POST "+strings.TrimPrefix(token, fa.srv.URL) {
			t.Errorf("unexpected login request %s", p)
		}
	}
}

func TestNewCredentialWrongSecretNamesTenant(t *testing.T) {
	fa := newFakeAuthority(t)
	fa.secret = "right"
	ts, err := NewCredential(CredentialOptions{Method: MethodClientSecret, TenantID: testTenant, ClientID: testClient,
		ClientSecret: "Zq9-wrong-secret", LoginURL: fa.srv.URL, GraphURL: testGraph, HTTPClient: fa.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token(context.Background())
	if err == nil {
		t.Fatal("Token succeeded with a wrong secret")
	}
	for _, want := range []string{"graph: get token", testTenant, "invalid_client"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "Zq9-wrong-secret") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

func TestNewCredentialValidation(t *testing.T) {
	tests := []struct {
		name string
		opts CredentialOptions
		want string
	}{
		{"no method", CredentialOptions{TenantID: testTenant}, "method is required"},
		{"unknown method", CredentialOptions{Method: "password"}, `unknown method "password"`},
		{"secret missing", CredentialOptions{Method: MethodClientSecret, TenantID: testTenant, ClientID: testClient}, "client secret is required"},
		{"tenant missing", CredentialOptions{Method: MethodClientSecret, ClientID: testClient, ClientSecret: "x"}, "tenant ID is required"},
		{"cert missing", CredentialOptions{Method: MethodCertificate, TenantID: testTenant, ClientID: testClient}, "certificate data is required"},
		{"cert garbage", CredentialOptions{Method: MethodCertificate, TenantID: testTenant, ClientID: testClient, CertificatePEMorPFX: []byte("nope")}, "parse certificate"},
		{"http login", CredentialOptions{Method: MethodClientSecret, TenantID: testTenant, ClientID: testClient, ClientSecret: "x", LoginURL: "http://login.example"}, "must be an absolute https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCredential(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestTokenEndpoints(t *testing.T) {
	d, tok := TokenEndpoints("https://login.example/", "contoso")
	if d != "https://login.example/contoso/v2.0/.well-known/openid-configuration" || tok != "https://login.example/contoso/oauth2/v2.0/token" {
		t.Errorf("TokenEndpoints = %q, %q", d, tok)
	}
	want := `{"token_endpoint":"https://login.example/contoso/oauth2/v2.0/token","authorization_endpoint":"https://login.example/contoso/oauth2/v2.0/authorize","issuer":"https://login.example/contoso/v2.0"}`
	if got := string(OpenIDConfiguration("https://login.example", "contoso")); got != want {
		t.Errorf("OpenIDConfiguration =\n%s\nwant\n%s", got, want)
	}
}

func TestStaticToken(t *testing.T) {
	if tok, err := StaticToken("abc").Token(context.Background()); err != nil || tok != "abc" {
		t.Errorf("StaticToken = %q, %v", tok, err)
	}
	if _, err := StaticToken("").Token(context.Background()); err == nil {
		t.Error("empty static token accepted")
	}
}
