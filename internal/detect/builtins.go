package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
)

// Well-known identifiers.
const (
	// DeviceRegistrationServiceAppID is the resource app id of the Device
	// Registration Service.
	DeviceRegistrationServiceAppID = "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9"
	// RoleGlobalAdministrator and the device roles are role template ids.
	RoleGlobalAdministrator      = "62e90394-69f5-4237-9190-012177145e10"
	RoleJoinedDeviceLocalAdmin   = "9f06204d-73c1-4d4c-880a-6edb90606fd8"
	RoleCloudDeviceAdministrator = "7698a772-787b-4ac8-901f-60d6b08affd2"
)

// watchedRoles maps the names and template ids of the watched roles to the
// role's current display name.
var watchedRoles = map[string]string{
	RoleGlobalAdministrator:                             "Global Administrator",
	"global administrator":                              "Global Administrator",
	"company administrator":                             "Global Administrator",
	"tenantadmins":                                      "Global Administrator",
	RoleJoinedDeviceLocalAdmin:                          "Microsoft Entra Joined Device Local Administrator",
	"microsoft entra joined device local administrator": "Microsoft Entra Joined Device Local Administrator",
	"azure ad joined device local administrator":        "Microsoft Entra Joined Device Local Administrator",
	"device administrators":                             "Microsoft Entra Joined Device Local Administrator",
	RoleCloudDeviceAdministrator:                        "Cloud Device Administrator",
	"cloud device administrator":                        "Cloud Device Administrator",
}

func watchedRoleValues() []string {
	out := make([]string, 0, len(watchedRoles))
	for k := range watchedRoles {
		out = append(out, k)
	}
	return out
}

const techDeviceReg = "T1098.005 Account Manipulation: Device Registration"

// Builtins compiles the built-in detections with c.
func Builtins(c *rule.Compiler, opts Options) ([]Detector, error) {
	var out []Detector
	add := func(info Info, e rule.Expr, describe func(*record.Record, *alert.Alert)) error {
		m, err := c.Compile(e)
		if err != nil {
			return fmt.Errorf("detection %s: %w", info.ID, err)
		}
		out = append(out, &matchDetector{base: base{info: info}, match: m, describe: describe})
		return nil
	}
	f := newFields(c)

	drs := rule.Or{
		rule.Eq("ResourceDisplayName", "Device Registration Service"),
		rule.And{rule.Match{Field: "ResourceDisplayName", Op: rule.Empty}, rule.Eq("ResourceIdentity", DeviceRegistrationServiceAppID)},
	}
	err := add(Info{
		ID: "device-registration-without-mfa", Title: "Device registered or joined without MFA", Severity: alert.Medium,
		Source: "Sign-in logs", Technique: techDeviceReg, Kinds: kinds(record.KindSignIn),
		Description: "A successful sign-in (ResultType 0) to the Device Registration Service (by name, or by its app id " + DeviceRegistrationServiceAppID + " when the name is missing) where Conditional Access succeeded but the authentication requirement was not multifactor: a device was registered or joined to Entra ID with a single factor.",
		Next:        "Confirm with the user that they registered the device. Look up the device in the inventory (registered owner, OS, trust type) and at the user's other sign-ins around that time. If the registration was not theirs, disable the device and reset the user's credentials. Require MFA for the user action \"Register or join devices\" with Conditional Access.",
	}, rule.And{
		rule.Match{Field: "ResultType", Op: rule.Zero},
		drs,
		rule.Eq("ConditionalAccessStatus", "success"),
		rule.Not{X: rule.Match{Field: "AuthenticationRequirement", Op: rule.Empty}},
		rule.Not{X: rule.Eq("AuthenticationRequirement", "multiFactorAuthentication")},
	}, func(r *record.Record, a *alert.Alert) {
		f.signinEntities(r, a)
		a.Details = append(a.Details, alert.Detail{Name: "authentication_requirement", Value: record.Text(r.Get(f.authReq))})
		a.Summary = fmt.Sprintf("%s registered or joined a device with %s (Device Registration Service, from %s, %s)",
			orUnknown(a.Entities.User), record.Text(r.Get(f.authReq)), orUnknown(a.Entities.IP), orUnknown(record.Text(r.Get(f.os))))
	})
	if err != nil {
		return nil, err
	}

	err = add(Info{
		ID: "device-registration-policy-changed", Title: "Device registration policy changed", Severity: alert.High,
		Source: "Audit logs", Technique: "T1556 Modify Authentication Process", Kinds: kinds(record.KindAudit),
		Description: "The audit activity \"Set device registration policies\": someone changed who may register or join devices, the device quota, local administrator settings or the MFA requirement for registration.",
		Next:        "Check who made the change and whether it was planned. Compare the old and new values; a change that lowers protection (MFA for registration off, registration opened to all users) needs an owner. Switching the MFA setting off writes no audit record at all, so also run entrawatch over the current deviceRegistrationPolicy (device-registration-mfa-not-required).",
	}, rule.Eq("OperationName", "Set device registration policies"), func(r *record.Record, a *alert.Alert) {
		f.auditEntities(r, a)
		changes := f.modified(r, "")
		for _, ch := range changes {
			a.Details = append(a.Details, alert.Detail{Name: ch.name, Value: ch.old + " -> " + ch.new})
		}
		what := "the record carries no old and new values"
		if len(changes) > 0 {
			parts := make([]string, 0, len(changes))
			for _, ch := range changes {
				parts = append(parts, fmt.Sprintf("%s: %s -> %s", ch.name, orUnknown(ch.old), orUnknown(ch.new)))
			}
			what = strings.Join(parts, "; ")
		}
		a.Summary = fmt.Sprintf("%s changed the device registration policy (%s)", orUnknown(a.Entities.User), what)
	})
	if err != nil {
		return nil, err
	}

	err = add(Info{
		ID: "noncompliant-device-signin", Title: "Sign-in from a non-compliant device", Severity: alert.High,
		Source: "Sign-in logs", Technique: "T1078.004 Valid Accounts: Cloud Accounts", Kinds: kinds(record.KindSignIn),
		Description: "A sign-in from a device Entra knows (a device id is present) that is marked non-compliant (DeviceDetail.isCompliant false), which Conditional Access let through (status success). A sign-in without a device id is an unknown device, not a non-compliant one, and is left to unknown-device-signin.",
		Next:        "Find out why the device is non-compliant (Intune compliance report) and whether a Conditional Access policy should have required a compliant device for this app. Check the user's recent activity from this device.",
	}, rule.And{
		rule.Match{Field: "DeviceDetail.isCompliant", Op: rule.False},
		rule.Eq("ConditionalAccessStatus", "success"),
		rule.Not{X: rule.Match{Field: "DeviceDetail.deviceId", Op: rule.Empty}},
	}, func(r *record.Record, a *alert.Alert) {
		f.signinEntities(r, a)
		a.Summary = fmt.Sprintf("%s signed in to %s from non-compliant device %s (%s) at %s",
			orUnknown(a.Entities.User), orUnknown(record.Text(r.Get(f.app))), orUnknown(deviceLabel(a)), orUnknown(record.Text(r.Get(f.os))), orUnknown(a.Entities.IP))
	})
	if err != nil {
		return nil, err
	}

	err = add(Info{
		ID: "unknown-device-signin", Title: "Single-factor sign-in from an unknown device", Severity: alert.Low,
		Source: "Sign-in logs", Technique: "T1078.004 Valid Accounts: Cloud Accounts", Kinds: kinds(record.KindSignIn),
		Description: "A successful (ResultType 0) single-factor sign-in from a device Entra does not know (empty device id) outside any named network location (NetworkLocationDetails empty). Sign-ins to the Device Registration Service are left to device-registration-without-mfa: registering always starts from an unknown device.",
		Next:        "Check whether the user normally signs in from unmanaged devices, the location and user agent, and whether risk detections exist for the sign-in. Consider a Conditional Access policy that requires MFA or a compliant device for sign-ins outside trusted locations.",
	}, rule.And{
		rule.Match{Field: "DeviceDetail.deviceId", Op: rule.Empty},
		rule.Eq("AuthenticationRequirement", "singleFactorAuthentication"),
		rule.Match{Field: "ResultType", Op: rule.Zero},
		rule.Match{Field: "NetworkLocationDetails", Op: rule.Empty},
		rule.Not{X: drs},
	}, func(r *record.Record, a *alert.Alert) {
		f.signinEntities(r, a)
		a.Summary = fmt.Sprintf("%s signed in to %s with a single factor from an unknown device (%s, %s) at %s",
			orUnknown(a.Entities.User), orUnknown(record.Text(r.Get(f.app))), orUnknown(record.Text(r.Get(f.os))), orUnknown(record.Text(r.Get(f.browser))), orUnknown(a.Entities.IP))
	})
	if err != nil {
		return nil, err
	}

	err = add(Info{
		ID: "bitlocker-key-read", Title: "BitLocker recovery key read", Severity: alert.Medium,
		Source: "Audit logs", Technique: "T1552 Unsecured Credentials", Kinds: kinds(record.KindAudit),
		Description: "The audit activity \"Read BitLocker key\": someone read a device's BitLocker recovery key.",
		Next:        "Ask the reader why they needed the key (a locked-out user, a help-desk ticket). Many reads by one account, or a read by an account that does not support devices, may be an attacker preparing offline access to a disk.",
	}, rule.Eq("OperationName", "Read BitLocker key"), func(r *record.Record, a *alert.Alert) {
		f.auditEntities(r, a)
		key, device := f.bitlockerTarget(r, a)
		res := record.Text(r.Get(f.result))
		verb := "read"
		if strings.EqualFold(res, "failure") {
			verb = "tried and failed to read"
		}
		a.Summary = fmt.Sprintf("%s %s BitLocker recovery key %s of device %s from %s", orUnknown(a.Entities.User), verb, orUnknown(key), orUnknown(device), orUnknown(a.Entities.IP))
	})
	if err != nil {
		return nil, err
	}

	roleVals := watchedRoleValues()
	err = add(Info{
		ID: "privileged-device-role-added", Title: "User added to a privileged device role", Severity: alert.High,
		Source: "Audit logs", Technique: "T1098.003 Account Manipulation: Additional Cloud Roles", Kinds: kinds(record.KindAudit),
		Description: "\"Add member to role\" or \"Add eligible member to role\" (PIM included, its \"requested\" records left out: the \"completed\" record is the assignment) for Global Administrator (" + RoleGlobalAdministrator + "), Microsoft Entra Joined Device Local Administrator (" + RoleJoinedDeviceLocalAdmin + ") or Cloud Device Administrator (" + RoleCloudDeviceAdministrator + "), found by template id or display name in the target's modifiedProperties or in a Role target.",
		Next:        "Confirm the assignment with the person who made it and the change process. Check the new holder's recent sign-ins and activity; remove the assignment if it is not expected. Prefer eligible (PIM) assignments to permanent ones.",
	}, rule.And{
		rule.Match{Field: "OperationName", Op: rule.Prefix, Values: []string{"Add member to role", "Add eligible member to role"}},
		// A PIM request is not an assignment: its completion record follows.
		rule.Not{X: rule.Match{Field: "OperationName", Op: rule.Contains, Values: []string{"requested"}}},
		rule.Not{X: rule.Eq("Result", "failure")},
		rule.Some{Field: "TargetResources", Where: rule.Or{
			rule.Some{Field: "modifiedProperties", Where: rule.And{
				rule.Eq("displayName", "Role.TemplateId", "Role.DisplayName", "Role.WellKnownObjectName", "RoleDefinitionOriginId", "TemplateId"),
				rule.Eq("newValue", roleVals...),
			}},
			rule.And{rule.Eq("type", "Role"), rule.Or{rule.Eq("id", roleVals...), rule.Eq("displayName", roleVals...)}},
		}},
	}, func(r *record.Record, a *alert.Alert) {
		f.auditEntities(r, a)
		role, member := f.roleTarget(r)
		a.Details = append(a.Details, alert.Detail{Name: "role", Value: role}, alert.Detail{Name: "member", Value: member})
		eligible := ""
		if strings.Contains(strings.ToLower(record.Text(r.Get(f.op))), "eligible") {
			eligible = " as eligible"
		}
		a.Summary = fmt.Sprintf("%s added %s to %s%s", orUnknown(a.Entities.User), orUnknown(member), role, eligible)
	})
	if err != nil {
		return nil, err
	}

	out = append(out, newStaleDevice(f, opts), newRegistrationMFA(f, opts), newLinuxSSH(c, opts), newWindowsRDP(c, opts))
	return out, nil
}

// deviceLabel names a device by name and id.
func deviceLabel(a *alert.Alert) string {
	switch {
	case a.Entities.DeviceName != "" && a.Entities.DeviceID != "":
		return a.Entities.DeviceName + " [" + a.Entities.DeviceID + "]"
	case a.Entities.DeviceName != "":
		return a.Entities.DeviceName
	}
	return a.Entities.DeviceID
}

// staleDevice flags devices of a Graph inventory that have not signed in
// for StaleAfter.
type staleDevice struct {
	base
	f     *fields
	now   time.Time
	after time.Duration
}

func newStaleDevice(f *fields, opts Options) *staleDevice {
	return &staleDevice{f: f, now: opts.Now, after: opts.StaleAfter, base: base{info: Info{
		ID: "stale-device", Title: "Stale device", Severity: alert.Low,
		Source: "Graph device inventory", Technique: "T1078 Valid Accounts", Kinds: kinds(record.KindDevice), Stateful: false,
		Description: fmt.Sprintf("An enabled device whose approximateLastSignInDateTime (or, when it is empty, registrationDateTime) is older than --stale-after (default %d days, at least 21: Entra refreshes the timestamp only every 14±5 days), measured from --now.", int(DefaultStaleAfter.Hours()/24)),
		Next:        "Disable the device first and delete it after a grace period. Hybrid-joined devices must be cleaned up in on-premises Active Directory, not in Entra; Autopilot devices must not be deleted; retire Intune-managed devices in Intune first. Deleting a device also deletes its BitLocker recovery keys: back them up first.",
	}}}
}

var trustTypes = map[string]string{
	"workplace": "Microsoft Entra registered",
	"azuread":   "Microsoft Entra joined",
	"serverad":  "Microsoft Entra hybrid joined",
}

func (s *staleDevice) Detect(r *record.Record, emit func(*alert.Alert)) {
	if record.IsFalse(r.Get(s.f.accountEnabled)) {
		return // already disabled: in the cleanup process
	}
	last, ok := record.TimeOf(r.Get(s.f.lastSignIn))
	basis := "last signed in"
	if !ok {
		if last, ok = record.TimeOf(r.Get(s.f.registered)); !ok {
			return
		}
		basis = "has no sign-in time; registered"
	}
	age := s.now.Sub(last)
	if age <= s.after {
		return
	}
	a := s.newAlert(r, "")
	a.Time = last
	a.Entities.DeviceID = record.Text(r.Get(s.f.devDeviceID))
	a.Entities.DeviceName = record.Text(r.Get(s.f.displayName))
	tt := record.Text(r.Get(s.f.trustType))
	trust, ok := trustTypes[strings.ToLower(tt)]
	if !ok {
		trust = orUnknown(tt) + " trust type"
	}
	notes := []string{"deleting a device also deletes its BitLocker recovery keys"}
	if strings.EqualFold(tt, "ServerAd") {
		notes = append([]string{"hybrid joined: clean it up in on-premises AD, not in Entra"}, notes...)
	}
	for _, id := range r.Elements(r.Get(s.f.physicalIDs)) {
		if strings.Contains(strings.ToUpper(record.Text(id)), "[ZTDID]") {
			notes = append([]string{"Autopilot device: do not delete it"}, notes...)
			break
		}
	}
	a.Details = append(a.Details, alert.Detail{Name: "trust_type", Value: trust}, alert.Detail{Name: "days_inactive", Value: fmt.Sprint(int(age.Hours() / 24))})
	a.Summary = fmt.Sprintf("device %s (%s, %s) %s %s, %d days ago; %s",
		orUnknown(deviceLabel(a)), trust, orUnknown(record.Text(r.Get(s.f.devOS))), basis, last.Format("2006-01-02"), int(age.Hours()/24), strings.Join(notes, "; "))
	emit(a)
}

var _ Detector = (*staleDevice)(nil)
