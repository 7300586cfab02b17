package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/entrawatch/entrawatch/internal/store/sqlite"
)

func Example() {
	dir, err := os.MkdirTemp("", "entrawatch")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "entrawatch.db"), sqlite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	raised := func(key string, minutes int) store.NewAlert {
		return store.NewAlert{
			Alert:    &alert.Alert{Rule: "unknown-device-signin", Title: "Sign-in from an unknown device", Severity: alert.Medium, Time: at.Add(time.Duration(minutes) * time.Minute)},
			Tenant:   "contoso",
			Key:      key,
			Group:    "unknown-device-signin/contoso/user@contoso.com",
			EventIDs: []store.EventRef{{Kind: "signIn", ID: key}},
		}
	}
	for _, b := range []*store.Batch{
		{Alerts: []store.NewAlert{raised("e1", 0)}, Cursors: []store.Cursor{{Name: "graph/signins", Value: "1"}}},
		{Alerts: []store.NewAlert{raised("e1", 0), raised("e2", 5)}, Cursors: []store.Cursor{{Name: "graph/signins", Value: "2"}}},
	} {
		b.GroupWindow = time.Hour
		b.Now = at
		b.Route = func(*store.Alert) []string { return []string{"webhook"} }
		r, err := s.Commit(ctx, b)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("created %d, grouped %d, duplicates %d\n", len(r.Created), len(r.Grouped), r.Duplicates)
	}
	page, err := s.Alerts(ctx, store.AlertFilter{})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range page.Alerts {
		fmt.Println(a.ID, a.Rule, a.Count, a.LastSeen.Format(time.RFC3339))
	}
	due, _ := s.Due(ctx, at, 10)
	fmt.Println(len(due), "delivery due to", due[0].Sink)
	// Output:
	// created 1, grouped 0, duplicates 0
	// created 0, grouped 1, duplicates 1
	// 8b5cc4df7eec7d32 unknown-device-signin 2 2024-05-01T12:05:00Z
	// 1 delivery due to webhook
}
