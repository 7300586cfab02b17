package serve_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	_ "github.com/entrawatch/entrawatch/internal/catalog"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/serve"
	"github.com/entrawatch/entrawatch/internal/store/sqlite"
)

// A service's HTTP API: /healthz is open, the rest needs the bearer token.
func ExampleService_Handler() {
	dir, err := os.MkdirTemp("", "entrawatch-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "entrawatch.db"), sqlite.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	svc, err := serve.New(serve.Options{
		Store:     st,
		NewEngine: func(now time.Time) (*detect.Engine, error) { return detect.NewEngine(detect.Options{Now: now}) },
		Listen:    "0.0.0.0:8443",
		Token:     "change-me",
	})
	if err != nil {
		panic(err)
	}
	h := svc.Handler()
	for _, auth := range []string{"", "Bearer change-me"} {
		req := httptest.NewRequest("GET", "/api/v1/alerts?since=24h", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 401 {"error":{"message":"missing or wrong bearer token","status":401}}
	// 200 {"alerts":[],"next":""}
}
