package deliver_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/deliver"
	"github.com/entrawatch/entrawatch/internal/sink"
	"github.com/entrawatch/entrawatch/internal/store"
)

// outbox is a one-entry outbox, standing in for the store.
type outbox struct{ d *store.Delivery }

func (o *outbox) Due(_ context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	if o.d.State != store.DeliveryPending || o.d.NextTry.After(now) {
		return nil, nil
	}
	return []store.Delivery{*o.d}, nil
}
func (o *outbox) Delivered(_ context.Context, id int64) error {
	o.d.State = store.DeliveryDelivered
	return nil
}
func (o *outbox) Failed(_ context.Context, id int64, text string, next time.Time, dead bool) error {
	o.d.Attempts++
	return nil
}

type alerts map[string]*store.Alert

func (a alerts) Alert(_ context.Context, id string) (*store.Alert, error) { return a[id], nil }

func Example() {
	console, _ := sink.New("stdout", sink.Config{Out: os.Stdout})
	a := &store.Alert{ID: "a1", Rule: "bitlocker-key-read", Severity: alert.High, Tenant: "contoso",
		Summary: "bob read the BitLocker key of LAPTOP-7", LastSeen: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	ob := &outbox{&store.Delivery{ID: 1, Sink: "console", AlertID: "a1", State: store.DeliveryPending}}
	d, err := deliver.New(ob, alerts{"a1": a}, map[string]deliver.RoutedSink{
		"console": {Sink: console, MinSeverity: alert.Medium},
		"devices": {Sink: console, Rules: []string{"device-*", "stale-device"}},
	}, deliver.Options{Link: func(id string) string { return "https://ew.example/alerts/" + id }})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Route(a)) // what the service stores as the alert's outbox entries
	if _, err := d.Once(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println(ob.d.State)
	// Output:
	// [console]
	// 2026-11-27T10:00:00Z HIGH bitlocker-key-read contoso  bob read the BitLocker key of LAPTOP-7 https://ew.example/alerts/a1
	// delivered
}
