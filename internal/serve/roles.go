package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/valyala/fastjson"
)

// WatchedRoles are the role template ids whose holders the service
// watches: Global Administrator and the roles that administer devices.
var WatchedRoles = map[string]string{
	"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
	"7698a772-787b-4ac8-901f-60d6b08affd2": "Cloud Device Administrator",
	"9f06204d-73c1-4d4c-880a-6edb90606fd8": "Microsoft Entra Joined Device Local Administrator",
}

// eligibilityLister is a GraphAPI that also lists PIM role eligibility
// (internal/graph's Client does).
type eligibilityLister interface {
	RoleEligibilitySchedules(ctx context.Context, fn func(item []byte) error) error
}

// holder is one principal holding (or, Eligible, able to activate through
// PIM) a watched role.
type holder struct {
	Role      string `json:"role"`
	Principal string `json:"principal"`
	Name      string `json:"name,omitempty"`
	Eligible  bool   `json:"eligible,omitempty"`
}

func (h holder) key() string {
	if h.Eligible {
		return h.Role + "/eligible/" + h.Principal
	}
	return h.Role + "/" + h.Principal
}

// roleState is what a role check remembers: the holders, and the new ones
// whose audit record has not been seen yet.
type roleState struct {
	Holders []holder `json:"holders"`
	Pending []string `json:"pending,omitempty"`
}

// pollRoles reads the holders of the watched roles. A holder that the
// previous check did not see, and for whom no audit record raised
// privileged-device-role-added, is reported: the role was given in a way
// entrawatch's audit reading did not see (a gap in the logs, an audit record
// older than the first poll, or tampering).
func (s *Service) pollRoles(ctx context.Context, t *Tenant) error {
	now := s.now()
	var cur []holder
	collect := func(eligible bool) func(b []byte) error {
		return func(b []byte) error {
			v, err := fastjson.ParseBytes(b)
			if err != nil {
				return nil
			}
			role := string(v.GetStringBytes("roleDefinitionId"))
			if _, ok := WatchedRoles[role]; !ok {
				return nil
			}
			h := holder{Role: role, Principal: string(v.GetStringBytes("principalId")), Eligible: eligible}
			if p := v.Get("principal"); p != nil {
				h.Name = string(p.GetStringBytes("userPrincipalName"))
				if h.Name == "" {
					h.Name = string(p.GetStringBytes("displayName"))
				}
			}
			cur = append(cur, h)
			return nil
		}
	}
	if err := t.Graph.RoleAssignments(ctx, collect(false)); err != nil {
		return err
	}
	// PIM eligibility: an eligible holder can activate the role at will.
	if pim, ok := t.Graph.(eligibilityLister); ok {
		if err := pim.RoleEligibilitySchedules(ctx, collect(true)); err != nil {
			return err
		}
	}
	sort.Slice(cur, func(i, j int) bool { return cur[i].key() < cur[j].key() })
	cname := "graph:" + t.Name + ":role-holders"
	prev, ok, err := s.store.Cursor(ctx, cname)
	if err != nil {
		return err
	}
	var old roleState
	if ok {
		_ = json.Unmarshal([]byte(prev), &old)
	}
	known := map[string]bool{}
	for _, h := range old.Holders {
		known[h.key()] = true
	}
	pending := map[string]bool{}
	for _, k := range old.Pending {
		pending[k] = true
	}
	next := roleState{Holders: cur}
	var extra []*alert.Alert
	for _, h := range cur {
		// A holder is judged one check after it appears, so that the
		// audit record of the assignment, polled separately, has arrived.
		if !ok || (known[h.key()] && !pending[h.key()]) {
			continue
		}
		seen, err := s.auditSeen(ctx, t.Name, h, now)
		if err != nil {
			return err
		}
		switch {
		case seen:
		case pending[h.key()]:
			extra = append(extra, roleHolderAlert(t.Name, h, now))
		default:
			next.Pending = append(next.Pending, h.key())
		}
	}
	b, _ := json.Marshal(next)
	r, err := s.ingest(ctx, &Ingest{Tenant: t.Name, Source: "graph/roles", Extra: extra, Cursors: []store.Cursor{{Name: cname, Value: string(b)}}})
	if err != nil {
		return err
	}
	s.noted(t.Name, "graph/roles", r, time.Time{})
	return nil
}

// auditSeen reports whether an audit record raised an alert for the new
// holder recently.
func (s *Service) auditSeen(ctx context.Context, tenant string, h holder, now time.Time) (bool, error) {
	page, err := s.store.Alerts(ctx, store.AlertFilter{Rule: []string{"privileged-device-role-added"}, Tenant: tenant, Since: now.Add(-7 * 24 * time.Hour), Limit: 1000})
	if err != nil {
		return false, err
	}
	// The alert's user is the actor who made the assignment, not its
	// member: the built-in detection names the member and the role in its
	// details.
	is := func(v string) bool {
		return v != "" && (strings.EqualFold(v, h.Name) || strings.EqualFold(v, h.Principal))
	}
	for _, a := range page.Alerts {
		details := map[string]string{}
		for _, d := range a.Details {
			details[d.Name] = d.Value
		}
		if _, own := details["audit_record"]; own {
			continue // raised by a role check, not by an audit record
		}
		if member, ok := details["member"]; ok {
			role := details["role"]
			if is(member) && (strings.EqualFold(role, WatchedRoles[h.Role]) || role == "unknown") {
				return true, nil
			}
			continue
		}
		// A rule replacing the built-in: the holder named in the summary,
		// other than as the actor.
		sum := strings.ToLower(a.Summary)
		for _, v := range []string{h.Name, h.Principal} {
			if v != "" && strings.Contains(sum, strings.ToLower(v)) && !is(a.Entities.User) {
				return true, nil
			}
		}
	}
	return false, nil
}

func roleHolderAlert(tenant string, h holder, now time.Time) *alert.Alert {
	a := &alert.Alert{Rule: "privileged-device-role-added", Title: "User added to a privileged device role", Severity: alert.High, Time: now,
		Source: record.Source{File: "graph:" + tenant + "/roles", Format: "graph"}}
	if info := catalogInfo(a.Rule); info != nil {
		a.Title, a.Severity = info.Title, info.Severity
	}
	name := h.Name
	if name == "" {
		name = h.Principal
	}
	a.Entities.User = name
	holds := "now holds"
	if h.Eligible {
		holds = "is now eligible (PIM) for"
	}
	a.Summary = fmt.Sprintf("%s %s %s, and entrawatch saw no audit record of the assignment", name, holds, WatchedRoles[h.Role])
	a.Details = []alert.Detail{{Name: "role", Value: WatchedRoles[h.Role]}, {Name: "role_template_id", Value: h.Role}, {Name: "principal_id", Value: h.Principal}, {Name: "audit_record", Value: "none seen"}}
	return a
}
