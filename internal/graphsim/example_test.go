package graphsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/graphsim"
)

// A simulated tenant served over HTTP: get a token with the client
// credentials, read the device registration policy while the first
// threat cycle has MFA for registration switched off, and list the
// threats expected to fire.
func Example() {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	sim := graphsim.New(graphsim.Options{Seed: 1, ClientSecret: "demo-secret", Clock: func() time.Time { return now }})
	srv := httptest.NewServer(sim.Handler()) // the demo serves it over TLS
	defer srv.Close()
	o := sim.Options()

	now = now.Add(time.Minute)
	resp, err := http.PostForm(srv.URL+"/"+o.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {o.ClientID}, "client_secret": {"demo-secret"},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/beta/policies/deviceRegistrationPolicy", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var policy struct{ MultiFactorAuthConfiguration string }
	json.NewDecoder(resp.Body).Decode(&policy)
	resp.Body.Close()
	fmt.Println("multiFactorAuthConfiguration:", policy.MultiFactorAuthConfiguration)

	for _, th := range sim.Events() {
		fmt.Printf("cycle %d %-36s %s\n", th.Cycle, th.Rule, strings.TrimPrefix(th.Path, "/"))
	}
	// Output:
	// multiFactorAuthConfiguration: notRequired
	// cycle 0 stale-device                         v1.0/devices
	// cycle 0 stale-device                         v1.0/devices
	// cycle 1 device-registration-mfa-not-required beta/policies/deviceRegistrationPolicy
	// cycle 1 device-registration-without-mfa      beta/auditLogs/signIns
	// cycle 1 noncompliant-device-signin           beta/auditLogs/signIns
	// cycle 1 unknown-device-signin                beta/auditLogs/signIns
	// cycle 1 bitlocker-key-read                   v1.0/auditLogs/directoryAudits
	// cycle 1 privileged-device-role-added         v1.0/auditLogs/directoryAudits
	// cycle 1 privileged-device-role-added         v1.0/auditLogs/directoryAudits
}
