package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
)

func TestAlertJSON(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		a    *Alert
		want string
	}{
		{
			name: "details in order, severity by name",
			a: &Alert{ID: "abc", Rule: "r", Title: "T", Severity: alert.High, Tenant: "contoso", Status: StatusNew, Summary: "s",
				Entities: alert.Entities{User: "u@contoso.com"}, Details: []alert.Detail{{Name: "z", Value: "1"}, {Name: "a", Value: "\"2\""}},
				FirstSeen: at, LastSeen: at, Count: 2, Created: at, Updated: at, Group: "g", Record: []byte(`{}`)},
			want: `{"id":"abc","rule":"r","title":"T","tenant":"contoso","status":"new","summary":"s","entities":{"user":"u@contoso.com"},` +
				`"first_seen":"2024-05-01T12:00:00Z","last_seen":"2024-05-01T12:00:00Z","count":2,"created":"2024-05-01T12:00:00Z","updated":"2024-05-01T12:00:00Z",` +
				`"severity":"high","details":[{"name":"z","value":"1"},{"name":"a","value":"\"2\""}]}`,
		},
		{
			name: "no details, a note",
			a:    &Alert{ID: "x", Severity: alert.Low, Notes: []Note{{Time: at, Author: "ann", Status: StatusClosed}}},
			want: `{"id":"x","rule":"","title":"","tenant":"","status":"","summary":"","entities":{},` +
				`"first_seen":"0001-01-01T00:00:00Z","last_seen":"0001-01-01T00:00:00Z","count":0,"created":"0001-01-01T00:00:00Z","updated":"0001-01-01T00:00:00Z",` +
				`"notes":[{"time":"2024-05-01T12:00:00Z","author":"ann","status":"closed"}],"severity":"low","details":[]}`,
		},
	}
	for _, tt := range tests {
		// By pointer and by value (as a field of another value).
		for _, v := range []any{tt.a, *tt.a} {
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if string(got) != tt.want {
				t.Errorf("%s (%T):\n got %s\nwant %s", tt.name, v, got, tt.want)
			}
		}
	}
}
