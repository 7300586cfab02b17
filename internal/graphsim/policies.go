package graphsim

import (
	"math/rand/v2"
	"time"
)

// Conditional Access policies of the organisation. None requires MFA for
// the user action "Register or join devices", so the registration policy
// alone decides whether registering needs MFA.
const (
	caAdmins = iota
	caLegacy
	caOffice
	caSecInfo
	caFrequency
	caAzureCompliant
)

type caSpec struct {
	key                  int
	name, state          string
	includeApps, actions []string
	includeUsers, roles  []string
	clientApps           []string
	excludeTrusted       bool
	grant                []string // builtInControls; nil: session controls only
}

var caSpecs = []caSpec{
	{key: caAdmins, name: "Require MFA for administrators", state: "enabled", includeApps: []string{"All"},
		roles: []string{RoleGlobalAdministrator, RoleCloudDeviceAdministrator}, clientApps: []string{"all"}, grant: []string{"mfa"}},
	{key: caLegacy, name: "Block legacy authentication", state: "enabled", includeApps: []string{"All"}, includeUsers: []string{"All"},
		clientApps: []string{"exchangeActiveSync", "other"}, grant: []string{"block"}},
	{key: caOffice, name: "Require MFA for Office 365 outside trusted locations", state: "enabled", includeApps: []string{"Office365"},
		includeUsers: []string{"All"}, clientApps: []string{"all"}, excludeTrusted: true, grant: []string{"mfa"}},
	{key: caSecInfo, name: "Require MFA to register security information", state: "enabled", actions: []string{"urn:user:registersecurityinfo"},
		includeUsers: []string{"All"}, clientApps: []string{"all"}, grant: []string{"mfa"}},
	{key: caFrequency, name: "Sign-in frequency 12 hours for all users", state: "enabled", includeApps: []string{"All"},
		includeUsers: []string{"All"}, clientApps: []string{"all"}},
	{key: caAzureCompliant, name: "Require compliant device for Azure management", state: "enabledForReportingButNotEnforced",
		includeApps: []string{appPortal.resourceID}, includeUsers: []string{"All"}, clientApps: []string{"all"}, grant: []string{"compliantDevice"}},
}

// grantDisplay is how sign-in logs name the policy's grant controls.
func (p caSpec) grantDisplay() []string {
	out := []string{}
	for _, g := range p.grant {
		switch g {
		case "mfa":
			out = append(out, "Mfa")
		case "block":
			out = append(out, "Block")
		case "compliantDevice":
			out = append(out, "RequireCompliantDevice")
		}
	}
	return out
}

func (p caSpec) sessionDisplay() []string {
	if p.grant == nil {
		return []string{"SignInFrequency"}
	}
	return []string{}
}

type caPolicy struct {
	ID               string       `json:"id"`
	TemplateID       *string      `json:"templateId"`
	DisplayName      string       `json:"displayName"`
	CreatedDateTime  string       `json:"createdDateTime"`
	ModifiedDateTime string       `json:"modifiedDateTime"`
	State            string       `json:"state"`
	SessionControls  *caSession   `json:"sessionControls"`
	Conditions       caConditions `json:"conditions"`
	GrantControls    *caGrant     `json:"grantControls"`
}

type caSession struct {
	ApplicationEnforcedRestrictions *struct{}    `json:"applicationEnforcedRestrictions"`
	CloudAppSecurity                *struct{}    `json:"cloudAppSecurity"`
	PersistentBrowser               *struct{}    `json:"persistentBrowser"`
	ContinuousAccessEvaluation      *struct{}    `json:"continuousAccessEvaluation"`
	DisableResilienceDefaults       *bool        `json:"disableResilienceDefaults"`
	SignInFrequency                 caSignInFreq `json:"signInFrequency"`
}

type caSignInFreq struct {
	Value              int    `json:"value"`
	Type               string `json:"type"`
	AuthenticationType string `json:"authenticationType"`
	FrequencyInterval  string `json:"frequencyInterval"`
	IsEnabled          bool   `json:"isEnabled"`
}

type caConditions struct {
	UserRiskLevels             []string     `json:"userRiskLevels"`
	SignInRiskLevels           []string     `json:"signInRiskLevels"`
	ClientAppTypes             []string     `json:"clientAppTypes"`
	ServicePrincipalRiskLevels []string     `json:"servicePrincipalRiskLevels"`
	Platforms                  *struct{}    `json:"platforms"`
	Locations                  *caLocations `json:"locations"`
	Devices                    *struct{}    `json:"devices"`
	ClientApplications         *struct{}    `json:"clientApplications"`
	Applications               caApps       `json:"applications"`
	Users                      caUsers      `json:"users"`
}

type caLocations struct {
	IncludeLocations []string `json:"includeLocations"`
	ExcludeLocations []string `json:"excludeLocations"`
}

type caApps struct {
	IncludeApplications                         []string  `json:"includeApplications"`
	ExcludeApplications                         []string  `json:"excludeApplications"`
	IncludeUserActions                          []string  `json:"includeUserActions"`
	IncludeAuthenticationContextClassReferences []string  `json:"includeAuthenticationContextClassReferences"`
	ApplicationFilter                           *struct{} `json:"applicationFilter"`
}

type caUsers struct {
	IncludeUsers                 []string  `json:"includeUsers"`
	ExcludeUsers                 []string  `json:"excludeUsers"`
	IncludeGroups                []string  `json:"includeGroups"`
	ExcludeGroups                []string  `json:"excludeGroups"`
	IncludeRoles                 []string  `json:"includeRoles"`
	ExcludeRoles                 []string  `json:"excludeRoles"`
	IncludeGuestsOrExternalUsers *struct{} `json:"includeGuestsOrExternalUsers"`
	ExcludeGuestsOrExternalUsers *struct{} `json:"excludeGuestsOrExternalUsers"`
}

type caGrant struct {
	Operator                    string    `json:"operator"`
	BuiltInControls             []string  `json:"builtInControls"`
	CustomAuthenticationFactors []string  `json:"customAuthenticationFactors"`
	TermsOfUse                  []string  `json:"termsOfUse"`
	AuthenticationStrength      *struct{} `json:"authenticationStrength"`
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// caPolicyJSON renders the policies as the elements of a Graph list and
// records their ids in o.caIDs.
func caPolicyJSON(rng *rand.Rand, o *org, t0 time.Time) [][]byte {
	o.caIDs = map[int]string{}
	breakGlass := o.users[userBreakGlass].id
	var out [][]byte
	for i, s := range caSpecs {
		id := newGUID(rng)
		o.caIDs[s.key] = id
		created := t0.Add(-time.Duration(400-20*i) * 24 * time.Hour).Add(-time.Duration(rng.IntN(86400)) * time.Second)
		p := caPolicy{
			ID: id, DisplayName: s.name, State: s.state,
			CreatedDateTime: recordTime(created), ModifiedDateTime: recordTime(created.Add(time.Duration(30+rng.IntN(60)) * 24 * time.Hour)),
			Conditions: caConditions{
				UserRiskLevels: []string{}, SignInRiskLevels: []string{}, ClientAppTypes: s.clientApps, ServicePrincipalRiskLevels: []string{},
				Applications: caApps{IncludeApplications: orEmpty(s.includeApps), ExcludeApplications: []string{},
					IncludeUserActions: orEmpty(s.actions), IncludeAuthenticationContextClassReferences: []string{}},
				Users: caUsers{IncludeUsers: orEmpty(s.includeUsers), ExcludeUsers: []string{breakGlass}, IncludeGroups: []string{},
					ExcludeGroups: []string{}, IncludeRoles: orEmpty(s.roles), ExcludeRoles: []string{}},
			},
		}
		if s.excludeTrusted {
			p.Conditions.Locations = &caLocations{IncludeLocations: []string{"All"}, ExcludeLocations: []string{"AllTrusted"}}
		}
		if s.grant != nil {
			p.GrantControls = &caGrant{Operator: "OR", BuiltInControls: s.grant, CustomAuthenticationFactors: []string{}, TermsOfUse: []string{}}
		} else {
			p.SessionControls = &caSession{SignInFrequency: caSignInFreq{Value: 12, Type: "hours",
				AuthenticationType: "primaryAndSecondaryAuthentication", FrequencyInterval: "timeBased", IsEnabled: true}}
		}
		out = append(out, mustJSON(p))
	}
	return out
}

type registrationPolicy struct {
	Context                      string         `json:"@odata.context"`
	ID                           string         `json:"id"`
	DisplayName                  string         `json:"displayName"`
	Description                  string         `json:"description"`
	UserDeviceQuota              int            `json:"userDeviceQuota"`
	MultiFactorAuthConfiguration string         `json:"multiFactorAuthConfiguration"`
	AzureADRegistration          map[string]any `json:"azureADRegistration"`
	AzureADJoin                  azureADJoin    `json:"azureADJoin"`
	LocalAdminPassword           map[string]any `json:"localAdminPassword"`
}

type azureADJoin struct {
	IsAdminConfigurable bool           `json:"isAdminConfigurable"`
	AllowedToJoin       map[string]any `json:"allowedToJoin"`
	LocalAdmins         map[string]any `json:"localAdmins"`
}

// registrationPolicyJSON renders the deviceRegistrationPolicy object.
func registrationPolicyJSON(context string, mfaRequired bool) []byte {
	mfa := "notRequired"
	if mfaRequired {
		mfa = "required"
	}
	return mustJSON(registrationPolicy{
		Context: context, ID: "deviceRegistrationPolicy", DisplayName: "Device Registration Policy",
		Description:     "Tenant-wide policy that manages initial provisioning controls using quota restrictions, additional authentication and authorization checks",
		UserDeviceQuota: 50, MultiFactorAuthConfiguration: mfa,
		AzureADRegistration: map[string]any{"isAdminConfigurable": false,
			"allowedToRegister": map[string]any{"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"}},
		AzureADJoin: azureADJoin{IsAdminConfigurable: true,
			AllowedToJoin: map[string]any{"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
			LocalAdmins: map[string]any{"enableGlobalAdmins": true,
				"registeringUsers": map[string]any{"@odata.type": "#microsoft.graph.noDeviceRegistrationMembership"}}},
		LocalAdminPassword: map[string]any{"isEnabled": true},
	})
}

type roleAssignmentJSON struct {
	ID               string         `json:"id"`
	PrincipalID      string         `json:"principalId"`
	RoleDefinitionID string         `json:"roleDefinitionId"`
	DirectoryScopeID string         `json:"directoryScopeId"`
	AppScopeID       *string        `json:"appScopeId"`
	Principal        *principalJSON `json:"principal,omitempty"`
}

type eligibilityJSON struct {
	ID               string         `json:"id"`
	PrincipalID      string         `json:"principalId"`
	RoleDefinitionID string         `json:"roleDefinitionId"`
	DirectoryScopeID string         `json:"directoryScopeId"`
	AppScopeID       *string        `json:"appScopeId"`
	CreatedUsing     string         `json:"createdUsing"`
	CreatedDateTime  string         `json:"createdDateTime"`
	ModifiedDateTime *string        `json:"modifiedDateTime"`
	Status           string         `json:"status"`
	MemberType       string         `json:"memberType"`
	ScheduleInfo     map[string]any `json:"scheduleInfo"`
	Principal        *principalJSON `json:"principal,omitempty"`
}

type principalJSON struct {
	Type              string   `json:"@odata.type"`
	ID                string   `json:"id"`
	BusinessPhones    []string `json:"businessPhones"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName"`
	JobTitle          string   `json:"jobTitle"`
	Mail              string   `json:"mail"`
	MobilePhone       *string  `json:"mobilePhone"`
	OfficeLocation    *string  `json:"officeLocation"`
	PreferredLanguage string   `json:"preferredLanguage"`
	Surname           string   `json:"surname"`
	UserPrincipalName string   `json:"userPrincipalName"`
}

func (o *org) principal(id string) *principalJSON {
	for _, u := range o.users {
		if u.id == id {
			return &principalJSON{Type: "#microsoft.graph.user", ID: u.id, BusinessPhones: []string{}, DisplayName: u.displayName,
				GivenName: u.given, JobTitle: u.jobTitle, Mail: u.upn, PreferredLanguage: "en-US", Surname: u.surname,
				UserPrincipalName: u.upn}
		}
	}
	return nil
}
