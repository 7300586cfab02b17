package config_test

import (
	"fmt"

	"github.com/entrawatch/entrawatch/internal/config"
)

func ExampleParse() {
	src := `
server:
  listen: 0.0.0.0:8080
tenants:
  - name: contoso
    tenant_id: contoso.onmicrosoft.com
    auth: {method: client_secret, client_id: 11111111-2222-3333-4444-555555555555, client_secret: hunter2}
  - name: contoso
    tenant_id: contoso.com
    auth: {method: workload_identity, client_id: 11111111-2222-3333-4444-555555555555}
    signins: {interval: 5 mins}
`
	_, err := config.Parse("entrawatch.yaml", []byte(src))
	fmt.Println(err)
	// Output:
	// entrawatch.yaml:3:11: server.token is required when server.listen ("0.0.0.0:8080") is not a loopback address: add token: {env: ENTRAWATCH_API_TOKEN}
	// entrawatch.yaml:7:99: tenants[0].auth.client_secret: secrets must come from an environment variable or a file: use {env: NAME} or {file: PATH}
	// entrawatch.yaml:8:11: duplicate tenant name "contoso" (first at 5:11)
	// entrawatch.yaml:11:25: tenants[1].signins.interval: "5 mins" is not a duration (use a Go duration such as 5m or 2h30m, or days such as 7d)
}

func ExampleConfig_ResolveSecrets() {
	src := `
tenants:
  - name: contoso
    tenant_id: contoso.onmicrosoft.com
    auth:
      method: client_secret
      client_id: 11111111-2222-3333-4444-555555555555
      client_secret: {env: CONTOSO_SECRET}
`
	cfg, err := config.Parse("entrawatch.yaml", []byte(src))
	if err != nil {
		panic(err)
	}
	env := map[string]string{"CONTOSO_SECRET": "s3cr3t"}
	if err := cfg.ResolveSecrets(func(k string) string { return env[k] }, nil); err != nil {
		panic(err)
	}
	secret := cfg.Tenants[0].Auth.ClientSecret
	fmt.Println(secret, secret.Ref())
	fmt.Println(secret.Value())
	fmt.Println(cfg.Tenants[0].BaseURLs().Graph)
	// Output:
	// [redacted] environment variable CONTOSO_SECRET
	// s3cr3t
	// https://graph.microsoft.com
}
