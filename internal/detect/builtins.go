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

const techDeviceReg = "T1098.005 Account Manipulation: Device Registration"

// BuiltinSource supplies built-in detections defined outside this package:
// package catalog registers the built-ins written as Sigma documents.
type BuiltinSource func(c *rule.Compiler, opts Options) ([]Detector, error)

var builtinSources []BuiltinSource

// RegisterBuiltins adds a source of built-in detections. Call it from an
// init function.
func RegisterBuiltins(src BuiltinSource) { builtinSources = append(builtinSources, src) }

// Builtins compiles the built-in detections with c: those registered (the
// Sigma documents of package catalog) and the stateful ones written in Go.
func Builtins(c *rule.Compiler, opts Options) ([]Detector, error) {
	var out []Detector
	for _, src := range builtinSources {
		ds, err := src(c, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	f := newFields(c)
	out = append(out, newStaleDevice(f, opts), newRegistrationMFA(f, opts), newLinuxSSH(c, opts), newWindowsRDP(c, opts))
	return out, nil
}

// Describe returns how a built-in detection defined as a Sigma document
// describes its alerts (summary, entities, details), or nil for other ids.
func Describe(id string) func(r *record.Record, a *alert.Alert) {
	return describers[id]
}

var describers = func() map[string]func(*record.Record, *alert.Alert) {
	f := generic.fields
	return map[string]func(*record.Record, *alert.Alert){
		"device-registration-without-mfa": func(r *record.Record, a *alert.Alert) {
			f.signinEntities(r, a)
			a.Details = append(a.Details, alert.Detail{Name: "authentication_requirement", Value: record.Text(r.Get(f.authReq))})
			a.Summary = fmt.Sprintf("%s registered or joined a device with %s (Device Registration Service, from %s, %s)",
				orUnknown(a.Entities.User), record.Text(r.Get(f.authReq)), orUnknown(a.Entities.IP), orUnknown(record.Text(r.Get(f.os))))
		},
		"device-registration-policy-changed": func(r *record.Record, a *alert.Alert) {
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
		},
		"noncompliant-device-signin": func(r *record.Record, a *alert.Alert) {
			f.signinEntities(r, a)
			a.Summary = fmt.Sprintf("%s signed in to %s from non-compliant device %s (%s) at %s",
				orUnknown(a.Entities.User), orUnknown(record.Text(r.Get(f.app))), orUnknown(deviceLabel(a)), orUnknown(record.Text(r.Get(f.os))), orUnknown(a.Entities.IP))
		},
		"unknown-device-signin": func(r *record.Record, a *alert.Alert) {
			f.signinEntities(r, a)
			a.Summary = fmt.Sprintf("%s signed in to %s with a single factor from an unknown device (%s, %s) at %s",
				orUnknown(a.Entities.User), orUnknown(record.Text(r.Get(f.app))), orUnknown(record.Text(r.Get(f.os))), orUnknown(record.Text(r.Get(f.browser))), orUnknown(a.Entities.IP))
		},
		"bitlocker-key-read": func(r *record.Record, a *alert.Alert) {
			f.auditEntities(r, a)
			key, device := f.bitlockerTarget(r, a)
			res := record.Text(r.Get(f.result))
			verb := "read"
			if strings.EqualFold(res, "failure") {
				verb = "tried and failed to read"
			}
			a.Summary = fmt.Sprintf("%s %s BitLocker recovery key %s of device %s from %s", orUnknown(a.Entities.User), verb, orUnknown(key), orUnknown(device), orUnknown(a.Entities.IP))
		},
		"privileged-device-role-added": func(r *record.Record, a *alert.Alert) {
			f.auditEntities(r, a)
			role, member := f.roleTarget(r)
			a.Details = append(a.Details, alert.Detail{Name: "role", Value: role}, alert.Detail{Name: "member", Value: member})
			eligible := ""
			if strings.Contains(strings.ToLower(record.Text(r.Get(f.op))), "eligible") {
				eligible = " as eligible"
			}
			a.Summary = fmt.Sprintf("%s added %s to %s%s", orUnknown(a.Entities.User), orUnknown(member), role, eligible)
		},
	}
}()

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
