package graph

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Role template ids of the directory roles entrawatch watches. For built-in
// roles a unifiedRoleAssignment's roleDefinitionId equals the template id.
const (
	RoleGlobalAdministrator            = "62e90394-69f5-4237-9190-012177145e10"
	RoleCloudDeviceAdministrator       = "7698a772-787b-4ac8-901f-60d6b08affd2"
	RoleIntuneAdministrator            = "3a2c62db-5318-420d-8d74-23affee5d9d5"
	RoleJoinedDeviceLocalAdministrator = "9f06204d-73c1-4d4c-880a-6edb90606fd8" // "Azure AD Joined Device Local Administrator"
)

// Sign-in event types for SignIns (Graph beta signInEventTypes).
const (
	EventInteractiveUser    = "interactiveUser"
	EventNonInteractiveUser = "nonInteractiveUser"
	EventServicePrincipal   = "servicePrincipal"
	EventManagedIdentity    = "managedIdentity"
)

// DeviceFields are the device properties entrawatch uses ($select).
const DeviceFields = "id,deviceId,displayName,operatingSystem,operatingSystemVersion,trustType,profileType,accountEnabled,isCompliant,isManaged,approximateLastSignInDateTime,registrationDateTime"

// query encodes OData query options in order, keeping "$" literal and
// encoding spaces as %20.
func query(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(kv[i+1]), "+", "%20"))
	}
	return b.String()
}

// odataTime formats t as an OData DateTimeOffset literal in UTC, e.g.
// 2024-05-01T00:00:00Z (sub-second precision is dropped).
func odataTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func timeWindow(prop string, from, to time.Time) (string, error) {
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return "", fmt.Errorf("graph: %s window [%s, %s) is empty or unset", prop, odataTime(from), odataTime(to))
	}
	return fmt.Sprintf("%s ge %s and %s lt %s", prop, odataTime(from), prop, odataTime(to)), nil
}

// SignInsFilter returns the $filter SignIns sends: a half-open createdDateTime
// window and, when eventTypes is non-empty, a signInEventTypes lambda.
func SignInsFilter(from, to time.Time, eventTypes []string) (string, error) {
	f, err := timeWindow("createdDateTime", from, to)
	if err != nil {
		return "", err
	}
	if len(eventTypes) == 0 {
		return f, nil
	}
	terms := make([]string, len(eventTypes))
	for i, et := range eventTypes {
		if et == "" || strings.IndexFunc(et, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }) >= 0 {
			return "", fmt.Errorf("graph: sign-in event type %q is not a signInEventTypes value such as %s", clip(et, 60), EventNonInteractiveUser)
		}
		terms[i] = "t eq '" + et + "'"
	}
	return f + " and signInEventTypes/any(t: " + strings.Join(terms, " or ") + ")", nil
}

// SignIns streams beta sign-ins created in [from, to), 1000 per page. Beta is
// used because v1.0 lacks signInEventTypes, authenticationRequirement and
// other fields entrawatch needs. eventTypes (e.g. EventInteractiveUser,
// EventNonInteractiveUser) selects the kinds; empty means Graph's default,
// interactive user sign-ins only.
func (c *Client) SignIns(ctx context.Context, from, to time.Time, eventTypes []string, fn func(item []byte) error) error {
	f, err := SignInsFilter(from, to, eventTypes)
	if err != nil {
		return err
	}
	return c.List(ctx, "/beta/auditLogs/signIns?"+query("$filter", f, "$top", "1000"), fn)
}

// DirectoryAudits streams v1.0 directory audit records with activityDateTime in [from, to).
func (c *Client) DirectoryAudits(ctx context.Context, from, to time.Time, fn func(item []byte) error) error {
	f, err := timeWindow("activityDateTime", from, to)
	if err != nil {
		return err
	}
	return c.List(ctx, "/v1.0/auditLogs/directoryAudits?"+query("$filter", f, "$top", "999"), fn)
}

// Devices streams every device object with DeviceFields selected.
func (c *Client) Devices(ctx context.Context, fn func(item []byte) error) error {
	return c.List(ctx, "/v1.0/devices?"+query("$select", DeviceFields, "$top", "999"), fn)
}

// DevicesDelta streams device changes since deltaLink ("" starts a full
// enumeration through /v1.0/devices/delta) and returns the deltaLink for the
// next call. Removed devices arrive as {"id":…,"@removed":{"reason":…}}.
// A *Error with Status 410 means the delta state expired: call again with "".
func (c *Client) DevicesDelta(ctx context.Context, deltaLink string, fn func(item []byte) error) (string, error) {
	if deltaLink == "" {
		deltaLink = "/v1.0/devices/delta?" + query("$select", DeviceFields)
	}
	return c.ListDelta(ctx, deltaLink, fn)
}

// DeviceRegistrationPolicy returns the tenant's device registration policy
// (beta, where Microsoft documents it; the object also exists in v1.0).
func (c *Client) DeviceRegistrationPolicy(ctx context.Context) ([]byte, error) {
	return c.Get(ctx, "/beta/policies/deviceRegistrationPolicy")
}

// ConditionalAccessPolicies streams the tenant's Conditional Access policies.
func (c *Client) ConditionalAccessPolicies(ctx context.Context, fn func(item []byte) error) error {
	return c.List(ctx, "/v1.0/identity/conditionalAccess/policies", fn)
}

// WatchedRoles returns the role template ids entrawatch watches.
func WatchedRoles() []string {
	return []string{RoleGlobalAdministrator, RoleCloudDeviceAdministrator, RoleIntuneAdministrator, RoleJoinedDeviceLocalAdministrator}
}

// RoleAssignments streams active directory role assignments of WatchedRoles
// with the principal (user, group or service principal) expanded.
func (c *Client) RoleAssignments(ctx context.Context, fn func(item []byte) error) error {
	return c.RoleAssignmentsFor(ctx, WatchedRoles(), fn)
}

// RoleAssignmentsFor streams active assignments of the given role template
// ids with the principal expanded. Graph's v1.0 list requires a $filter on
// roleDefinitionId or principalId, so one listing runs per role; items whose
// roleDefinitionId is not the role asked for (a server ignoring $filter) are
// dropped.
func (c *Client) RoleAssignmentsFor(ctx context.Context, roleIDs []string, fn func(item []byte) error) error {
	for _, id := range roleIDs {
		if id == "" || strings.Trim(strings.ToLower(id), "0123456789abcdef-") != "" {
			return fmt.Errorf("graph: role template id %q is not a GUID", clip(id, 60))
		}
	}
	var p fastjson.Parser
	for _, id := range roleIDs {
		q := query("$filter", "roleDefinitionId eq '"+id+"'", "$expand", "principal")
		err := c.List(ctx, "/v1.0/roleManagement/directory/roleAssignments?"+q, func(item []byte) error {
			if v, err := p.ParseBytes(item); err != nil || !strings.EqualFold(string(v.GetStringBytes("roleDefinitionId")), id) {
				return nil
			}
			return fn(item)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// RoleEligibilitySchedules streams PIM eligibility schedules (who may
// activate which role).
func (c *Client) RoleEligibilitySchedules(ctx context.Context, fn func(item []byte) error) error {
	return c.List(ctx, "/v1.0/roleManagement/directory/roleEligibilitySchedules?"+query("$expand", "principal"), fn)
}
