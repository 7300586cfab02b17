package graphsim

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// mutation is a change of state (devices, role assignments, registration
// policy) due at a time.
type mutation struct {
	at    time.Time
	apply func(t *Tenant)
}

// Offsets of the threat cycle's steps from the cycle's start. All threat
// records fall within the first 40 seconds; the clean-up steps are
// fractions of ThreatEvery, which is at least MinThreatEvery.
const (
	offRegister      = 6 * time.Second
	offNoncompliant  = 12 * time.Second
	offNoncompSignIn = 14 * time.Second
	offUnknownDevice = 20 * time.Second
	offBitLocker     = 26 * time.Second
	offRoleGA        = 32 * time.Second
	offRoleCDA       = 34 * time.Second
)

func floorDiv(a, b time.Duration) int64 {
	q := int64(a / b)
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (t *Tenant) tickBase(n int64) time.Time {
	return t.t0.Add(time.Duration(n) * t.opts.TrafficEvery)
}

func (t *Tenant) cycleStart(k int64) time.Time {
	return t.t0.Add(FirstThreatAfter + time.Duration(k)*t.opts.ThreatEvery)
}

func (t *Tenant) stepLocked(now time.Time) {
	if !t.stepped.IsZero() && !now.After(t.stepped) {
		return
	}
	t.stepped = now
	floor := now.Add(-t.opts.Retention)
	// Skip what would be pruned at once, so that a clock jump costs
	// nothing.
	if n := floorDiv(floor.Sub(t.t0), t.opts.TrafficEvery) - 1; t.nextTick < n {
		t.nextTick = n
	}
	for !t.tickBase(t.nextTick).After(now) {
		t.genTick(t.nextTick)
		t.nextTick++
	}
	if k := floorDiv(floor.Sub(t.t0)-FirstThreatAfter, t.opts.ThreatEvery) - 1; t.nextCyc < k {
		t.nextCyc = k
	}
	for !t.cycleStart(t.nextCyc).After(now) {
		t.genCycle(t.nextCyc)
		t.nextCyc++
	}
	i := 0
	for ; i < len(t.pending) && !t.pending[i].at.After(now); i++ {
		t.pending[i].apply(t)
	}
	t.pending = t.pending[i:]
	t.signIns.prune(floor)
	t.audits.prune(floor)
	t.devices.prune(floor)
	kept := t.threats[:0]
	for _, th := range t.threats {
		if th.Cycle == 0 || !th.At.Before(floor) {
			kept = append(kept, th)
		}
	}
	t.threats = kept
}

// schedule queues a state change at at, after those queued for the same
// time.
func (t *Tenant) schedule(at time.Time, f func(t *Tenant)) {
	m := mutation{at: at, apply: f}
	i := sort.Search(len(t.pending), func(i int) bool { return t.pending[i].at.After(at) })
	t.pending = append(t.pending, mutation{})
	copy(t.pending[i+1:], t.pending[i:])
	t.pending[i] = m
}

// visibility returns when a record at at appears in listings.
func (t *Tenant) visibility(rng *rand.Rand, at time.Time) time.Time {
	if t.opts.LateFraction > 0 && rng.Float64() < t.opts.LateFraction {
		return at.Add(t.opts.LateBy)
	}
	return at
}

func (t *Tenant) addSignIn(rng *rand.Rand, s *signIn, at time.Time) time.Time {
	vis := t.visibility(rng, at)
	t.signIns.add(entry{at: at, visible: vis, id: s.ID, eventType: s.SignInEventTypes[0], raw: mustJSON(s)})
	return vis
}

func (t *Tenant) addAudit(rng *rand.Rand, a *directoryAudit, at time.Time) time.Time {
	vis := t.visibility(rng, at)
	t.audits.add(entry{at: at, visible: vis, id: a.ID, raw: mustJSON(a)})
	return vis
}

// at100ns rounds a time to Graph's precision.
func at100ns(t time.Time) time.Time { return t.Truncate(100 * time.Nanosecond) }

// genTick generates the ordinary traffic of interval n: one sign-in and,
// about one time in three, a benign audit.
func (t *Tenant) genTick(n int64) {
	rng := newRNG(t.opts.Seed, "tick", n)
	base := t.tickBase(n)
	jitter := func() time.Time { return at100ns(base.Add(time.Duration(rng.Int64N(int64(t.opts.TrafficEvery))))) }
	at := jitter()
	u := t.org.ordinary[rng.IntN(len(t.org.ordinary))]
	t.addSignIn(rng, t.ordinarySignIn(rng, at, u), at)
	if rng.Float64() < 0.3 {
		at := jitter()
		t.addAudit(rng, t.ordinaryAudit(rng, at), at)
	}
}

// genCycle generates threat cycle k (numbered k+1 in Threat.Cycle): its
// records, and the state changes that go with them.
func (t *Tenant) genCycle(k int64) {
	rng := newRNG(t.opts.Seed, "cycle", k)
	start := t.cycleStart(k)
	cycle := int(k) + 1
	every := t.opts.ThreatEvery
	o := t.org
	perm := rng.Perm(len(o.regular))
	registrant, unknownUser, reader, promoted := o.regular[perm[0]], o.regular[perm[1]], o.regular[perm[2]], o.regular[perm[3]]
	admin := o.users[userITAdmin]
	attackerIP := fmt.Sprintf("203.0.113.%d", 10+rng.IntN(200))
	add := func(th Threat) {
		th.Cycle = cycle
		t.threats = append(t.threats, th)
	}

	// (2) MFA for registration switched off, without any audit record,
	// and back on half a cycle later.
	until := start.Add(every / 2)
	t.schedule(start, func(t *Tenant) { t.mfaReq = false })
	t.schedule(until, func(t *Tenant) { t.mfaReq = true })
	add(Threat{Rule: RuleRegistrationMFAOff, At: start, VisibleAt: start, Until: until, Path: PathRegistrationPolicy, RecordID: "deviceRegistrationPolicy",
		Summary: "deviceRegistrationPolicy.multiFactorAuthConfiguration switched to notRequired without an audit record; no Conditional Access policy covers \"Register or join devices\""})

	// (1) A device registered with a single factor.
	at := at100ns(start.Add(offRegister).Add(time.Duration(rng.IntN(1000)) * time.Millisecond))
	model := []string{"SM-A546B", "SM-G991B", "Pixel 8"}[rng.IntN(3)]
	newDev := &device{
		id: newGUID(rng), deviceID: newGUID(rng), displayName: model, os: "Android", osVersion: "14.0", trustType: trustWorkplace,
		ownership: "Personal", manufacturer: "samsung", model: model, enrollmentType: "UserEnrollment", accountEnabled: true,
		registered: at.Add(time.Second).Truncate(time.Second), lastSignIn: at.Add(time.Second).Truncate(time.Second), owner: registrant,
	}
	if model == "Pixel 8" {
		newDev.manufacturer = "Google"
	}
	si := t.signIn(rng, signInArgs{
		at: at, u: registrant, app: appDRS, ip: attackerIP, place: placeAttacker, os: "Android", browser: "Rich Client 4.61.0.0",
		userAgent: userAgents["Android"], interactive: true,
	})
	vis := t.addSignIn(rng, si, at)
	corr := newGUID(rng)
	aAt := at100ns(at.Add(900 * time.Millisecond))
	drs := t.drsInitiator()
	reg := t.audit(rng, corr, aAt, "Device", "Register device", drsName, "Add", drs,
		[]targetResource{deviceTarget(newDev, nil)},
		[]keyValue{{"AccountType", "User"}, {"DeviceId", newDev.deviceID}, {"DeviceOSType", "Android"}, {"DeviceOSVersion", newDev.osVersion}, {"DeviceTrustType", "Workplace"}, {"UserPrincipalName", registrant.upn}})
	t.addAudit(rng, reg, aAt)
	addDev := t.audit(rng, corr, aAt, "Device", "Add device", "Core Directory", "Add", drs,
		[]targetResource{deviceTarget(newDev, []modifiedProperty{
			added("AccountEnabled", "[true]"), added("DeviceId", jsonList(newDev.deviceID)), added("DisplayName", jsonList(newDev.displayName)),
			added("DeviceOSType", jsonList("Android")), added("DeviceTrustType", jsonList("Workplace")),
			{DisplayName: "Included Updated Properties", OldValue: ptr(""), NewValue: ptr(`"AccountEnabled, DeviceId, DisplayName, DeviceOSType, DeviceTrustType"`)},
		})}, nil)
	t.addAudit(rng, addDev, aAt)
	oAt := at100ns(aAt.Add(400 * time.Millisecond))
	owner := t.audit(rng, corr, oAt, "Device", "Add registered owner to device", "Core Directory", "Assign", drs,
		[]targetResource{deviceTarget(newDev, nil), userTarget(registrant, nil)}, nil)
	t.addAudit(rng, owner, oAt)
	t.schedule(aAt, func(t *Tenant) { t.devices.add(newDev) })
	add(Threat{Rule: RuleRegistrationWithoutMFA, At: at, VisibleAt: vis, Path: PathSignIns, RecordID: si.ID,
		Related: []string{reg.ID, addDev.ID, owner.ID, newDev.id},
		Summary: fmt.Sprintf("%s registered device %s with a single factor from %s", registrant.upn, newDev.displayName, attackerIP)})
	delAt := at100ns(start.Add(every * 8 / 10))
	del := t.audit(rng, newGUID(rng), delAt, "Device", "Delete device", "Core Directory", "Delete", t.userInitiator(o.users[userDeviceAdm], officeIP(rng)),
		[]targetResource{deviceTarget(newDev, nil)}, nil)
	t.addAudit(rng, del, delAt)
	t.schedule(delAt, func(t *Tenant) { t.devices.remove(newDev.id, delAt) })

	// (3) A managed device turns non-compliant, and its owner still signs
	// in through Conditional Access.
	victim := o.victimDev
	ncAt := at100ns(start.Add(offNoncompliant))
	nc := t.audit(rng, newGUID(rng), ncAt, "Device", "Device no longer compliant", "Core Directory", "Update", t.intuneInitiator(),
		[]targetResource{deviceTarget(victim, nil)}, nil)
	t.addAudit(rng, nc, ncAt)
	t.schedule(ncAt, func(t *Tenant) { t.devices.update(victim.id, func(d *device) { d.compliant = false }) })
	t.schedule(start.Add(every*7/10), func(t *Tenant) { t.devices.update(victim.id, func(d *device) { d.compliant = true }) })
	at = at100ns(start.Add(offNoncompSignIn).Add(time.Duration(rng.IntN(1000)) * time.Millisecond))
	si = t.signIn(rng, signInArgs{
		at: at, u: victim.owner, app: appTeams, ip: homeIP(victim.owner), place: placeHome, dev: victim, compliant: ptr(false),
		interactive: true, mfa: true,
	})
	vis = t.addSignIn(rng, si, at)
	add(Threat{Rule: RuleNoncompliantSignIn, At: at, VisibleAt: vis, Path: PathSignIns, RecordID: si.ID, Related: []string{nc.ID, victim.id},
		Summary: fmt.Sprintf("%s signed in to Microsoft Teams from non-compliant device %s", victim.owner.upn, victim.displayName)})

	// (4) A single-factor sign-in from an unknown device outside any
	// named location.
	at = at100ns(start.Add(offUnknownDevice).Add(time.Duration(rng.IntN(1000)) * time.Millisecond))
	si = t.signIn(rng, signInArgs{
		at: at, u: unknownUser, app: appEdge, ip: attackerIP, place: placeAttacker, os: "Windows10", browser: "Chrome 131.0.0",
		userAgent: userAgents["Chrome"], interactive: true,
	})
	vis = t.addSignIn(rng, si, at)
	add(Threat{Rule: RuleUnknownDeviceSignIn, At: at, VisibleAt: vis, Path: PathSignIns, RecordID: si.ID,
		Summary: fmt.Sprintf("%s signed in with a single factor from an unknown device at %s", unknownUser.upn, attackerIP)})

	// (5) A BitLocker recovery key read.
	var laptops []*device
	for _, d := range o.devices {
		if d.trustType == trustAzureAd && d.owner != nil && d != victim {
			laptops = append(laptops, d)
		}
	}
	target := laptops[rng.IntN(len(laptops))]
	at = at100ns(start.Add(offBitLocker).Add(time.Duration(rng.IntN(1000)) * time.Millisecond))
	keyID := newGUID(rng)
	bl := t.audit(rng, newGUID(rng), at, "KeyManagement", "Read BitLocker key", drsName, "Read", t.userInitiator(reader, attackerIP),
		[]targetResource{{ID: keyID, DisplayName: ptr(keyID), Type: "Other", ModifiedProperties: []modifiedProperty{}}},
		[]keyValue{{"DeviceId", target.deviceID}, {"DeviceName", target.displayName}})
	vis = t.addAudit(rng, bl, at)
	add(Threat{Rule: RuleBitLockerKeyRead, At: at, VisibleAt: vis, Path: PathDirectoryAudits, RecordID: bl.ID, Related: []string{target.id},
		Summary: fmt.Sprintf("%s read BitLocker recovery key %s of %s", reader.upn, keyID, target.displayName)})

	// (6) A user added to Global Administrator and Cloud Device
	// Administrator; the assignments are removed late in the cycle.
	for _, r := range []struct {
		role string
		off  time.Duration
	}{{RoleGlobalAdministrator, offRoleGA}, {RoleCloudDeviceAdministrator, offRoleCDA}} {
		role := r.role
		at = at100ns(start.Add(r.off).Add(time.Duration(rng.IntN(1000)) * time.Millisecond))
		a := t.audit(rng, newGUID(rng), at, "RoleManagement", "Add member to role", "Core Directory", "Assign", t.userInitiator(admin, attackerIP),
			[]targetResource{userTarget(promoted, t.roleProps(role, false))}, nil)
		vis = t.addAudit(rng, a, at)
		t.schedule(at, func(t *Tenant) { t.roles.add(promoted.id, role) })
		add(Threat{Rule: RulePrivilegedRoleAdded, At: at, VisibleAt: vis, Path: PathDirectoryAudits, RecordID: a.ID, Related: []string{assignmentID(promoted.id, role)},
			Summary: fmt.Sprintf("%s added %s to %s", admin.upn, promoted.upn, roleName(role))})
		rmAt := at100ns(start.Add(every * 85 / 100).Add(r.off - offRoleGA))
		rm := t.audit(rng, newGUID(rng), rmAt, "RoleManagement", "Remove member from role", "Core Directory", "Unassign", t.userInitiator(admin, officeIP(rng)),
			[]targetResource{userTarget(promoted, t.roleProps(role, true))}, nil)
		t.addAudit(rng, rm, rmAt)
		t.schedule(rmAt, func(t *Tenant) { t.roles.remove(promoted.id, role) })
	}
}

func sortThreats(ts []Threat) {
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].At.Before(ts[j].At) })
}
