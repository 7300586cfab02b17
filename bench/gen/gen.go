// Package gen generates realistic, deterministic Microsoft Entra ID sign-in
// records for entrawatch's benchmarks: Azure Monitor diagnostic-settings
// records (an envelope around a Graph beta signIn "properties" object), or
// Log Analytics SigninLogs / AADNonInteractiveUserSignInLogs rows.
//
// Most sign-ins are benign (MFA, compliant known devices, named networks);
// a small share (about 1.5% each) is built to trigger one of entrawatch's
// stateless sign-in detections, and a few near misses are built to almost
// trigger them. Every record says which scenario produced it, so a harness
// can check that each engine found what it should.
package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Shape selects the record layout.
type Shape int

// Record layouts.
const (
	ShapeDiagnostic   Shape = iota // Azure Monitor diagnostic-settings record (JSON lines, as in PT1H.json)
	ShapeLogAnalytics              // Log Analytics row (PascalCase columns, some dynamic columns as JSON text)
)

// ParseShape reads "diag" or "la".
func ParseShape(s string) (Shape, error) {
	switch strings.ToLower(s) {
	case "diag", "diagnostic", "diagnostic-settings":
		return ShapeDiagnostic, nil
	case "la", "log-analytics", "loganalytics":
		return ShapeLogAnalytics, nil
	}
	return 0, fmt.Errorf("unknown shape %q (want diag or la)", s)
}

// Scenario is the story behind one generated record.
type Scenario int

// Sign-in scenarios. The Trigger* ones must raise exactly one alert of the
// named detection; every other one must raise none. The audit scenarios
// (audit.go) follow.
const (
	BenignInteractiveMFA    Scenario = iota // compliant known device, MFA, named network
	BenignNonInteractive                    // token refresh from a compliant known device
	BenignMobileMFA                         // personal phone (no device id), MFA, outside named networks
	BenignFailure                           // failed sign-in (bad password, MFA required, CA block, KMSI)
	NearMissUnknownNamedNet                 // single factor, unknown device, but from a named network
	NearMissNonCompliantBlk                 // non-compliant device, but Conditional Access failed
	BenignDeviceRegMFA                      // device registration with MFA
	TriggerDeviceRegNoMFA                   // device-registration-without-mfa
	TriggerNonCompliant                     // noncompliant-device-signin
	TriggerUnknownDevice                    // unknown-device-signin
	numSignInScenarios
)

var scenarioNames = [...]string{
	"benign-interactive-mfa", "benign-noninteractive", "benign-mobile-mfa", "benign-failure",
	"nearmiss-unknown-named-network", "nearmiss-noncompliant-ca-failure", "benign-device-registration-mfa",
	"trigger:device-registration-without-mfa", "trigger:noncompliant-device-signin", "trigger:unknown-device-signin",
	"audit:update-user", "audit:add-member-to-group", "audit:update-device", "audit:update-application",
	"audit:user-registered-security-info", "audit:add-service-principal", "audit:add-member-to-other-role",
	"audit:update-conditional-access-policy", "audit:strong-authentication-requirement-removed",
	"audit:pim-device-role-requested",
	"trigger:bitlocker-key-read", "trigger:privileged-device-role-added", "trigger:device-registration-policy-changed",
}

func (s Scenario) String() string { return scenarioNames[s] }

// Rule returns the detection id the scenario must trigger, or "".
func (s Scenario) Rule() string {
	if n := scenarioNames[s]; strings.HasPrefix(n, "trigger:") {
		return n[len("trigger:"):]
	}
	return ""
}

// NumScenarios is the number of scenarios.
const NumScenarios = int(numScenarios)

// weights in tenths of a percent of the sign-ins (audit scenarios: see
// auditWeights).
var weights = [numScenarios]int{
	BenignInteractiveMFA:    415,
	BenignNonInteractive:    320,
	BenignMobileMFA:         100,
	BenignFailure:           80,
	NearMissUnknownNamedNet: 20,
	NearMissNonCompliantBlk: 10,
	BenignDeviceRegMFA:      10,
	TriggerDeviceRegNoMFA:   15,
	TriggerNonCompliant:     15,
	TriggerUnknownDevice:    15,
}

// Well-known ids.
const (
	DeviceRegistrationServiceID = "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9"
	tenantID                    = "3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f"
)

type app struct {
	appID, appName, resID, resName, clientApp string
	mobile                                    bool
}

var apps = []app{
	{"4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", "00000003-0000-0000-c000-000000000000", "Microsoft Graph", "Browser", false},
	{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services", "Mobile Apps and Desktop clients", false},
	{"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", "Mobile Apps and Desktop clients", false},
	{"ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine", "00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", "Mobile Apps and Desktop clients", false},
	{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API", "Browser", false},
	{"ecd6b820-32c2-49b6-98a6-444530e5a77a", "Microsoft Edge", "00000003-0000-0000-c000-000000000000", "Microsoft Graph", "Mobile Apps and Desktop clients", false},
	{"38aa3b87-a06d-4817-b275-7a316988d93b", "Windows Sign In", "00000002-0000-0000-c000-000000000000", "Windows Azure Active Directory", "Mobile Apps and Desktop clients", false},
	{"27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile", "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", "Mobile Apps and Desktop clients", true},
	{"9ba1a5c7-f17a-4de9-a1f1-6178c8d51223", "Microsoft Intune Company Portal", "0000000a-0000-0000-c000-000000000000", "Microsoft Intune", "Mobile Apps and Desktop clients", true},
	{"00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", "Browser", false},
}

var drsApps = []app{
	{"29d9ed98-a469-4536-ade2-f981bc1d605e", "Microsoft Authentication Broker", DeviceRegistrationServiceID, "Device Registration Service", "Mobile Apps and Desktop clients", false},
	{"dd762716-544d-4aeb-a526-687b73838a22", "Device Registration Client", DeviceRegistrationServiceID, "Device Registration Service", "Mobile Apps and Desktop clients", false},
}

type place struct {
	city, state, cc string
	lat, lon        float64
	asn             int
	prefix          string // IPv4 /24 prefix, "a.b.c."
}

var homePlaces = []place{
	{"Seattle", "Washington", "US", 47.6062, -122.3321, 8075, "198.51.100."},
	{"Redmond", "Washington", "US", 47.674, -122.1215, 8075, "198.51.101."},
	{"New York", "New York", "US", 40.7128, -74.006, 7922, "203.0.113."},
	{"Chicago", "Illinois", "US", 41.8781, -87.6298, 7018, "192.0.2."},
	{"London", "England", "GB", 51.5072, -0.1276, 2856, "81.2.69."},
	{"Berlin", "Berlin", "DE", 52.52, 13.405, 3320, "89.160.20."},
	{"Paris", "Ile-De-France", "FR", 48.8566, 2.3522, 3215, "175.16.199."},
	{"Dublin", "Dublin", "IE", 53.3498, -6.2603, 5466, "216.160.83."},
	{"Bengaluru", "Karnataka", "IN", 12.9716, 77.5946, 9498, "67.43.156."},
	{"Sydney", "New South Wales", "AU", -33.8688, 151.2093, 1221, "202.196.224."},
}

var foreignPlaces = []place{
	{"Lagos", "Lagos", "NG", 6.5244, 3.3792, 37148, "102.89.32."},
	{"Sao Paulo", "Sao Paulo", "BR", -23.5505, -46.6333, 28573, "177.37.160."},
	{"Bucharest", "Bucuresti", "RO", 44.4268, 26.1025, 8708, "86.121.4."},
	{"Hanoi", "Ha Noi", "VN", 21.0278, 105.8342, 7552, "113.160.12."},
	{"Amsterdam", "North Holland", "NL", 52.3676, 4.9041, 60781, "185.220.101."},
}

var firstNames = []string{"Adele", "Alex", "Allan", "Bianca", "Christie", "Debra", "Diego", "Emily", "Enrico", "Grady", "Henrietta", "Irvin", "Isaiah", "Johanna", "Joni", "Lee", "Lidia", "Lynne", "Megan", "Miriam", "Nestor", "Patti", "Pradeep", "Raul", "Timothy", "Wenjing", "Yuki", "Zrinka", "Amara", "Kofi"}
var lastNames = []string{"Vance", "Wilber", "Deyoung", "Pisani", "Cline", "Berger", "Siciliani", "Braun", "Bayo", "Archie", "Mueller", "Sink", "Langer", "Lauer", "Sherman", "Gu", "Holloway", "Robbins", "Bowen", "Wilson", "Perkins", "Gupta", "Rodriguez", "Zhang", "Tanaka", "Novak", "Okafor", "Mensah", "Schmidt", "Dubois"}

type device struct {
	id, name, os, trust string
	compliant, managed  bool
	browser             string
	ua                  string
}

type user struct {
	id, upn, name string
	home          int
	guest         bool
	devices       []device
	phoneOS       string
}

var winUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
	"Windows-AzureAD-Authentication-Provider/1.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; WebView/3.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.26100",
}
var macUAs = []string{
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
}
var iosUAs = []string{
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"Outlook-iOS/2.0",
}
var androidUAs = []string{
	"Dalvik/2.1.0 (Linux; U; Android 14; SM-S918B Build/UP1A.231005.007)",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
}

type caPolicy struct {
	id, name  string
	grant     []string
	session   []string
	state     string // enabled, reportOnly, disabled
	forDRS    bool
	forAdmins bool
}

var caPolicies = []caPolicy{
	{"b8c4d6e2-1f3a-4b5c-9d7e-0a1b2c3d4e5f", "CA001: Require multifactor authentication for all users", []string{"Mfa"}, nil, "enabled", false, false},
	{"c2e4a6b8-3d5f-4e7a-8b9c-1d2e3f4a5b6c", "CA002: Block legacy authentication", []string{"Block"}, nil, "enabled", false, false},
	{"d4f6b8a0-5e7a-4f9b-a1c3-2e4f6a8b0c1d", "CA003: Require compliant or hybrid joined device for admins", []string{"RequireCompliantDevice", "RequireDomainJoinedDevice"}, nil, "enabled", false, true},
	{"6701123a-b4c6-48af-8565-565c8bf7cabc", "CA004: Require multifactor authentication to register or join devices", []string{"Mfa"}, nil, "enabled", true, false},
	{"e6a8c0b2-7f9b-4a1d-b3e5-4a6b8c0d2e3f", "CA005: Block access from untrusted countries", []string{"Block"}, nil, "enabled", false, false},
	{"f8b0d2c4-9a1d-4b3f-c5a7-6b8c0d2e4f5a", "CA006: Sign-in frequency and no persistent browser for unmanaged devices", nil, []string{"SignInFrequency", "PersistentBrowserSessionMode"}, "reportOnly", false, false},
	{"a0c2e4d6-1b3f-4c5a-d7b9-8c0d2e4f6a7b", "CA007: Require app protection policy on iOS and Android", []string{"ApprovedApplication", "CompliantApplication"}, nil, "enabled", false, false},
	{"12d4f6e8-3c5a-4d7b-e9c1-0d2e4f6a8b9c", "CA008: Require multifactor authentication for Azure management", []string{"Mfa"}, nil, "enabled", false, false},
}

// Generator produces records. It is not safe for concurrent use.
type Generator struct {
	r     *rand.Rand
	shape Shape
	users []user
	t     time.Time
	cum   [numScenarios]int
	props Obj
	// audit records (see SetAuditShare)
	auditPermille int
	auditCum      [numScenarios]int
	// Counts counts the records generated per scenario.
	Counts [numScenarios]int64
}

// New returns a generator for seed and shape.
func New(seed uint64, shape Shape) *Generator {
	g := &Generator{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), shape: shape, t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	s := 0
	for i, w := range weights {
		s += w
		g.cum[i] = s
	}
	g.users = make([]user, 3000)
	for i := range g.users {
		fn, ln := firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))]
		u := user{id: g.guid(), name: fn + " " + ln, home: g.r.IntN(len(homePlaces))}
		u.upn = strings.ToLower(fn+"."+ln) + fmt.Sprint(i) + "@contoso.com"
		if g.r.IntN(100) < 4 {
			u.guest = true
			u.upn = strings.ToLower(fn+"."+ln) + "@fabrikam.com"
		}
		nd := 1 + g.r.IntN(2)
		for j := 0; j < nd; j++ {
			u.devices = append(u.devices, g.newDevice())
		}
		if g.r.IntN(2) == 0 {
			u.phoneOS = "Ios 18.1.1"
		} else {
			u.phoneOS = "Android 14"
		}
		g.users[i] = u
	}
	return g
}

func (g *Generator) newDevice() device {
	d := device{id: g.guid(), compliant: true, managed: true}
	switch n := g.r.IntN(10); {
	case n < 6:
		d.os, d.name, d.trust = "Windows 11", fmt.Sprintf("LAPTOP-%06X", g.r.IntN(1<<24)), "Azure AD joined"
		d.browser, d.ua = "Edge 131.0.0", winUAs[g.r.IntN(len(winUAs))]
	case n < 8:
		d.os, d.name, d.trust = "Windows10", fmt.Sprintf("CONTOSO-WS%04d", g.r.IntN(10000)), "Hybrid Azure AD joined"
		d.browser, d.ua = "Chrome 130.0.0", winUAs[g.r.IntN(len(winUAs))]
	default:
		d.os, d.name, d.trust = "MacOs", fmt.Sprintf("MacBook-%04d", g.r.IntN(10000)), "Azure AD registered"
		d.browser, d.ua = "Safari 18.1", macUAs[g.r.IntN(len(macUAs))]
	}
	return d
}

func (g *Generator) guid() string {
	a, b := g.r.Uint64(), g.r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff, uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

func (g *Generator) pick() Scenario {
	n := g.r.IntN(g.cum[numScenarios-1])
	for i, c := range g.cum {
		if n < c {
			return Scenario(i)
		}
	}
	return BenignInteractiveMFA
}

func (g *Generator) ip(p place) string { return fmt.Sprintf("%s%d", p.prefix, 2+g.r.IntN(250)) }

// Next appends one record (without newline) to dst.
func (g *Generator) Next(dst []byte) ([]byte, Scenario) {
	if g.auditPermille > 0 && g.r.IntN(1000) < g.auditPermille {
		return g.nextAudit(dst)
	}
	sc := g.pick()
	g.Counts[sc]++
	g.t = g.t.Add(time.Duration(1+g.r.IntN(400)) * time.Millisecond)
	env, props := g.build(sc)
	switch g.shape {
	case ShapeLogAnalytics:
		return AppendJSON(dst, laRow(env, props)), sc
	}
	return AppendJSON(dst, append(env, KV{"properties", props})), sc
}

type failure struct {
	code   int
	reason string
}

var failures = []failure{
	{50126, "Error validating credentials due to invalid username or password."},
	{50074, "Strong Authentication is required."},
	{53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
	{50140, "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in."},
	{50058, "Session information is not sufficient for single-sign-on."},
	{70044, "The session has expired or is invalid due to sign-in frequency checks by conditional access."},
}

// build returns the envelope (without properties) and the properties.
func (g *Generator) build(sc Scenario) (Obj, Obj) {
	u := &g.users[g.r.IntN(len(g.users))]
	home := homePlaces[u.home]
	where := home
	named := true // sign-in from the corporate named network
	a := apps[g.r.IntN(len(apps))]
	var dev *device
	if len(u.devices) > 0 {
		dev = &u.devices[g.r.IntN(len(u.devices))]
	}
	unknown := device{id: "", os: "Windows10", browser: "Chrome 131.0.0", ua: winUAs[1]}
	interactive := true
	mfa := true
	prevSatisfied := false
	errCode, reason := 0, ""
	caStatus := "success"
	category := "SignInLogs"

	switch sc {
	case BenignInteractiveMFA:
		prevSatisfied = g.r.IntN(3) > 0
	case BenignNonInteractive:
		interactive, prevSatisfied, category = false, true, "NonInteractiveUserSignInLogs"
		named = g.r.IntN(3) > 0
	case BenignMobileMFA:
		for a.mobile == false {
			a = apps[g.r.IntN(len(apps))]
		}
		phone := device{id: "", os: u.phoneOS, browser: "Mobile Safari", ua: iosUAs[g.r.IntN(len(iosUAs))]}
		if strings.HasPrefix(u.phoneOS, "Android") {
			phone.browser, phone.ua = "Chrome Mobile 131.0.6778", androidUAs[g.r.IntN(len(androidUAs))]
		}
		dev, named = &phone, false
		prevSatisfied = g.r.IntN(2) == 0
	case BenignFailure:
		f := failures[g.r.IntN(len(failures))]
		errCode, reason = f.code, f.reason
		mfa = false
		caStatus = "notApplied"
		if f.code == 53003 {
			caStatus = "failure"
			where, named = foreignPlaces[g.r.IntN(len(foreignPlaces))], false
		}
		if g.r.IntN(2) == 0 {
			dev = &unknown
		}
	case NearMissUnknownNamedNet:
		dev, mfa = &unknown, false // single factor from the office: allowed by policy
	case NearMissNonCompliantBlk:
		nc := *dev
		nc.compliant = false
		dev, caStatus = &nc, "failure"
		errCode, reason = 53000, "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant. The user must enroll their device with an approved MDM provider like Intune."
	case BenignDeviceRegMFA:
		a = drsApps[g.r.IntN(len(drsApps))]
		dev, named = &unknown, false
	case TriggerDeviceRegNoMFA:
		a = drsApps[g.r.IntN(len(drsApps))]
		dev, mfa, named = &unknown, false, false
		where = foreignPlaces[g.r.IntN(len(foreignPlaces))]
	case TriggerNonCompliant:
		nc := *dev
		nc.compliant = false
		dev = &nc
		named = g.r.IntN(2) == 0
	case TriggerUnknownDevice:
		dev, mfa, named = &unknown, false, false
		if g.r.IntN(2) == 0 {
			where = foreignPlaces[g.r.IntN(len(foreignPlaces))]
		}
	}

	created := g.t.Add(-time.Duration(g.r.IntN(90000)) * time.Millisecond)
	corr := g.guid()
	id := g.guid()
	ip := g.ip(where)
	if named {
		ip = fmt.Sprintf("%s%d", home.prefix, 10+g.r.IntN(6))
	}
	if g.r.IntN(20) == 0 {
		ip = fmt.Sprintf("2001:db8:%x:%x::%x", g.r.IntN(0xffff), g.r.IntN(0xffff), g.r.IntN(0xffff))
	}

	status := Obj{{"errorCode", errCode}}
	if errCode != 0 {
		status = append(status, KV{"failureReason", reason}, KV{"additionalDetails", "MFA requirement satisfied by claim in the token"})
		if errCode == 50126 {
			status[2].V = "The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes."
		}
	} else if g.r.IntN(3) == 0 {
		status = append(status, KV{"additionalDetails", "MFA requirement satisfied by claim in the token"})
	}

	dd := Obj{{"deviceId", dev.id}, {"displayName", dev.name}, {"operatingSystem", dev.os}, {"browser", dev.browser}}
	if dev.id != "" {
		dd = append(dd, KV{"isCompliant", dev.compliant}, KV{"isManaged", dev.managed}, KV{"trustType", dev.trust})
	} else {
		dd = append(dd, KV{"isCompliant", false}, KV{"isManaged", false}, KV{"trustType", ""})
	}

	loc := Obj{{"city", where.city}, {"state", where.state}, {"countryOrRegion", where.cc},
		{"geoCoordinates", Obj{{"altitude", nil}, {"latitude", Num(fmt.Sprintf("%.4f", where.lat+float64(g.r.IntN(200)-100)/10000))}, {"longitude", Num(fmt.Sprintf("%.4f", where.lon+float64(g.r.IntN(200)-100)/10000))}}}}

	var nld []Obj
	if named {
		nld = []Obj{{{"networkType", "namedNetwork"}, {"networkNames", []string{"Contoso " + home.city + " office"}}}}
		if g.r.IntN(3) == 0 {
			nld = append(nld, Obj{{"networkType", "trustedNamedLocation"}, {"networkNames", []string{"Contoso corporate egress"}}})
		}
	} else {
		nld = []Obj{}
	}

	authReq := "multiFactorAuthentication"
	if !mfa {
		authReq = "singleFactorAuthentication"
	}
	var steps []Obj
	stepTime := created.Format("2006-01-02T15:04:05.0000000+00:00")
	if prevSatisfied {
		steps = append(steps, Obj{{"authenticationStepDateTime", stepTime}, {"authenticationMethod", "Previously satisfied"}, {"succeeded", true},
			{"authenticationStepResultDetail", "First factor requirement satisfied by claim in the token"}, {"authenticationStepRequirement", "Primary authentication"}, {"StatusSequence", 0}, {"RequestSequence", 0}})
	} else {
		method, detail := "Password", "Correct password"
		if g.r.IntN(4) == 0 {
			method, detail = "Windows Hello for Business", "Windows Hello for Business"
		}
		ok := errCode != 50126
		if !ok {
			detail = "Invalid username or password or Invalid on-premise username or password."
		}
		steps = append(steps, Obj{{"authenticationStepDateTime", stepTime}, {"authenticationMethod", method}, {"authenticationMethodDetail", "Password in the cloud"}, {"succeeded", ok},
			{"authenticationStepResultDetail", detail}, {"authenticationStepRequirement", "Primary authentication"}, {"StatusSequence", 0}, {"RequestSequence", 1}})
	}
	if mfa {
		if prevSatisfied {
			steps = append(steps, Obj{{"authenticationStepDateTime", stepTime}, {"authenticationMethod", "Previously satisfied"}, {"succeeded", true},
				{"authenticationStepResultDetail", "MFA requirement satisfied by claim in the token"}, {"authenticationStepRequirement", "Multi-factor authentication"}})
		} else {
			steps = append(steps, Obj{{"authenticationStepDateTime", stepTime}, {"authenticationMethod", "Mobile app notification"}, {"authenticationMethodDetail", "Microsoft Authenticator"}, {"succeeded", true},
				{"authenticationStepResultDetail", "MFA successfully completed"}, {"authenticationStepRequirement", "Multi-factor authentication"}, {"StatusSequence", 0}, {"RequestSequence", 1}})
		}
	}

	var reqPolicies []Obj
	if mfa {
		reqPolicies = []Obj{{{"requirementProvider", "multiConditionalAccess"}, {"detail", "Conditional Access"}}}
	} else {
		reqPolicies = []Obj{}
	}

	procDetails := []Obj{{{"key", "Legacy TLS (TLS 1.0, 1.1, 3DES)"}, {"value", "False"}}, {{"key", "Is CAE Token"}, {"value", "True"}}}
	if interactive {
		procDetails = append(procDetails, Obj{{"key", "Login Hint Present"}, {"value", "True"}})
	}
	if dev.id != "" {
		procDetails = append(procDetails, Obj{{"key", "Root Key Type"}, {"value", "Hybrid"}})
	}

	// Conditional Access: every enabled or report-only policy is listed.
	pols := make([]Obj, 0, len(caPolicies))
	for _, p := range caPolicies {
		if len(pols) >= 4 || g.r.IntN(4) > 0 && !p.forDRS || p.forDRS && g.r.IntN(2) == 0 && a.resID != DeviceRegistrationServiceID {
			continue // some tenants list fewer policies
		}
		res := "notApplied"
		sat, nsat := 0, 1
		grant := []string{}
		session := []string{}
		switch {
		case p.state == "reportOnly":
			res = "reportOnlyNotApplied"
			if dev.id == "" {
				res = "reportOnlySuccess"
			}
		case p.forDRS && a.resID == DeviceRegistrationServiceID && mfa:
			res, sat, nsat, grant = "success", 3, 0, p.grant
		case p.forDRS:
			res = "notApplied"
		case caStatus == "failure" && (first(p.grant) == "Block" || p.forAdmins):
			res, sat, nsat, grant = "failure", 3, 0, p.grant
		case first(p.grant) == "Mfa" && mfa && !p.forAdmins:
			res, sat, nsat, grant = "success", 3, 0, p.grant
		}
		pol := Obj{{"id", p.id}, {"displayName", p.name}, {"enforcedGrantControls", grant}, {"enforcedSessionControls", session},
			{"result", res}, {"conditionsSatisfied", sat}, {"conditionsNotSatisfied", nsat}}
		if sat > 0 {
			// Entra lists the rules that made an applied policy match.
			pol = append(pol, KV{"includeRulesSatisfied", []Obj{{{"conditionalAccessCondition", "application"}, {"ruleSatisfied", "allApps"}}, {{"conditionalAccessCondition", "users"}, {"ruleSatisfied", "allUsers"}}}},
				KV{"excludeRulesSatisfied", []Obj{}})
		}
		pols = append(pols, pol)
	}

	eventTypes := []string{"interactiveUser"}
	if !interactive {
		eventTypes = []string{"nonInteractiveUser"}
	}
	risk := []string{}
	riskLevel, riskState := "none", "none"
	if sc == TriggerUnknownDevice && g.r.IntN(3) == 0 {
		risk, riskLevel, riskState = []string{"unfamiliarFeatures"}, "medium", "atRisk"
	}
	mfaDetail := Obj{}
	if mfa && !prevSatisfied {
		mfaDetail = Obj{{"authMethod", "Mobile app notification"}, {"authDetail", nil}}
	}
	methods := []string{"Password"}
	if mfa {
		methods = append(methods, "Mobile app notification")
	}
	userType, cross, homeTenant := "Member", "none", tenantID
	if u.guest {
		userType, cross, homeTenant = "Guest", "b2bCollaboration", "9188040d-6c67-4c5b-b112-36a304b66dad"
	}

	p := g.props[:0]
	p = append(p,
		KV{"id", id},
		KV{"createdDateTime", created.Format("2006-01-02T15:04:05.0000000+00:00")},
		KV{"userDisplayName", u.name},
		KV{"userPrincipalName", u.upn},
		KV{"userId", u.id},
		KV{"appId", a.appID},
		KV{"appDisplayName", a.appName},
		KV{"ipAddress", ip},
		KV{"status", status},
		KV{"clientAppUsed", a.clientApp},
		KV{"userAgent", dev.ua},
		KV{"deviceDetail", dd},
		KV{"location", loc},
		KV{"mfaDetail", mfaDetail},
		KV{"correlationId", corr},
		KV{"conditionalAccessStatus", caStatus},
		KV{"appliedConditionalAccessPolicies", pols},
		KV{"authenticationContextClassReferences", []Obj{}},
		KV{"originalRequestId", id},
		KV{"isInteractive", interactive},
		KV{"tokenIssuerName", ""},
		KV{"tokenIssuerType", "AzureAD"},
		KV{"authenticationProcessingDetails", procDetails},
		KV{"networkLocationDetails", nld},
		KV{"clientCredentialType", "none"},
		KV{"processingTimeInMilliseconds", 40 + g.r.IntN(400)},
		KV{"riskDetail", "none"},
		KV{"riskLevelAggregated", riskLevel},
		KV{"riskLevelDuringSignIn", riskLevel},
		KV{"riskState", riskState},
		KV{"riskEventTypes", risk},
		KV{"riskEventTypes_v2", risk},
		KV{"resourceDisplayName", a.resName},
		KV{"resourceId", a.resID},
		KV{"resourceTenantId", tenantID},
		KV{"homeTenantId", homeTenant},
		KV{"authenticationMethodsUsed", methods},
		KV{"authenticationDetails", steps},
		KV{"authenticationRequirementPolicies", reqPolicies},
		KV{"sessionLifetimePolicies", []Obj{}},
		KV{"authenticationRequirement", authReq},
		KV{"alternateSignInName", u.upn},
		KV{"signInIdentifier", u.upn},
		KV{"signInIdentifierType", "userPrincipalName"},
		KV{"servicePrincipalId", ""},
		KV{"userType", userType},
		KV{"flaggedForReview", false},
		KV{"isTenantRestricted", false},
		KV{"autonomousSystemNumber", where.asn},
		KV{"crossTenantAccessType", cross},
		KV{"privateLinkDetails", Obj{}},
		KV{"ssoExtensionVersion", ""},
		KV{"uniqueTokenIdentifier", g.tokenID()},
		KV{"incomingTokenType", map[bool]string{true: "none", false: "primaryRefreshToken"}[interactive]},
		KV{"authenticationProtocol", "none"},
		KV{"signInEventTypes", eventTypes},
		KV{"sessionId", g.guid()},
		KV{"appOwnerTenantId", "f8cdef31-a31e-4b4a-93e4-5f571e91255a"},
		KV{"isThroughGlobalSecureAccess", false},
	)
	g.props = p

	resultType := fmt.Sprint(errCode)
	env := Obj{
		{"time", g.t.Format("2006-01-02T15:04:05.0000000Z")},
		{"resourceId", "/tenants/" + tenantID + "/providers/Microsoft.aadiam"},
		{"operationName", "Sign-in activity"},
		{"operationVersion", "1.0"},
		{"category", category},
		{"tenantId", tenantID},
		{"resultType", resultType},
		{"resultSignature", "None"},
		{"resultDescription", reason},
		{"durationMs", 0},
		{"callerIpAddress", ip},
		{"correlationId", corr},
		{"identity", u.name},
		{"Level", 4},
		{"location", where.cc},
	}
	return env, p
}

func (g *Generator) tokenID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b [22]byte
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b[:])
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
