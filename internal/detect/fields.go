package detect

import (
	"strings"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/valyala/fastjson"
)

// fields are the compiled fields the built-in detections describe alerts
// with; compiled once through the shared compiler.
type fields struct {
	upn, ip, deviceID, deviceName, os, browser, app, authReq *record.Field
	op, result, initiatedBy, targets, additional             *record.Field
	accountEnabled, lastSignIn, registered, displayName      *record.Field
	trustType, physicalIDs, mfaConfig                        *record.Field
	devDeviceID, devOS                                       *record.Field // of a Graph device object
	caState, caActions, caBuiltIn, caStrength, caName        *record.Field

	relUser, relApp, relUPN, relIP, relDisplay, relSPN, relID *record.Rel
	relType, relModified, relNew, relOld, relKey, relValue    *record.Rel
}

func newFields(c *rule.Compiler) *fields {
	return &fields{
		upn: c.Field("UserPrincipalName"), ip: c.Field("IPAddress"),
		deviceID: c.Field("DeviceDetail.deviceId"), deviceName: c.Field("DeviceDetail.displayName"),
		os: c.Field("DeviceDetail.operatingSystem"), browser: c.Field("DeviceDetail.browser"),
		app: c.Field("AppDisplayName"), authReq: c.Field("AuthenticationRequirement"),
		op: c.Field("OperationName"), result: c.Field("Result"), initiatedBy: c.Field("InitiatedBy"),
		targets: c.Field("TargetResources"), additional: c.Field("AdditionalDetails"),
		accountEnabled: c.Field("accountEnabled"), lastSignIn: c.Field("approximateLastSignInDateTime"),
		registered: c.Field("registrationDateTime"), displayName: c.Field("displayName"),
		trustType: c.Field("trustType"), physicalIDs: c.Field("physicalIds"), mfaConfig: c.Field("multiFactorAuthConfiguration"),
		devDeviceID: c.Field("deviceId"), devOS: c.Field("operatingSystem"),
		caState: c.Field("state"), caActions: c.Field("conditions.applications.includeUserActions"),
		caBuiltIn: c.Field("grantControls.builtInControls"), caStrength: c.Field("grantControls.authenticationStrength"),
		caName: c.Field("displayName"),

		relUser: record.CompileRel("user"), relApp: record.CompileRel("app"), relUPN: record.CompileRel("userPrincipalName"),
		relIP: record.CompileRel("ipAddress"), relDisplay: record.CompileRel("displayName"), relSPN: record.CompileRel("servicePrincipalName"),
		relID: record.CompileRel("id"), relType: record.CompileRel("type"), relModified: record.CompileRel("modifiedProperties"),
		relNew: record.CompileRel("newValue"), relOld: record.CompileRel("oldValue"), relKey: record.CompileRel("key"), relValue: record.CompileRel("value"),
	}
}

// signinEntities fills the entities of a sign-in alert.
func (f *fields) signinEntities(r *record.Record, a *alert.Alert) {
	a.Entities.User = record.Text(r.Get(f.upn))
	a.Entities.IP = record.Text(r.Get(f.ip))
	a.Entities.DeviceID = record.Text(r.Get(f.deviceID))
	a.Entities.DeviceName = record.Text(r.Get(f.deviceName))
}

// auditEntities fills the actor of an audit alert: the user (UPN, IP), or
// else the app that acted.
func (f *fields) auditEntities(r *record.Record, a *alert.Alert) {
	ib := r.Get(f.initiatedBy)
	if u := r.GetFrom(ib, f.relUser); !record.IsEmpty(u) {
		a.Entities.User = record.Text(r.GetFrom(u, f.relUPN))
		if a.Entities.User == "" {
			a.Entities.User = record.Text(r.GetFrom(u, f.relDisplay))
		}
		if a.Entities.User == "" {
			a.Entities.User = record.Text(r.GetFrom(u, f.relID))
		}
		a.Entities.IP = record.Text(r.GetFrom(u, f.relIP))
	}
	if a.Entities.User == "" {
		if app := r.GetFrom(ib, f.relApp); !record.IsEmpty(app) {
			name := record.Text(r.GetFrom(app, f.relDisplay))
			if name == "" {
				name = record.Text(r.GetFrom(app, f.relSPN))
			}
			if name != "" {
				a.Entities.User = "app " + name
			}
		}
	}
	if a.Entities.IP == "" {
		a.Entities.IP = record.Text(r.Get(f.ip))
	}
}

type change struct{ name, old, new string }

// modified lists the modified properties of the record's targets, of
// targets of type typ when typ is set.
func (f *fields) modified(r *record.Record, typ string) []change {
	var out []change
	for _, t := range r.Elements(r.Get(f.targets)) {
		if typ != "" && !record.EqualFold(r.GetFrom(t, f.relType), typ) {
			continue
		}
		for _, m := range r.Elements(r.GetFrom(t, f.relModified)) {
			name := record.Text(r.GetFrom(m, f.relDisplay))
			if name == "" || strings.EqualFold(name, "Included Updated Properties") {
				continue
			}
			out = append(out, change{name: name, old: record.Text(r.GetFrom(m, f.relOld)), new: record.Text(r.GetFrom(m, f.relNew))})
		}
	}
	return out
}

// bitlockerTarget finds the key id and the device of a "Read BitLocker
// key" record. Microsoft's hunting query takes the key id from the first
// target's display name; the device may appear as a Device target or in
// additionalDetails.
func (f *fields) bitlockerTarget(r *record.Record, a *alert.Alert) (key, device string) {
	for i, t := range r.Elements(r.Get(f.targets)) {
		typ := record.Text(r.GetFrom(t, f.relType))
		name := record.Text(r.GetFrom(t, f.relDisplay))
		id := record.Text(r.GetFrom(t, f.relID))
		switch {
		case strings.EqualFold(typ, "Device"):
			a.Entities.DeviceName, a.Entities.DeviceID = firstNonEmpty(a.Entities.DeviceName, name), firstNonEmpty(a.Entities.DeviceID, id)
		case i == 0 || key == "":
			key = firstNonEmpty(name, id)
		}
	}
	for _, kv := range r.Elements(r.Get(f.additional)) {
		k := strings.ToLower(strings.ReplaceAll(record.Text(r.GetFrom(kv, f.relKey)), " ", ""))
		v := record.Text(r.GetFrom(kv, f.relValue))
		switch {
		case v == "":
		case k == "deviceid" || k == "device_id":
			a.Entities.DeviceID = firstNonEmpty(a.Entities.DeviceID, v)
		case k == "devicename" || k == "devicedisplayname" || k == "device":
			a.Entities.DeviceName = firstNonEmpty(a.Entities.DeviceName, v)
		case k == "keyid" || k == "recoverykeyid" || k == "bitlockerkeyid":
			key = firstNonEmpty(key, v)
		}
	}
	if key != "" {
		a.Details = append(a.Details, alert.Detail{Name: "key_id", Value: key})
	}
	return key, deviceLabel(a)
}

// roleTarget returns the watched role a role-assignment record grants and
// the member it grants it to. The member is the User, ServicePrincipal or
// Group target; PIM records also carry Request, Directory and Other
// targets, which are never the member (the Request target comes before
// the User one).
func (f *fields) roleTarget(r *record.Record) (role, member string) {
	fallback := ""
	for _, t := range r.Elements(r.Get(f.targets)) {
		typ := record.Text(r.GetFrom(t, f.relType))
		if strings.EqualFold(typ, "Role") {
			for _, rel := range []*record.Rel{f.relID, f.relDisplay} {
				if n, ok := watchedRoles[strings.ToLower(record.Text(r.GetFrom(t, rel)))]; ok && role == "" {
					role = n
				}
			}
			continue
		}
		for _, m := range r.Elements(r.GetFrom(t, f.relModified)) {
			if n, ok := watchedRoles[strings.ToLower(record.Text(r.GetFrom(m, f.relNew)))]; ok && role == "" {
				role = n
			}
		}
		name := firstNonEmpty(record.Text(r.GetFrom(t, f.relUPN)), record.Text(r.GetFrom(t, f.relDisplay)), record.Text(r.GetFrom(t, f.relID)))
		switch strings.ToLower(typ) {
		case "user", "serviceprincipal", "group":
			if member == "" {
				member = name
			}
		case "other", "request", "directory":
		default:
			if fallback == "" {
				fallback = name
			}
		}
	}
	return orUnknown(role), firstNonEmpty(member, fallback)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}

// containsFold reports whether the array value v (or JSON text of one)
// holds s.
func containsFold(r *record.Record, v *fastjson.Value, s string) bool {
	for _, e := range r.Elements(v) {
		if record.EqualFold(e, s) {
			return true
		}
	}
	return false
}
