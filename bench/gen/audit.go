package gen

import (
	"fmt"
	"time"
)

// Audit records: with SetAuditShare, a share of the records are Entra
// directory audit records in the diagnostic-settings shape (category
// AuditLogs, a Graph directoryAudit as "properties"), so that audit rules
// have work. The mix is everyday directory administration (user, group,
// device and application updates, security info registrations, service
// principals, Conditional Access policy updates, role assignments to
// ordinary roles) plus a few records that trigger the stateless audit
// detections: BitLocker key reads, device admin role assignments and
// device registration policy changes.

// Audit scenarios; they follow the sign-in ones.
const (
	AuditUpdateUser         Scenario = iota + numSignInScenarios // Update user (job title, department…)
	AuditGroupMember                                             // Add member to group
	AuditUpdateDevice                                            // Update device (Device Registration Service)
	AuditUpdateApplication                                       // Update application
	AuditSecurityInfo                                            // User registered security info
	AuditServicePrincipal                                        // Add service principal
	AuditRoleOther                                               // Add member to role, a non-device role
	AuditCAPolicyUpdate                                          // Update conditional access policy
	AuditStrongAuthOff                                           // Update user: StrongAuthenticationRequirement to State 0
	AuditPIMRequested                                            // Add member to role requested (PIM), a device admin role
	TriggerBitLockerRead                                         // bitlocker-key-read
	TriggerDeviceAdminRole                                       // privileged-device-role-added
	TriggerRegPolicyChanged                                      // device-registration-policy-changed
	numScenarios
)

// auditWeights in tenths of a percent of the audit records.
var auditWeights = [numScenarios]int{
	AuditUpdateUser:         280,
	AuditGroupMember:        200,
	AuditUpdateDevice:       150,
	AuditUpdateApplication:  80,
	AuditSecurityInfo:       60,
	AuditServicePrincipal:   30,
	AuditRoleOther:          50,
	AuditCAPolicyUpdate:     40,
	AuditStrongAuthOff:      10,
	AuditPIMRequested:       10,
	TriggerBitLockerRead:    40,
	TriggerDeviceAdminRole:  30,
	TriggerRegPolicyChanged: 20,
}

type role struct{ template, name, wellKnown string }

var deviceRoles = []role{
	{"62e90394-69f5-4237-9190-012177145e10", "Global Administrator", "TenantAdmins"},
	{"7698a772-787b-4ac8-901f-60d6b08affd2", "Cloud Device Administrator", ""},
	{"9f06204d-73c1-4d4c-880a-6edb90606fd8", "Microsoft Entra Joined Device Local Administrator", "Device Administrators"},
}

var otherRoles = []role{
	{"fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", ""},
	{"729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", "HelpdeskAdmins"},
	{"5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader", ""},
	{"4a5d8f65-41da-4de4-8968-e035b65339cf", "Reports Reader", ""},
	{"f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader", ""},
}

var groups = []string{"All Sales", "Finance Team", "VPN Users", "Intune Pilot", "Contoso Engineering", "M365 E5 Licensed"}
var jobTitles = []string{"Analyst", "Senior Analyst", "Engineer", "Account Manager", "Team Lead", "Consultant"}

// SetAuditShare makes permille thousandths of the records directory audit
// records (diagnostic-settings shape only). 0, the default, generates
// sign-ins only, exactly as before.
func (g *Generator) SetAuditShare(permille int) error {
	if permille < 0 || permille > 1000 {
		return fmt.Errorf("audit share %d‰ is out of range", permille)
	}
	if permille > 0 && g.shape != ShapeDiagnostic {
		return fmt.Errorf("audit records are generated in the diagnostic-settings shape only")
	}
	g.auditPermille = permille
	s := 0
	for i, w := range auditWeights {
		s += w
		g.auditCum[i] = s
	}
	return nil
}

func (g *Generator) pickAudit() Scenario {
	n := g.r.IntN(g.auditCum[numScenarios-1])
	for i := int(numSignInScenarios); i < int(numScenarios); i++ {
		if n < g.auditCum[i] {
			return Scenario(i)
		}
	}
	return AuditUpdateUser
}

func (g *Generator) nextAudit(dst []byte) ([]byte, Scenario) {
	sc := g.pickAudit()
	g.Counts[sc]++
	g.t = g.t.Add(time.Duration(1+g.r.IntN(400)) * time.Millisecond)
	return AppendJSON(dst, g.buildAudit(sc)), sc
}

func jsonText(s string) string { return `"` + s + `"` }

func modProp(name string, oldV, newV any) Obj {
	return Obj{{"displayName", name}, {"oldValue", oldV}, {"newValue", newV}}
}

func (g *Generator) target(id, name, typ, upn string, mods []Obj) Obj {
	var dn, up any
	if name != "" {
		dn = name
	}
	if upn != "" {
		up = upn
	}
	if mods == nil {
		mods = []Obj{}
	}
	return Obj{{"id", id}, {"displayName", dn}, {"type", typ}, {"userPrincipalName", up}, {"groupType", nil},
		{"modifiedProperties", mods}, {"administrativeUnits", []Obj{}}}
}

// buildAudit returns one diagnostic-settings AuditLogs record.
func (g *Generator) buildAudit(sc Scenario) Obj {
	actor := &g.users[g.r.IntN(len(g.users))]
	subject := &g.users[g.r.IntN(len(g.users))]
	home := homePlaces[actor.home]
	ip := fmt.Sprintf("%s%d", home.prefix, 10+g.r.IntN(6))
	corr := g.guid()
	category, activity, service, opType := "UserManagement", "Update user", "Core Directory", "Update"
	result, reason := "success", ""
	idPrefix, idTag := "Directory", "UPDXP"
	var targets []Obj
	details := []Obj{}
	initiatedApp := false

	switch sc {
	case AuditUpdateUser:
		t := jobTitles[g.r.IntN(len(jobTitles))]
		targets = []Obj{g.target(subject.id, "", "User", subject.upn, []Obj{
			modProp("JobTitle", jsonText(jobTitles[g.r.IntN(len(jobTitles))]), jsonText(t)),
			modProp("Included Updated Properties", "", jsonText("JobTitle")),
		})}
		details = []Obj{{{"key", "UserType"}, {"value", "Member"}}}
	case AuditGroupMember:
		category, activity, opType, idTag = "GroupManagement", "Add member to group", "Assign", "GRPXP"
		grp := groups[g.r.IntN(len(groups))]
		gid := g.guid()
		targets = []Obj{
			g.target(subject.id, "", "User", subject.upn, []Obj{
				modProp("Group.ObjectID", nil, jsonText(gid)),
				modProp("Group.DisplayName", nil, jsonText(grp)),
			}),
			g.target(gid, grp, "Group", "", nil),
		}
	case AuditUpdateDevice:
		category, activity, service, idTag = "Device", "Update device", "Device Registration Service", "DEVXP"
		d := subject.devices[g.r.IntN(len(subject.devices))]
		initiatedApp = true
		targets = []Obj{g.target(d.id, d.name, "Device", "", []Obj{
			modProp("ApproximateLastLogonTimestamp", jsonText(g.t.Add(-15*24*time.Hour).Format("1/2/2006 3:04:05 PM")), jsonText(g.t.Format("1/2/2006 3:04:05 PM"))),
			modProp("Included Updated Properties", "", jsonText("ApproximateLastLogonTimestamp")),
		})}
	case AuditUpdateApplication:
		category, activity, idTag = "ApplicationManagement", "Update application", "APPXP"
		a := apps[g.r.IntN(len(apps))]
		targets = []Obj{g.target(g.guid(), a.appName, "Application", "", []Obj{
			modProp("AppAddress", `[{"AddressType":0,"Address":"https://app.contoso.com/auth"}]`, `[{"AddressType":0,"Address":"https://app.contoso.com/auth"},{"AddressType":0,"Address":"https://app.contoso.com/signin-oidc"}]`),
			modProp("Included Updated Properties", "", jsonText("AppAddress")),
		})}
	case AuditSecurityInfo:
		category, activity, service, opType, idTag = "UserManagement", "User registered security info", "Authentication Methods", "Add", "SSGM"
		subject = actor
		targets = []Obj{g.target(subject.id, subject.name, "User", subject.upn, nil)}
		reason = "User registered Authenticator App with Notification and Code"
	case AuditServicePrincipal:
		category, activity, opType, idTag = "ApplicationManagement", "Add service principal", "Add", "SPXP"
		a := apps[g.r.IntN(len(apps))]
		targets = []Obj{g.target(g.guid(), a.appName, "ServicePrincipal", "", []Obj{
			modProp("AccountEnabled", "[]", "[true]"),
			modProp("AppPrincipalId", "[]", `["`+a.appID+`"]`),
		})}
	case AuditRoleOther, TriggerDeviceAdminRole:
		category, activity, opType, idTag = "RoleManagement", "Add member to role", "Assign", "ROLEX"
		r := otherRoles[g.r.IntN(len(otherRoles))]
		if sc == TriggerDeviceAdminRole {
			r = deviceRoles[g.r.IntN(len(deviceRoles))]
		}
		targets = []Obj{g.target(subject.id, "", "User", subject.upn, []Obj{
			modProp("Role.ObjectID", nil, jsonText(g.guid())),
			modProp("Role.DisplayName", nil, jsonText(r.name)),
			modProp("Role.TemplateId", nil, jsonText(r.template)),
			modProp("Role.WellKnownObjectName", nil, jsonText(r.wellKnown)),
		})}
	case AuditPIMRequested:
		// The request of a PIM assignment: the completed record that
		// follows it is the assignment (left out here).
		category, activity, service, opType, idPrefix, idTag = "RoleManagement", "Add member to role requested (PIM activation)", "PIM", "CreateRequestPermanentEligibleRole", "PIM", "PIMRQ"
		r := deviceRoles[g.r.IntN(len(deviceRoles))]
		targets = []Obj{
			g.target(g.guid(), r.name, "Role", "", []Obj{
				modProp("RoleDefinitionOriginId", `""`, jsonText(r.template)),
				modProp("TemplateId", `""`, jsonText(r.template)),
			}),
			g.target(g.guid(), "", "Request", "", nil),
			g.target(subject.id, subject.name, "User", "", nil),
		}
		details = []Obj{{{"key", "RoleDefinitionOriginId"}, {"value", r.template}}, {{"key", "Justification"}, {"value", fmt.Sprintf("Ticket CHG-%05d", g.r.IntN(100000))}}}
	case AuditCAPolicyUpdate:
		category, activity, service, idTag = "Policy", "Update conditional access policy", "Conditional Access", "CAPXP"
		p := caPolicies[g.r.IntN(len(caPolicies))]
		old := fmt.Sprintf(`{"id":"%s","displayName":"%s","state":"reportOnly","conditions":{"applications":{"includeApplications":["All"]},"users":{"includeUsers":["All"],"excludeGroups":["%s"]}},"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`, p.id, p.name, g.guid())
		targets = []Obj{g.target(p.id, p.name, "Policy", "", []Obj{
			modProp("ConditionalAccessPolicy", old, old[:len(old)-2]+`,"authenticationStrength":null}}`),
		})}
	case AuditStrongAuthOff:
		category, activity, idTag = "UserManagement", "Update user", "UPDXP"
		targets = []Obj{g.target(subject.id, "", "User", subject.upn, []Obj{
			modProp("StrongAuthenticationRequirement", `[{"RelyingParty":"*","State":1,"RememberDevicesNotIssuedBefore":"2026-01-10T09:12:44.1234567Z"}]`, `[]`),
			modProp("Included Updated Properties", "", jsonText("StrongAuthenticationRequirement")),
		})}
	case TriggerBitLockerRead:
		category, activity, service, opType, idTag = "KeyManagement", "Read BitLocker key", "Device Registration Service", "Read", "BLXP3"
		d := subject.devices[g.r.IntN(len(subject.devices))]
		key := g.guid()
		targets = []Obj{g.target(key, key, "Other", "", nil), g.target(d.id, d.name, "Device", "", nil)}
		if g.r.IntN(20) == 0 {
			result, reason = "failure", "The user is not authorized to read the BitLocker key"
		}
	case TriggerRegPolicyChanged:
		category, activity, service, idTag = "Policy", "Set device registration policies", "Device Registration Service", "POLXP"
		q := 10 * (2 + g.r.IntN(8))
		targets = []Obj{g.target(g.guid(), "Device Registration Policy", "Policy", "", []Obj{
			modProp("UserDeviceQuota", jsonText(fmt.Sprint(q)), jsonText(fmt.Sprint(q+10))),
		})}
	}
	when := g.t.Format("2006-01-02T15:04:05.0000000")
	var initiated Obj
	if initiatedApp {
		initiated = Obj{{"app", Obj{{"appId", nil}, {"displayName", "Device Registration Service"}, {"servicePrincipalId", "1e5b3f8a-9c2d-4e7f-8a1b-2c3d4e5f6a7b"}, {"servicePrincipalName", nil}}}, {"user", nil}}
	} else {
		initiated = Obj{{"app", nil}, {"user", Obj{{"id", actor.id}, {"displayName", nil}, {"userPrincipalName", actor.upn}, {"ipAddress", ip},
			{"userType", nil}, {"homeTenantId", nil}, {"homeTenantName", nil}}}}
	}
	props := Obj{
		{"id", fmt.Sprintf("%s_%s_%s_%d", idPrefix, corr, idTag, 100000000+g.r.IntN(900000000))},
		{"category", category},
		{"correlationId", corr},
		{"result", result},
		{"resultReason", reason},
		{"activityDisplayName", activity},
		{"activityDateTime", when + "+00:00"},
		{"loggedByService", service},
		{"operationType", opType},
		{"initiatedBy", initiated},
		{"targetResources", targets},
		{"additionalDetails", details},
	}
	identity := actor.name
	if initiatedApp {
		identity = "Device Registration Service"
	}
	return Obj{
		{"time", when + "Z"},
		{"resourceId", "/tenants/" + tenantID + "/providers/Microsoft.aadiam"},
		{"operationName", activity},
		{"operationVersion", "1.0"},
		{"category", "AuditLogs"},
		{"tenantId", tenantID},
		{"resultSignature", "None"},
		{"durationMs", 0},
		{"callerIpAddress", ip},
		{"correlationId", corr},
		{"identity", identity},
		{"level", "Informational"},
		{"properties", props},
	}
}

// Audit reports whether the scenario is a directory audit record.
func (s Scenario) Audit() bool { return s >= numSignInScenarios }
