package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/entrawatch/entrawatch/internal/graph"
)

// ExampleClient_List lists a two-page device collection from a stand-in for
// Graph; each item reaches the callback as compact raw JSON.
func ExampleClient_List() {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$skiptoken") == "" {
			fmt.Fprintf(w, `{"value":[{"id":"a1", "displayName":"LAPTOP-1"}],"@odata.nextLink":"%s/v1.0/devices?$skiptoken=p2"}`, srv.URL)
			return
		}
		fmt.Fprint(w, `{"value":[{"id":"b2","displayName":"KIOSK-7"}]}`)
	}))
	defer srv.Close()

	// In production: graph.New(graph.DefaultGraphURL, credential, graph.WithUserAgent("entrawatch/1.0")).
	c, err := graph.New(srv.URL, graph.StaticToken("demo-token"))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = c.List(context.Background(), "/v1.0/devices?$select=id,displayName", func(item []byte) error {
		fmt.Println(string(item))
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// {"id":"a1","displayName":"LAPTOP-1"}
	// {"id":"b2","displayName":"KIOSK-7"}
	// err: <nil>
}
