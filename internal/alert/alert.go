// Package alert defines the alert entrawatch raises and the writers that
// print alerts as a table, JSON lines or CSV.
package alert

import (
	"fmt"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/record"
)

// Severity is an alert's risk level, as Microsoft's guide rates it.
type Severity uint8

// Severities, in increasing order.
const (
	Low Severity = iota + 1
	Medium
	High
)

// String returns "low", "medium" or "high".
func (s Severity) String() string {
	switch s {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return "unknown"
}

// ParseSeverity reads "low", "medium" or "high" (any case).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return Low, nil
	case "medium":
		return Medium, nil
	case "high":
		return High, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want low, medium or high)", s)
}

// Entities are the things an alert is about. Empty fields are unknown.
type Entities struct {
	User       string `json:"user,omitempty"`
	DeviceID   string `json:"device_id,omitempty"`
	DeviceName string `json:"device_name,omitempty"`
	IP         string `json:"ip,omitempty"`
	Host       string `json:"host,omitempty"`
}

// Detail is one extra named fact of an alert (old and new value, key id…),
// kept in order.
type Detail struct {
	Name  string
	Value string
}

// Alert is one finding.
type Alert struct {
	Rule     string
	Title    string
	Severity Severity
	// Time is the time of the event behind the alert (UTC); zero if unknown.
	Time     time.Time
	Summary  string
	Entities Entities
	Details  []Detail
	Source   record.Source
	// Record is the original record as compact JSON.
	Record []byte
}
