package graphsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// app is an application a user signs in to, and its resource.
type app struct {
	id, name, resourceID, resourceName string
	browser                            bool // signed in from a browser ("Browser" client)
	office365                          bool // in Conditional Access's "Office365" group
	azure                              bool // Azure management
}

var (
	appOffice   = app{"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", true, true, false}
	appTeams    = app{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services", false, true, false}
	appOneDrive = app{"ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine", "00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", false, true, false}
	appPortal   = app{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API", true, false, true}
	appEdge     = app{"ecd6b820-32c2-49b6-98a6-444530e5a77a", "Microsoft Edge", graphResourceAppID, "Microsoft Graph", true, false, false}
	appDRS      = app{authBrokerAppID, "Microsoft Authentication Broker", DeviceRegistrationServiceAppID, drsName, false, false, false}
	userApps    = []app{appOffice, appTeams, appOneDrive}
)

// place is where a sign-in comes from.
type place struct {
	city, state, country string
	lat, lon             float64
	asn                  int
}

var (
	placeOffice   = place{"Seattle", "Washington", "US", 47.6062, -122.3321, 64500}
	placeHome     = place{"Bellevue", "Washington", "US", 47.6101, -122.2015, 64501}
	placeAttacker = place{"Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041, 64512}
)

var userAgents = map[string]string{
	"Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Chrome":  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"MacMDM":  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"iOS":     "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"Android": "Dalvik/2.1.0 (Linux; U; Android 14; SM-S918B Build/UP1A.231005.007)",
}

var browsers = map[string]string{
	"Windows": "Edge 131.0.0",
	"MacMDM":  "Safari 18.1",
	"iOS":     "Mobile Safari 18.2",
	"Android": "Rich Client 4.61.0.0",
}

func officeIP(rng *rand.Rand) string { return fmt.Sprintf("198.51.100.%d", 10+rng.IntN(20)) }

// homeIP is a user's home address, always the same.
func homeIP(u *user) string { return fmt.Sprintf("192.0.2.%d", 10+int(idSeq(u.id)%200)) }

// signInArgs describe a sign-in to build.
type signInArgs struct {
	at          time.Time
	u           *user
	app         app
	ip          string
	place       place
	dev         *device // nil: an unknown device
	compliant   *bool   // overrides dev.compliant
	os, browser string  // of an unknown device
	userAgent   string
	interactive bool
	mfa         bool
	errorCode   int
	failure     string
}

const (
	reqMFA    = "multiFactorAuthentication"
	reqSingle = "singleFactorAuthentication"
	errBadPwd = 50126
	msgBadPwd = "Invalid username or password or Invalid on-premise username or password."
)

// signIn builds a Graph beta sign-in.
func (t *Tenant) signIn(rng *rand.Rand, a signInArgs) *signIn {
	id := newGUID(rng)
	when := recordTime(a.at)
	s := &signIn{
		ID: id, CreatedDateTime: when, UserDisplayName: a.u.displayName, UserPrincipalName: a.u.upn, UserID: a.u.id,
		AppID: a.app.id, AppDisplayName: a.app.name, IPAddress: a.ip, ClientAppUsed: "Mobile Apps and Desktop clients",
		CorrelationID: newGUID(rng), OriginalRequestID: id, IsInteractive: a.interactive,
		RiskDetail: "none", RiskLevelAggregated: "none", RiskLevelDuringSignIn: "none", RiskState: "none",
		RiskEventTypes: []string{}, RiskEventTypesV2: []string{},
		ResourceDisplayName: a.app.resourceName, ResourceID: a.app.resourceID,
		Location: signInLocation{City: a.place.city, State: a.place.state, CountryOrRegion: a.place.country,
			GeoCoordinates: geoCoords{Latitude: a.place.lat, Longitude: a.place.lon}},
		UserType: "member", SignInEventTypes: []string{"interactiveUser"}, AuthenticationRequirement: reqSingle,
		AuthenticationRequirementPolicies: []authReqPolicy{},
		AuthenticationProcessingDetails:   []keyValue{{"Legacy TLS (TLS 1.0, 1.1, 3DES)", "False"}, {"Is CAE Token", "False"}},
		NetworkLocationDetails:            []networkLoc{},
		TokenIssuerType:                   "AzureAD", UserAgent: a.userAgent, HomeTenantID: t.opts.TenantID, ResourceTenantID: t.opts.TenantID,
		AppOwnerTenantID: "f8cdef31-a31e-4b4a-93e4-5f571e91255a", ResourceOwnerTenantID: "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
		ProcessingTimeInMilliseconds: 40 + rng.IntN(360), CrossTenantAccessType: "none", IncomingTokenType: "none",
		AuthenticationProtocol: "none", SignInIdentifier: a.u.upn, SignInIdentifierType: "userPrincipalName",
		SessionID: newGUID(rng), UniqueTokenIdentifier: uniqueTokenID(rng), AutonomousSystemNumber: a.place.asn,
	}
	if a.app.browser {
		s.ClientAppUsed = "Browser"
	}
	if a.place == placeOffice {
		s.NetworkLocationDetails = []networkLoc{{NetworkType: "namedNetwork", NetworkNames: []string{officeNetworkName}}}
	}
	if d := a.dev; d != nil {
		compliant := d.compliant
		if a.compliant != nil {
			compliant = *a.compliant
		}
		s.DeviceDetail = deviceDetail{DeviceID: d.deviceID, DisplayName: ptr(d.displayName), OperatingSystem: signInOS(d.os),
			Browser: browsers[d.os], IsCompliant: ptr(compliant), IsManaged: ptr(d.managed), TrustType: ptr(trustDisplay(d.trustType))}
		if s.UserAgent == "" {
			s.UserAgent = userAgents[d.os]
		}
	} else {
		s.DeviceDetail = deviceDetail{OperatingSystem: a.os, Browser: a.browser}
	}
	step := func(method string, detail *string, ok bool, result, requirement string) authDetail {
		return authDetail{AuthenticationStepDateTime: when, AuthenticationMethod: method, AuthenticationMethodDetail: detail,
			Succeeded: ok, AuthenticationStepResultDetail: result, AuthenticationStepRequirement: requirement}
	}
	switch {
	case a.errorCode != 0:
		s.Status = signInStatus{ErrorCode: a.errorCode, FailureReason: ptr(a.failure)}
		s.AuthenticationMethodsUsed = []string{"Password"}
		s.AuthenticationDetails = []authDetail{step("Password", ptr("Password in the cloud"), false, a.failure, "Primary authentication")}
	case !a.interactive:
		s.AuthenticationMethodsUsed = []string{}
		s.AuthenticationDetails = []authDetail{step("Previously satisfied", nil, true, "First factor requirement satisfied by claim in the token", "Primary authentication")}
		if a.mfa {
			s.AuthenticationDetails = append(s.AuthenticationDetails, step("Previously satisfied", nil, true, "MFA requirement satisfied by claim in the token", "Multi-factor authentication"))
		}
	default:
		s.AuthenticationMethodsUsed = []string{"Password"}
		s.AuthenticationDetails = []authDetail{step("Password", ptr("Password in the cloud"), true, "Correct password", "Primary authentication")}
		if a.mfa {
			s.AuthenticationMethodsUsed = append(s.AuthenticationMethodsUsed, "Mobile app notification")
			s.AuthenticationDetails = append(s.AuthenticationDetails, step("Mobile app notification", nil, true, "MFA successfully completed", "Multi-factor authentication"))
		}
	}
	if a.mfa && a.errorCode == 0 {
		s.AuthenticationRequirement = reqMFA
		s.AuthenticationRequirementPolicies = []authReqPolicy{{"multiConditionalAccess", "Conditional Access"}}
	}
	if !a.interactive {
		s.SignInEventTypes = []string{"nonInteractiveUser"}
		s.IncomingTokenType = "refreshToken"
		if a.dev != nil && a.dev.trustType != trustWorkplace {
			s.IncomingTokenType = "primaryRefreshToken"
		}
	}
	s.ConditionalAccessStatus, s.AppliedConditionalAccessPolicies = t.org.appliedCA(a)
	return s
}

// ordinarySignIn is one sign-in of ordinary traffic: none of them is
// flagged by a built-in detection. Users with a device sign in from it
// (compliant, so known and compliant); users without one sign in with MFA,
// or with a single factor only from the office's named network.
func (t *Tenant) ordinarySignIn(rng *rand.Rand, at time.Time, u *user) *signIn {
	a := signInArgs{at: at, u: u, app: userApps[rng.IntN(len(userApps))], place: placeHome, ip: homeIP(u), interactive: true}
	if rng.Float64() < 0.55 {
		a.place, a.ip = placeOffice, officeIP(rng)
	}
	if u.admin && rng.Float64() < 0.4 {
		a.app = appPortal
	}
	outside := a.place != placeOffice
	roll := rng.Float64()
	if u.device != nil {
		a.dev = u.device
		switch {
		case roll < 0.40:
			a.mfa = outside || u.admin || a.app.azure
		case roll < 0.75:
			a.interactive = false
			a.mfa = outside || u.admin
		case roll < 0.87:
			a.errorCode, a.failure = errBadPwd, msgBadPwd
		default: // from a browser elsewhere, with MFA
			a.dev, a.os, a.browser, a.userAgent, a.mfa = nil, "Windows10", "Chrome 131.0.0", userAgents["Chrome"], true
			a.app = appOffice
		}
		return t.signIn(rng, a)
	}
	a.os, a.browser, a.userAgent = "Windows10", "Edge 131.0.0", userAgents["Windows"]
	switch {
	case roll < 0.40:
		a.mfa = outside || u.admin || a.app.azure
	case roll < 0.70:
		a.place, a.ip, a.mfa = placeHome, homeIP(u), true
	case roll < 0.85:
		a.interactive, a.mfa = false, true
	default:
		a.errorCode, a.failure = errBadPwd, msgBadPwd
	}
	return t.signIn(rng, a)
}

// appliedCA evaluates the Conditional Access policies for a sign-in.
func (o *org) appliedCA(a signInArgs) (string, []appliedCA) {
	failed := a.errorCode != 0
	out := make([]appliedCA, 0, len(caSpecs))
	for _, p := range caSpecs {
		res := "notApplied"
		switch {
		case p.state == "enabledForReportingButNotEnforced":
			res = "reportOnlyNotApplied"
			if !failed && a.app.azure {
				res = "reportOnlyFailure"
				if a.dev != nil && a.dev.compliant {
					res = "reportOnlySuccess"
				}
			}
		case failed:
		case p.key == caAdmins && a.u.admin, p.key == caOffice && a.app.office365 && a.place != placeOffice, p.key == caFrequency:
			res = "success"
		}
		out = append(out, appliedCA{ID: o.caIDs[p.key], DisplayName: p.name, EnforcedGrantControls: p.grantDisplay(),
			EnforcedSessionControls: p.sessionDisplay(), Result: res})
	}
	if failed {
		return "notApplied", out
	}
	return "success", out
}

// ordinaryAudit is one benign directory audit.
func (t *Tenant) ordinaryAudit(rng *rand.Rand, at time.Time) *directoryAudit {
	o := t.org
	u := o.regular[rng.IntN(len(o.regular))]
	admin := o.users[userITAdmin]
	corr := newGUID(rng)
	switch rng.IntN(5) {
	case 0:
		title := jobTitles[rng.IntN(len(jobTitles))]
		return t.audit(rng, corr, at, "UserManagement", "Update user", "Core Directory", "Update", t.userInitiator(admin, officeIP(rng)),
			[]targetResource{userTarget(u, []modifiedProperty{
				{DisplayName: "JobTitle", OldValue: ptr(jsonList(u.jobTitle)), NewValue: ptr(jsonList(title))},
				{DisplayName: "Included Updated Properties", OldValue: ptr(""), NewValue: ptr(`"JobTitle"`)},
			})}, nil)
	case 1:
		groups := []string{"Sales", "Marketing", "Engineering", "Finance"}
		g := groups[rng.IntN(len(groups))]
		return t.audit(rng, corr, at, "GroupManagement", "Add member to group", "Core Directory", "Add", t.userInitiator(admin, officeIP(rng)),
			[]targetResource{userTarget(u, []modifiedProperty{added("Group.ObjectID", quote(seedGUID(t.opts.Seed, "group-"+g))), added("Group.DisplayName", quote(g))})}, nil)
	case 2:
		d := o.devices[rng.IntN(len(o.devices))]
		return t.audit(rng, corr, at, "Device", "Update device", "Core Directory", "Update", t.drsInitiator(),
			[]targetResource{deviceTarget(d, []modifiedProperty{{DisplayName: "Included Updated Properties", OldValue: ptr(""), NewValue: ptr(`""`)}})}, nil)
	case 3:
		keyID := newGUID(rng)
		return t.audit(rng, corr, at, "KeyManagement", "Add BitLocker key", drsName, "Add", t.drsInitiator(),
			[]targetResource{{ID: keyID, DisplayName: ptr(keyID), Type: "Other", ModifiedProperties: []modifiedProperty{}}}, nil)
	}
	return t.audit(rng, corr, at, "UserManagement", "Reset password (self-service)", "Self-service Password Management", "Update", t.userInitiator(u, homeIP(u)),
		[]targetResource{userTarget(u, nil)}, nil)
}

// audit builds a directory audit. Its id has the shape of Core Directory
// ids: Directory_<correlation id>_<5 characters>_<9 digits>.
func (t *Tenant) audit(rng *rand.Rand, corr string, at time.Time, category, activity, service, op string, by initiator, targets []targetResource, details []keyValue) *directoryAudit {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	tag := make([]byte, 5)
	for i := range tag {
		tag[i] = alnum[rng.IntN(len(alnum))]
	}
	if details == nil {
		details = []keyValue{}
	}
	return &directoryAudit{
		ID:       fmt.Sprintf("Directory_%s_%s_%09d", corr, tag, rng.IntN(1e9)),
		Category: category, CorrelationID: corr, Result: "success", ActivityDisplayName: activity, ActivityDateTime: recordTime(at),
		LoggedByService: service, OperationType: op, InitiatedBy: by, TargetResources: targets, AdditionalDetails: details,
	}
}

func (t *Tenant) userInitiator(u *user, ip string) initiator {
	return initiator{User: &userIdentity{ID: u.id, UserPrincipalName: u.upn, IPAddress: ip}}
}

func (t *Tenant) drsInitiator() initiator {
	return initiator{App: &appIdentity{DisplayName: drsName, ServicePrincipalID: t.org.drsSPID}}
}

func (t *Tenant) intuneInitiator() initiator {
	return initiator{App: &appIdentity{AppID: ptr(intuneAppID), DisplayName: "Microsoft Intune", ServicePrincipalID: t.org.intuneSPID}}
}

func deviceTarget(d *device, props []modifiedProperty) targetResource {
	if props == nil {
		props = []modifiedProperty{}
	}
	return targetResource{ID: d.id, DisplayName: ptr(d.displayName), Type: "Device", ModifiedProperties: props}
}

func userTarget(u *user, props []modifiedProperty) targetResource {
	if props == nil {
		props = []modifiedProperty{}
	}
	return targetResource{ID: u.id, Type: "User", UserPrincipalName: ptr(u.upn), ModifiedProperties: props}
}

// roleProps are the modified properties of a role (un)assignment; the
// values are JSON-encoded strings, as Entra writes them.
func (t *Tenant) roleProps(roleID string, removed bool) []modifiedProperty {
	vals := [][2]string{{"Role.ObjectID", t.org.roleObject[roleID]}, {"Role.DisplayName", roleName(roleID)}, {"Role.TemplateId", roleID}}
	if roleID == RoleGlobalAdministrator {
		vals = append(vals, [2]string{"Role.WellKnownObjectName", roleWellKnownNameGA})
	}
	out := make([]modifiedProperty, 0, len(vals))
	for _, v := range vals {
		p := added(v[0], quote(v[1]))
		if removed {
			p.OldValue, p.NewValue = p.NewValue, nil
		}
		out = append(out, p)
	}
	return out
}

func added(name, value string) modifiedProperty {
	return modifiedProperty{DisplayName: name, NewValue: ptr(value)}
}

// quote is a value as a JSON string, as audit records encode values.
func quote(s string) string { return string(mustJSON(s)) }

// jsonList is a one-element JSON array of a string, as "Add device" and
// "Update user" records encode values.
func jsonList(s string) string {
	b, _ := json.Marshal([]string{s})
	return strings.TrimSpace(string(b))
}
