package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"time"
)

// The Graph shapes served, with the fields in Graph's order. Nullable
// fields are pointers; collections are never nil, so they render as [].

type signIn struct {
	ID                                string          `json:"id"`
	CreatedDateTime                   string          `json:"createdDateTime"`
	UserDisplayName                   string          `json:"userDisplayName"`
	UserPrincipalName                 string          `json:"userPrincipalName"`
	UserID                            string          `json:"userId"`
	AppID                             string          `json:"appId"`
	AppDisplayName                    string          `json:"appDisplayName"`
	IPAddress                         string          `json:"ipAddress"`
	ClientAppUsed                     string          `json:"clientAppUsed"`
	CorrelationID                     string          `json:"correlationId"`
	ConditionalAccessStatus           string          `json:"conditionalAccessStatus"`
	OriginalRequestID                 string          `json:"originalRequestId"`
	IsInteractive                     bool            `json:"isInteractive"`
	RiskDetail                        string          `json:"riskDetail"`
	RiskLevelAggregated               string          `json:"riskLevelAggregated"`
	RiskLevelDuringSignIn             string          `json:"riskLevelDuringSignIn"`
	RiskState                         string          `json:"riskState"`
	RiskEventTypes                    []string        `json:"riskEventTypes"`
	RiskEventTypesV2                  []string        `json:"riskEventTypes_v2"`
	ResourceDisplayName               string          `json:"resourceDisplayName"`
	ResourceID                        string          `json:"resourceId"`
	Status                            signInStatus    `json:"status"`
	DeviceDetail                      deviceDetail    `json:"deviceDetail"`
	Location                          signInLocation  `json:"location"`
	AppliedConditionalAccessPolicies  []appliedCA     `json:"appliedConditionalAccessPolicies"`
	UserType                          string          `json:"userType"`
	SignInEventTypes                  []string        `json:"signInEventTypes"`
	AuthenticationRequirement         string          `json:"authenticationRequirement"`
	AuthenticationMethodsUsed         []string        `json:"authenticationMethodsUsed"`
	AuthenticationDetails             []authDetail    `json:"authenticationDetails"`
	AuthenticationRequirementPolicies []authReqPolicy `json:"authenticationRequirementPolicies"`
	AuthenticationProcessingDetails   []keyValue      `json:"authenticationProcessingDetails"`
	NetworkLocationDetails            []networkLoc    `json:"networkLocationDetails"`
	TokenIssuerType                   string          `json:"tokenIssuerType"`
	TokenIssuerName                   string          `json:"tokenIssuerName"`
	UserAgent                         string          `json:"userAgent"`
	HomeTenantID                      string          `json:"homeTenantId"`
	ResourceTenantID                  string          `json:"resourceTenantId"`
	AppOwnerTenantID                  string          `json:"appOwnerTenantId"`
	ResourceOwnerTenantID             string          `json:"resourceOwnerTenantId"`
	ProcessingTimeInMilliseconds      int             `json:"processingTimeInMilliseconds"`
	CrossTenantAccessType             string          `json:"crossTenantAccessType"`
	IncomingTokenType                 string          `json:"incomingTokenType"`
	AuthenticationProtocol            string          `json:"authenticationProtocol"`
	SignInIdentifier                  string          `json:"signInIdentifier"`
	SignInIdentifierType              string          `json:"signInIdentifierType"`
	SessionID                         string          `json:"sessionId"`
	UniqueTokenIdentifier             string          `json:"uniqueTokenIdentifier"`
	AutonomousSystemNumber            int             `json:"autonomousSystemNumber"`
	FlaggedForReview                  bool            `json:"flaggedForReview"`
	IsTenantRestricted                bool            `json:"isTenantRestricted"`
}

type signInStatus struct {
	ErrorCode         int     `json:"errorCode"`
	FailureReason     *string `json:"failureReason"`
	AdditionalDetails *string `json:"additionalDetails"`
}

type deviceDetail struct {
	DeviceID        string  `json:"deviceId"`
	DisplayName     *string `json:"displayName"`
	OperatingSystem string  `json:"operatingSystem"`
	Browser         string  `json:"browser"`
	IsCompliant     *bool   `json:"isCompliant"`
	IsManaged       *bool   `json:"isManaged"`
	TrustType       *string `json:"trustType"`
	BrowserID       *string `json:"browserId"`
}

type signInLocation struct {
	City            string    `json:"city"`
	State           string    `json:"state"`
	CountryOrRegion string    `json:"countryOrRegion"`
	GeoCoordinates  geoCoords `json:"geoCoordinates"`
}

type geoCoords struct {
	Altitude  *float64 `json:"altitude"`
	Latitude  float64  `json:"latitude"`
	Longitude float64  `json:"longitude"`
}

type appliedCA struct {
	ID                      string   `json:"id"`
	DisplayName             string   `json:"displayName"`
	EnforcedGrantControls   []string `json:"enforcedGrantControls"`
	EnforcedSessionControls []string `json:"enforcedSessionControls"`
	Result                  string   `json:"result"`
}

type authDetail struct {
	AuthenticationStepDateTime     string  `json:"authenticationStepDateTime"`
	AuthenticationMethod           string  `json:"authenticationMethod"`
	AuthenticationMethodDetail     *string `json:"authenticationMethodDetail"`
	Succeeded                      bool    `json:"succeeded"`
	AuthenticationStepResultDetail string  `json:"authenticationStepResultDetail"`
	AuthenticationStepRequirement  string  `json:"authenticationStepRequirement"`
}

type authReqPolicy struct {
	RequirementProvider string `json:"requirementProvider"`
	Detail              string `json:"detail"`
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type networkLoc struct {
	NetworkType  string   `json:"networkType"`
	NetworkNames []string `json:"networkNames"`
}

type directoryAudit struct {
	ID                  string           `json:"id"`
	Category            string           `json:"category"`
	CorrelationID       string           `json:"correlationId"`
	Result              string           `json:"result"`
	ResultReason        string           `json:"resultReason"`
	ActivityDisplayName string           `json:"activityDisplayName"`
	ActivityDateTime    string           `json:"activityDateTime"`
	LoggedByService     string           `json:"loggedByService"`
	OperationType       string           `json:"operationType"`
	InitiatedBy         initiator        `json:"initiatedBy"`
	TargetResources     []targetResource `json:"targetResources"`
	AdditionalDetails   []keyValue       `json:"additionalDetails"`
}

type initiator struct {
	App  *appIdentity  `json:"app"`
	User *userIdentity `json:"user"`
}

type appIdentity struct {
	AppID                *string `json:"appId"`
	DisplayName          string  `json:"displayName"`
	ServicePrincipalID   string  `json:"servicePrincipalId"`
	ServicePrincipalName *string `json:"servicePrincipalName"`
}

type userIdentity struct {
	ID                string  `json:"id"`
	DisplayName       *string `json:"displayName"`
	UserPrincipalName string  `json:"userPrincipalName"`
	IPAddress         string  `json:"ipAddress"`
	UserType          *string `json:"userType"`
	HomeTenantID      *string `json:"homeTenantId"`
	HomeTenantName    *string `json:"homeTenantName"`
}

type targetResource struct {
	ID                 string             `json:"id"`
	DisplayName        *string            `json:"displayName"`
	Type               string             `json:"type"`
	UserPrincipalName  *string            `json:"userPrincipalName"`
	GroupType          *string            `json:"groupType"`
	ModifiedProperties []modifiedProperty `json:"modifiedProperties"`
}

type modifiedProperty struct {
	DisplayName string  `json:"displayName"`
	OldValue    *string `json:"oldValue"`
	NewValue    *string `json:"newValue"`
}

type deviceJSON struct {
	ID                            string             `json:"id"`
	AccountEnabled                bool               `json:"accountEnabled"`
	ApproximateLastSignInDateTime *string            `json:"approximateLastSignInDateTime"`
	ComplianceExpirationDateTime  *string            `json:"complianceExpirationDateTime"`
	CreatedDateTime               string             `json:"createdDateTime"`
	DeletedDateTime               *string            `json:"deletedDateTime"`
	DeviceCategory                *string            `json:"deviceCategory"`
	DeviceID                      string             `json:"deviceId"`
	DeviceMetadata                *string            `json:"deviceMetadata"`
	DeviceOwnership               string             `json:"deviceOwnership"`
	DeviceVersion                 int                `json:"deviceVersion"`
	DisplayName                   string             `json:"displayName"`
	DomainName                    *string            `json:"domainName"`
	EnrollmentProfileName         *string            `json:"enrollmentProfileName"`
	EnrollmentType                *string            `json:"enrollmentType"`
	IsCompliant                   bool               `json:"isCompliant"`
	IsManaged                     bool               `json:"isManaged"`
	Manufacturer                  string             `json:"manufacturer"`
	MdmAppID                      *string            `json:"mdmAppId"`
	Model                         string             `json:"model"`
	OnPremisesLastSyncDateTime    *string            `json:"onPremisesLastSyncDateTime"`
	OnPremisesSyncEnabled         *bool              `json:"onPremisesSyncEnabled"`
	OperatingSystem               string             `json:"operatingSystem"`
	OperatingSystemVersion        string             `json:"operatingSystemVersion"`
	PhysicalIDs                   []string           `json:"physicalIds"`
	ProfileType                   string             `json:"profileType"`
	RegistrationDateTime          string             `json:"registrationDateTime"`
	SystemLabels                  []string           `json:"systemLabels"`
	TrustType                     string             `json:"trustType"`
	ExtensionAttributes           map[string]*string `json:"extensionAttributes"`
	AlternativeSecurityIDs        []altSecurityID    `json:"alternativeSecurityIds"`
}

type altSecurityID struct {
	Type             int     `json:"type"`
	IdentityProvider *string `json:"identityProvider"`
	Key              string  `json:"key"`
}

func ptr[T any](v T) *T { return &v }

// recordTime formats a record timestamp as Graph does: UTC, 7 fractional
// digits.
func recordTime(t time.Time) string { return t.UTC().Format(graphRecordTimeFmt) }

// deviceTime formats a device timestamp as Graph does: UTC, seconds.
func deviceTime(t time.Time) string { return t.UTC().Format(graphDeviceTimeFmt) }

// mustJSON marshals a value built by this package; its types always
// marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("graphsim: marshal " + err.Error())
	}
	return b
}

// render returns the Graph JSON of a device.
func (d *device) render() []byte {
	j := deviceJSON{
		ID: d.id, AccountEnabled: d.accountEnabled, CreatedDateTime: deviceTime(d.registered), DeviceID: d.deviceID,
		DeviceOwnership: d.ownership, DeviceVersion: 2, DisplayName: d.displayName, IsCompliant: d.compliant, IsManaged: d.managed,
		Manufacturer: d.manufacturer, Model: d.model, OperatingSystem: d.os, OperatingSystemVersion: d.osVersion,
		PhysicalIDs: []string{}, ProfileType: "RegisteredDevice", RegistrationDateTime: deviceTime(d.registered),
		SystemLabels: []string{}, TrustType: d.trustType, EnrollmentType: ptr(d.enrollmentType),
		ExtensionAttributes:    map[string]*string{"extensionAttribute1": nil},
		AlternativeSecurityIDs: []altSecurityID{{Type: 2, Key: base64.StdEncoding.EncodeToString([]byte("X509:<SHA1-TP-PUBKEY>" + d.deviceID))}},
	}
	if !d.lastSignIn.IsZero() {
		j.ApproximateLastSignInDateTime = ptr(deviceTime(d.lastSignIn))
	}
	if d.mdm {
		j.MdmAppID = ptr(intuneAppID)
	}
	if d.onPrem {
		j.OnPremisesSyncEnabled = ptr(true)
		j.OnPremisesLastSyncDateTime = ptr(deviceTime(d.registered.Add(time.Hour)))
		j.DomainName = ptr("corp." + Domain)
	}
	if d.autopilot {
		j.PhysicalIDs = []string{"[ZTDID]:" + d.deviceID, "[OrderId]:CONTOSO-2025", "[PurchaseOrderId]:PO-4711"}
		j.EnrollmentProfileName = ptr("Contoso Autopilot")
	}
	return mustJSON(j)
}

// uniqueTokenID draws a uniqueTokenIdentifier (22 base64url characters).
func uniqueTokenID(rng *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 22)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
