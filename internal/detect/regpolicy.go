package detect

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
)

// UserActionRegisterDevice is the Conditional Access user action "Register
// or join devices".
const UserActionRegisterDevice = "urn:user:registerdevice"

// registrationMFA decides, once every record is seen, whether the tenant
// requires MFA to register or join devices: through the deviceRegistrationPolicy
// setting, or through an enabled Conditional Access policy for the user
// action, which Microsoft recommends instead (with the setting off).
type registrationMFA struct {
	base
	f   *fields
	now time.Time

	mu       sync.Mutex
	policies []*alert.Alert // one per policy record with MFA off
	caSeen   int
	covering []string
}

func newRegistrationMFA(f *fields, opts Options) *registrationMFA {
	return &registrationMFA{f: f, now: opts.Now, base: base{info: Info{
		ID: "device-registration-mfa-not-required", Title: "MFA not required to register or join devices", Severity: alert.High,
		Source: "Graph deviceRegistrationPolicy and Conditional Access policies", Technique: techDeviceReg,
		Kinds: kinds(record.KindRegistrationPolicy, record.KindCAPolicy), Stateful: true,
		Description: "The deviceRegistrationPolicy does not require MFA (multiFactorAuthConfiguration notRequired, or the legacy 0) and no enabled Conditional Access policy scanned in the same run requires MFA or an authentication strength for the user action \"Register or join devices\" (" + UserActionRegisterDevice + "). Switching the protection off writes no audit record, so the policy state itself is the evidence; when no Conditional Access export was scanned, the alert says such a policy could not be ruled out.",
		Next:        "Create (or re-enable) a Conditional Access policy that requires MFA for the user action \"Register or join devices\", as Microsoft recommends; leave the tenant setting off when you do. Then review the devices registered since the protection went away (device-registration-without-mfa).",
	}}}
}

func (d *registrationMFA) Detect(r *record.Record, emit func(*alert.Alert)) {
	switch r.Kind {
	case record.KindRegistrationPolicy:
		v := r.Get(d.f.mfaConfig)
		if !(record.EqualFold(v, "notRequired") || record.EqualFold(v, "0")) {
			return
		}
		a := d.newAlert(r, "")
		a.Time = d.now
		a.Details = append(a.Details, alert.Detail{Name: "multiFactorAuthConfiguration", Value: record.Text(v)})
		d.mu.Lock()
		d.policies = append(d.policies, a)
		d.mu.Unlock()
	case record.KindCAPolicy:
		covers := record.EqualFold(r.Get(d.f.caState), "enabled") &&
			containsFold(r, r.Get(d.f.caActions), UserActionRegisterDevice) &&
			(containsFold(r, r.Get(d.f.caBuiltIn), "mfa") || !record.IsEmpty(r.Get(d.f.caStrength)))
		d.mu.Lock()
		d.caSeen++
		if covers {
			d.covering = append(d.covering, record.Text(r.Get(d.f.caName)))
		}
		d.mu.Unlock()
	}
}

func (d *registrationMFA) Finish(emit func(*alert.Alert)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.covering) > 0 {
		return
	}
	sort.Slice(d.policies, func(i, j int) bool {
		a, b := d.policies[i].Source, d.policies[j].Source
		return a.File < b.File || a.File == b.File && a.Line < b.Line
	})
	for _, a := range d.policies {
		why := "no Conditional Access policy export was scanned, so a policy requiring MFA for the user action \"Register or join devices\" could not be ruled out"
		if d.caSeen > 0 {
			why = fmt.Sprintf("none of the %d Conditional Access policies scanned requires MFA for the user action \"Register or join devices\"", d.caSeen)
		}
		cfg := ""
		for _, det := range a.Details {
			if det.Name == "multiFactorAuthConfiguration" {
				cfg = det.Value
			}
		}
		a.Summary = fmt.Sprintf("the device registration policy does not require MFA to register or join devices (multiFactorAuthConfiguration %s) and %s", strings.TrimSpace(cfg), why)
		emit(a)
	}
	d.policies = nil
}

var (
	_ Detector = (*registrationMFA)(nil)
	_ Finisher = (*registrationMFA)(nil)
)
