package graphsim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Role template ids (equal to the role definition ids of built-in roles).
const (
	RoleGlobalAdministrator      = "62e90394-69f5-4237-9190-012177145e10"
	RoleCloudDeviceAdministrator = "7698a772-787b-4ac8-901f-60d6b08affd2"
	// Domain is the simulated organisation's domain (a reserved name).
	Domain = "contoso.example"
	// DeviceRegistrationServiceAppID is the Device Registration Service's app id.
	DeviceRegistrationServiceAppID = "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9"
)

const (
	intuneAppID         = "0000000a-0000-0000-c000-000000000000"
	graphResourceAppID  = "00000003-0000-0000-c000-000000000000"
	authBrokerAppID     = "29d9ed98-a469-4536-ade2-f981bc1d605e"
	drsName             = "Device Registration Service"
	trustAzureAd        = "AzureAd"
	trustServerAd       = "ServerAd"
	trustWorkplace      = "Workplace"
	graphDeviceTimeFmt  = "2006-01-02T15:04:05Z"
	graphRecordTimeFmt  = "2006-01-02T15:04:05.0000000Z"
	officeNetworkName   = "Contoso HQ"
	roleNameGA          = "Global Administrator"
	roleNameCDA         = "Cloud Device Administrator"
	roleWellKnownNameGA = "TenantAdmins"
)

// user is a member of the simulated organisation.
type user struct {
	id, displayName, given, surname, upn, jobTitle string
	// device is the user's own device, used in ordinary sign-ins; nil
	// when the user signs in from browsers only.
	device *device
	// ordinary users appear in ordinary traffic.
	ordinary bool
	admin    bool
}

// device is one device object of the inventory.
type device struct {
	id, deviceID, displayName, os, osVersion, trustType string
	ownership, manufacturer, model, enrollmentType      string
	mdm, compliant, managed, accountEnabled, onPrem     bool
	autopilot                                           bool
	lastSignIn, registered                              time.Time // lastSignIn zero: never (null)
	stale                                               bool
	owner                                               *user

	version uint64 // inventory version of the last change
	deleted bool
}

// org is the fixed part of the simulated organisation.
type org struct {
	users      []*user
	byRole     map[string][]*user // initial active role holders
	ordinary   []*user
	regular    []*user // candidates for threat actors
	devices    []*device
	victimDev  *device // the device that turns non-compliant in each cycle
	roleObject map[string]string
	eligible   []eligibility
	drsSPID    string // Device Registration Service service principal id
	intuneSPID string
	caPolicies [][]byte // the Conditional Access policies' JSON
	caIDs      map[int]string
}

type eligibility struct {
	id, principalID, roleID string
	created                 time.Time
}

var (
	firstNames = []string{"Alex", "Avery", "Blake", "Cameron", "Casey", "Dakota", "Drew", "Emerson", "Finley", "Harper", "Hayden", "Jamie", "Jordan",
		"Kai", "Lane", "Logan", "Morgan", "Parker", "Quinn", "Reese", "Riley", "Rowan", "Sage", "Skyler", "Taylor", "Robin"}
	surnames = []string{"Ash", "Birch", "Cedar", "Elm", "Fern", "Alder", "Juniper", "Larch", "Maple", "Oak", "Pine", "Spruce", "Willow",
		"Aspen", "Cypress", "Hawthorn", "Holly", "Laurel", "Linden", "Poplar", "Sequoia", "Yew", "Beech", "Hemlock", "Sorrel", "Briar"}
	jobTitles = []string{"Account Manager", "Analyst", "Designer", "Engineer", "Sales Representative", "Accountant", "Project Manager", "Support Specialist"}
)

// newRNG returns the random source of one labelled part of the simulation
// (the organisation, traffic interval n, threat cycle n), so that every
// part is the same however the simulation is stepped.
func newRNG(seed int64, label string, n int64) *rand.Rand {
	h := sha256.Sum256(fmt.Appendf(nil, "graphsim|%d|%s|%d", seed, label, n))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
}

// newGUID draws a random (version 4) GUID from rng.
func newGUID(rng *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// seedGUID is a GUID derived from the seed and a label.
func seedGUID(seed int64, label string) string { return newGUID(newRNG(seed, label, 0)) }

// deviceSpec describes one device of the inventory; ages are in days
// before the start (lastAgo < 0: never signed in).
type deviceSpec struct {
	name, os, osVersion, trust string
	owner                      int
	compliant, enabled         bool
	lastAgo, regAgo            int
	autopilot, stale           bool
	manufacturer, model        string
}

// The organisation: users 0-3 are administrators, 4-29 regular users; user
// 29 owns the laptop that turns non-compliant in each threat cycle and has
// no ordinary traffic.
const (
	userITAdmin    = 0
	userBreakGlass = 1
	userDeviceAdm  = 2
	userHelpdesk   = 3
	firstRegular   = 4
	victimOwner    = 29
	numUsers       = 30
)

var deviceSpecs = []deviceSpec{
	{"CONTOSO-LT-0101", "Windows", "10.0.22631.4460", trustAzureAd, 4, true, true, 2, 410, true, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-LT-0102", "Windows", "10.0.22631.4460", trustAzureAd, 5, true, true, 1, 380, false, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-LT-0103", "Windows", "10.0.22631.4460", trustAzureAd, 6, true, true, 4, 350, false, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-LT-0104", "Windows", "10.0.22631.4317", trustAzureAd, 7, true, true, 6, 330, false, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-LT-0105", "Windows", "10.0.22631.4317", trustAzureAd, 8, true, true, 3, 300, false, false, "Contoso Hardware", "Laptop 15"},
	{"CONTOSO-LT-0106", "Windows", "10.0.26100.2314", trustAzureAd, 9, true, true, 9, 280, false, false, "Contoso Hardware", "Laptop 15"},
	{"CONTOSO-LT-0107", "Windows", "10.0.26100.2314", trustAzureAd, 10, true, true, 12, 260, false, false, "Contoso Hardware", "Laptop 15"},
	{"CONTOSO-LT-0108", "Windows", "10.0.26100.2314", trustAzureAd, 11, true, true, 5, 240, false, false, "Contoso Hardware", "Laptop 15"},
	{"CONTOSO-LT-0109", "Windows", "10.0.22631.4460", trustAzureAd, 12, true, true, 7, 220, false, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-LT-0110", "Windows", "10.0.22631.4460", trustAzureAd, 13, true, true, 2, 200, false, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-LT-0111", "Windows", "10.0.22631.4460", trustAzureAd, 14, true, true, 8, 180, false, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-LT-0112", "Windows", "10.0.22631.4460", trustAzureAd, 15, true, true, 11, 160, false, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-LT-0117", "Windows", "10.0.22631.4460", trustAzureAd, victimOwner, true, true, 3, 150, false, false, "Contoso Hardware", "Laptop 14"},
	{"CONTOSO-DT-0021", "Windows", "10.0.19045.5131", trustServerAd, 16, true, true, 5, 700, false, false, "Contoso Hardware", "Desktop 5"},
	{"CONTOSO-DT-0022", "Windows", "10.0.19045.5131", trustServerAd, 17, true, true, 9, 690, false, false, "Contoso Hardware", "Desktop 5"},
	{"CONTOSO-DT-0007", "Windows", "10.0.19045.4046", trustServerAd, -1, true, true, 150, 900, false, true, "Contoso Hardware", "Desktop 3"},
	{"CONTOSO-DT-0003", "Windows", "10.0.19044.2965", trustServerAd, -1, false, false, 210, 1100, false, false, "Contoso Hardware", "Desktop 3"},
	{"CONTOSO-MB-0004", "MacMDM", "14.6.1", trustWorkplace, 18, true, true, 4, 300, false, false, "Apple", "MacBookPro18,3"},
	{"CONTOSO-MB-0005", "MacMDM", "15.1.1", trustWorkplace, 19, true, true, 6, 120, false, false, "Apple", "MacBookAir10,1"},
	{"", "iOS", "18.2.1", trustWorkplace, 20, true, true, 2, 90, false, false, "Apple", "iPhone 15"},
	{"", "iOS", "18.1.1", trustWorkplace, 21, true, true, 8, 200, false, false, "Apple", "iPhone 14"},
	{"SM-S918B", "Android", "14.0", trustWorkplace, 22, true, true, 1, 170, false, false, "samsung", "SM-S918B"},
	{"Pixel 7", "Android", "13.0", trustWorkplace, -1, true, true, 130, 500, false, true, "Google", "Pixel 7"},
	{"iPad", "iOS", "17.5.1", trustWorkplace, -1, false, true, 10, 260, false, false, "Apple", "iPad (10th generation)"},
	{"CONTOSO-LT-0150", "Windows", "10.0.26100.2314", trustAzureAd, -1, true, true, -1, 6, false, false, "Contoso Hardware", "Laptop 15"},
}

func newOrg(seed int64, t0 time.Time) *org {
	rng := newRNG(seed, "org", 0)
	o := &org{byRole: map[string][]*user{}, roleObject: map[string]string{}}
	admins := []struct{ first, last, local, title string }{
		{"IT", "Admin", "it.admin", "IT Administrator"},
		{"Break", "Glass", "breakglass", "Emergency Access"},
		{"Device", "Admin", "device.admin", "Endpoint Administrator"},
		{"Helpdesk", "Operator", "helpdesk", "Service Desk"},
	}
	for i := 0; i < numUsers; i++ {
		u := &user{id: newGUID(rng)}
		if i < firstRegular {
			a := admins[i]
			u.given, u.surname, u.jobTitle, u.admin = a.first, a.last, a.title, true
			u.upn = a.local + "@" + Domain
		} else {
			j := i - firstRegular
			u.given, u.surname, u.jobTitle = firstNames[j], surnames[j], jobTitles[j%len(jobTitles)]
			u.upn = strings.ToLower(u.given + "." + u.surname + "@" + Domain)
		}
		u.displayName = u.given + " " + u.surname
		o.users = append(o.users, u)
	}
	day := 24 * time.Hour
	for _, s := range deviceSpecs {
		d := &device{
			id: newGUID(rng), deviceID: newGUID(rng), displayName: s.name, os: s.os, osVersion: s.osVersion, trustType: s.trust,
			compliant: s.compliant, managed: true, mdm: true, accountEnabled: s.enabled, onPrem: s.trust == trustServerAd,
			autopilot: s.autopilot, stale: s.stale, manufacturer: s.manufacturer, model: s.model, ownership: "Company",
			registered: t0.Add(-time.Duration(s.regAgo) * day).Truncate(time.Second).Add(-time.Duration(rng.IntN(86400)) * time.Second),
		}
		if s.lastAgo >= 0 {
			d.lastSignIn = t0.Add(-time.Duration(s.lastAgo) * day).Truncate(time.Second).Add(-time.Duration(rng.IntN(36000)) * time.Second)
		}
		if s.trust == trustWorkplace {
			d.ownership = "Personal"
			if s.os == "MacMDM" {
				d.ownership = "Company"
			}
		}
		if s.owner >= 0 {
			d.owner = o.users[s.owner]
			o.users[s.owner].device = d
		}
		if d.displayName == "" {
			d.displayName = d.owner.given + "'s " + modelFamily(s.model)
		}
		d.enrollmentType = enrollmentFor(d)
		o.devices = append(o.devices, d)
		if s.owner == victimOwner {
			o.victimDev = d
		}
	}
	for i, u := range o.users {
		u.ordinary = i != userBreakGlass && i != victimOwner
		if u.ordinary {
			o.ordinary = append(o.ordinary, u)
		}
		if i >= firstRegular && i != victimOwner {
			o.regular = append(o.regular, u)
		}
	}
	o.byRole[RoleGlobalAdministrator] = []*user{o.users[userITAdmin], o.users[userBreakGlass]}
	o.byRole[RoleCloudDeviceAdministrator] = []*user{o.users[userDeviceAdm]}
	o.roleObject[RoleGlobalAdministrator] = newGUID(rng)
	o.roleObject[RoleCloudDeviceAdministrator] = newGUID(rng)
	o.drsSPID, o.intuneSPID = newGUID(rng), newGUID(rng)
	o.eligible = []eligibility{
		{id: newGUID(rng), principalID: o.users[userHelpdesk].id, roleID: RoleCloudDeviceAdministrator, created: t0.Add(-200 * day).Truncate(time.Second)},
		{id: newGUID(rng), principalID: o.users[userDeviceAdm].id, roleID: RoleGlobalAdministrator, created: t0.Add(-320 * day).Truncate(time.Second)},
	}
	o.caPolicies = caPolicyJSON(rng, o, t0)
	return o
}

func modelFamily(model string) string {
	for _, f := range []string{"iPhone", "iPad"} {
		if strings.HasPrefix(model, f) {
			return f
		}
	}
	return model
}

func enrollmentFor(d *device) string {
	switch {
	case d.autopilot:
		return "WindowsAutoEnrollment"
	case d.trustType == trustAzureAd:
		return "AzureDomainJoined"
	case d.trustType == trustServerAd:
		return "OnPremiseCoManaged"
	}
	return "UserEnrollment"
}

// signInOS is how sign-in logs name a device's operating system.
func signInOS(os string) string {
	switch os {
	case "Windows":
		return "Windows10"
	case "MacMDM":
		return "MacOs"
	case "iOS":
		return "Ios"
	}
	return os
}

// trustDisplay is how sign-in logs name a trust type.
func trustDisplay(trust string) string {
	switch trust {
	case trustAzureAd:
		return "Microsoft Entra joined"
	case trustServerAd:
		return "Microsoft Entra hybrid joined"
	case trustWorkplace:
		return "Microsoft Entra registered"
	}
	return ""
}

// roleName is the display name of a watched role.
func roleName(id string) string {
	if id == RoleGlobalAdministrator {
		return roleNameGA
	}
	return roleNameCDA
}
