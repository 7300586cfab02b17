package sink

import (
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/store"
)

// Size bounds NewPayload applies to attacker-controlled fields, so one
// alert can never make a huge message.
const (
	MaxFieldBytes   = 1024 // id, rule, title, tenant, status, source, entities, detail names
	MaxSummaryBytes = 8192 // summary
	MaxValueBytes   = 4096 // each detail value
	MaxDetails      = 64   // details kept, in order
)

// Payload is the JSON form of an alert as sinks deliver it.
type Payload struct {
	ID        string         `json:"id"`
	Rule      string         `json:"rule"`
	Title     string         `json:"title"`
	Severity  string         `json:"severity"` // "low", "medium" or "high"
	Tenant    string         `json:"tenant"`
	Status    string         `json:"status"`
	Summary   string         `json:"summary"`
	Entities  alert.Entities `json:"entities"`
	Details   []Detail       `json:"details"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
	Count     int            `json:"count"`
	Source    string         `json:"source"`
	// Link is the alert's URL in the dashboard ("" when there is none).
	Link string `json:"link"`
}

// Detail is one named fact of an alert.
type Detail struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// NewPayload builds the payload of a stored alert: strings become valid
// UTF-8 and are cut to the Max* bounds, times are UTC.
func NewPayload(a *store.Alert, link string) *Payload {
	p := &Payload{
		ID:       clean(a.ID, MaxFieldBytes),
		Rule:     clean(a.Rule, MaxFieldBytes),
		Title:    clean(a.Title, MaxFieldBytes),
		Severity: a.Severity.String(),
		Tenant:   clean(a.Tenant, MaxFieldBytes),
		Status:   clean(string(a.Status), MaxFieldBytes),
		Summary:  clean(a.Summary, MaxSummaryBytes),
		Entities: alert.Entities{
			User:       clean(a.Entities.User, MaxFieldBytes),
			DeviceID:   clean(a.Entities.DeviceID, MaxFieldBytes),
			DeviceName: clean(a.Entities.DeviceName, MaxFieldBytes),
			IP:         clean(a.Entities.IP, MaxFieldBytes),
			Host:       clean(a.Entities.Host, MaxFieldBytes),
		},
		Details:   make([]Detail, 0, min(len(a.Details), MaxDetails)),
		FirstSeen: a.FirstSeen.UTC(),
		LastSeen:  a.LastSeen.UTC(),
		Count:     a.Count,
		Source:    clean(a.Source, MaxFieldBytes),
		Link:      link,
	}
	for i, d := range a.Details {
		if i == MaxDetails {
			break
		}
		p.Details = append(p.Details, Detail{Name: clean(d.Name, MaxFieldBytes), Value: clean(d.Value, MaxValueBytes)})
	}
	return p
}

// severity returns the payload's severity (0 when unknown).
func (p *Payload) severity() alert.Severity {
	s, _ := alert.ParseSeverity(p.Severity)
	return s
}

// device names the device entity: its name, else its id.
func (p *Payload) device() string {
	if p.Entities.DeviceName != "" {
		return p.Entities.DeviceName
	}
	return p.Entities.DeviceID
}
