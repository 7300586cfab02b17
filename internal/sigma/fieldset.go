package sigma

// The catalogue of the fields each record kind carries, in each shape it
// reaches entrawatch in (see record.Shape): Log Analytics rows (also the
// normalised portal CSV), Graph objects (also the portal's JSON and the
// properties object of diagnostic-settings records), the diagnostic-settings
// envelope, and the JSON forms of Windows events. CheckFields (lint.go)
// resolves a rule's field names against it the way the field view resolves
// them against a record.
//
// Sources: the Log Analytics table references (SigninLogs,
// AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs,
// AADManagedIdentitySignInLogs, AuditLogs, AzureActivity, AADUserRiskEvents,
// AADRiskyUsers, Syslog, SecurityEvent, WindowsEvent), the Graph v1.0 and
// beta resources (signIn, directoryAudit, device, riskDetection,
// riskyUser), the diagnostic-settings schemas, the Windows event
// documentation, and the output of entrawatch's own readers (the syslog and
// journald readers' Syslog rows, the EVTX and XML readers' evtx_dump shape,
// the CSV reader's columns).
//
// Notation: names separated by spaces; a|b are spellings of one field;
// name{…} is an object, or a list of objects, whose fields are known;
// name* is a field whose content is open (any path under it is accepted);
// "…" quotes a name with spaces. Letter case does not matter.

import (
	"strings"
	"sync"
)

// fieldNode is a field of the catalogue.
type fieldNode struct {
	name string
	kids []*fieldNode // known fields of an object (or of a list's objects)
	idx  map[string]*fieldNode
	open bool // any path under the field is accepted
}

// object reports whether the field holds an object (or a list of objects)
// whose fields are known.
func (n *fieldNode) object() bool { return n.kids != nil && !n.open }

func (n *fieldNode) add(k *fieldNode) {
	if n.idx == nil {
		n.idx = map[string]*fieldNode{}
	}
	key := strings.ToLower(k.name)
	if prev, ok := n.idx[key]; ok {
		// The same field listed twice (in several tables): merge.
		prev.open = prev.open || k.open
		for _, c := range k.kids {
			prev.add(c)
		}
		return
	}
	n.idx[key] = k
	n.kids = append(n.kids, k)
}

func (n *fieldNode) child(name string) *fieldNode {
	return n.idx[strings.ToLower(strings.TrimSpace(name))]
}

// parseFieldList reads the catalogue notation into the children of root.
func parseFieldList(root *fieldNode, src string) {
	p := &fieldParser{s: src}
	p.list(root)
	if p.i < len(p.s) {
		panic("sigma: field catalogue: unexpected " + p.s[p.i:])
	}
}

type fieldParser struct {
	s string
	i int
}

func (p *fieldParser) skip() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *fieldParser) name() string {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		end := strings.IndexByte(p.s[p.i+1:], '"')
		n := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return n
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(" \t\r\n{}|*#", rune(p.s[p.i])) {
		p.i++
	}
	if p.i == start {
		panic("sigma: field catalogue: name expected at " + p.s[p.i:])
	}
	return p.s[start:p.i]
}

func (p *fieldParser) list(parent *fieldNode) {
	for {
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] == '}' {
			return
		}
		names := []string{p.name()}
		for p.i < len(p.s) && p.s[p.i] == '|' {
			p.i++
			names = append(names, p.name())
		}
		proto := &fieldNode{}
		switch {
		case p.i < len(p.s) && p.s[p.i] == '*':
			p.i++
			proto.open = true
		case p.i < len(p.s) && p.s[p.i] == '{':
			p.i++
			proto.kids = []*fieldNode{}
			p.list(proto)
			p.skip()
			if p.i >= len(p.s) || p.s[p.i] != '}' {
				panic("sigma: field catalogue: } expected")
			}
			p.i++
		}
		for _, n := range names {
			parent.add(&fieldNode{name: n, kids: proto.kids, idx: proto.idx, open: proto.open})
		}
	}
}

func fieldTree(src ...string) *fieldNode {
	root := &fieldNode{kids: []*fieldNode{}}
	for _, s := range src {
		parseFieldList(root, s)
	}
	return root
}

// Objects shared by several tables.
const (
	signinDevice      = `{deviceId displayName operatingSystem browser browserId isCompliant isManaged trustType}`
	signinStatus      = `{errorCode failureReason additionalDetails}`
	signinLocation    = `{city state countryOrRegion geoCoordinates{altitude latitude longitude}}`
	signinCAPolicy    = `{id displayName enforcedGrantControls enforcedSessionControls result conditionsSatisfied conditionsNotSatisfied authenticationStrength* includeRulesSatisfied{conditionalAccessCondition ruleSatisfied} excludeRulesSatisfied{conditionalAccessCondition ruleSatisfied} sessionControlsNotSatisfied policyType}`
	signinAuthDetail  = `{authenticationMethod authenticationMethodDetail authenticationStepDateTime authenticationStepRequirement authenticationStepResultDetail succeeded StatusSequence RequestSequence}`
	signinNetwork     = `{networkType networkNames}`
	signinMFA         = `{authMethod authDetail}`
	signinMSI         = `{msiType associatedResourceId federatedTokenId federatedTokenIssuer}`
	keyValue          = `{key value}`
	auditInitiator    = `{user{id displayName userPrincipalName ipAddress userType homeTenantId homeTenantName roles*} app{appId displayName servicePrincipalId servicePrincipalName}}`
	auditTarget       = `{id displayName type userPrincipalName groupType modifiedProperties{displayName oldValue* newValue*} administrativeUnits*}`
	riskLocation      = signinLocation
	diagnosticEnvelop = `time resourceId operationName operationVersion category tenantId resultType resultSignature resultDescription durationMs callerIpAddress correlationId identity* Level location properties*`
)

// Log Analytics columns present in every table.
const laCommon = `TimeGenerated TenantId SourceSystem Type _ResourceId _SubscriptionId _ItemId _BilledSize _IsBillable MG ManagementGroupName`

var (
	signinLA = fieldTree(laCommon, `
		CreatedDateTime Id OperationName OperationVersion Category ResultType ResultSignature ResultDescription DurationMs
		CorrelationId Identity Level Location AppDisplayName AppId ResourceDisplayName ResourceIdentity ResourceId Resource
		ResourceGroup ResourceProvider UserPrincipalName UserDisplayName UserId UserType IPAddress ClientAppUsed
		ConditionalAccessStatus AuthenticationRequirement AuthenticationMethodsUsed AuthenticationProtocol
		AuthenticationContextClassReferences* IsInteractive IsRisky RiskDetail RiskEventTypes RiskEventTypes_V2
		RiskLevelAggregated RiskLevelDuringSignIn RiskState TokenIssuerName TokenIssuerType AlternateSignInName
		SignInIdentifier SignInIdentifierType OriginalRequestId ProcessingTimeInMilliseconds ProcessingTimeInMs HomeTenantId
		HomeTenantName ResourceTenantId AADTenantId ServicePrincipalId ServicePrincipalName ResourceServicePrincipalId
		ServicePrincipalCredentialKeyId ServicePrincipalCredentialThumbprint AutonomousSystemNumber FlaggedForReview
		IPAddressFromResourceProvider SessionLifetimePolicies* UniqueTokenIdentifier UserAgent AppliedEventListeners*
		AppOwnerTenantId ClientCredentialType CrossTenantAccessType FederatedCredentialId GlobalSecureAccessIpAddress
		IncomingTokenType IsTenantRestricted IsThroughGlobalSecureAccess OriginalTransferMethod ResourceOwnerTenantId
		SessionId SignInEventTypes TokenProtectionStatusDetails* Agent* SourceAppClientId AppTokenProtectionStatus
		SignInTokenProtectionStatus ConditionalAccessAudiences* AuthenticationAppDeviceDetails* RiskLevel
		# Headers of the portal's sign-in CSV that the CSV reader keeps as they are.
		"Token Protection - Sign In Session" "Token Protection - Sign In Session StatusCode" "Federated Token Id"
		"Federated Token Issuer"
		DeviceDetail`+signinDevice+` LocationDetails`+signinLocation+` Status`+signinStatus+`
		ConditionalAccessPolicies|ConditionalAccessPoliciesV2`+signinCAPolicy+` AuthenticationDetails`+signinAuthDetail+`
		AuthenticationProcessingDetails`+keyValue+` AuthenticationRequirementPolicies{requirementProvider detail}
		MfaDetail`+signinMFA+` NetworkLocationDetails`+signinNetwork+` ManagedServiceIdentity`+signinMSI)

	signinGraph = fieldTree(`
		@odata.type id createdDateTime appDisplayName appId clientAppUsed conditionalAccessStatus correlationId homeTenantId
		ipAddress isInteractive resourceDisplayName resourceId resourceTenantId riskDetail riskEventTypes riskEventTypes_v2
		riskLevelAggregated riskLevelDuringSignIn riskState servicePrincipalId servicePrincipalName userAgent
		userDisplayName userId userPrincipalName alternateSignInName appOwnerTenantId appTokenProtectionStatus
		appliedEventListeners* authenticationAppPolicyEvaluationDetails* authenticationContextClassReferences*
		authenticationMethodsUsed authenticationProtocol authenticationRequirement autonomousSystemNumber azureResourceId
		clientCredentialType conditionalAccessAudiences* crossTenantAccessType federatedCredentialId flaggedForReview
		globalSecureAccessIpAddress homeTenantName incomingTokenType ipAddressFromResourceProvider isTenantRestricted
		isThroughGlobalSecureAccess originalRequestId originalTransferMethod privateLinkDetails*
		processingTimeInMilliseconds resourceOwnerTenantId resourceServicePrincipalId servicePrincipalCredentialKeyId
		servicePrincipalCredentialThumbprint sessionId sessionLifetimePolicies* signInEventTypes signInIdentifier
		signInIdentifierType signInTokenProtectionStatus tokenIssuerName tokenIssuerType tokenProtectionStatusDetails*
		uniqueTokenIdentifier userType ssoExtensionVersion isRisky agent*
		appliedConditionalAccessPolicies` + signinCAPolicy + ` authenticationAppDeviceDetails{appVersion clientApp deviceId operatingSystem}
		deviceDetail` + signinDevice + ` location` + signinLocation + ` status` + signinStatus + `
		authenticationDetails` + signinAuthDetail + ` authenticationProcessingDetails` + keyValue + `
		authenticationRequirementPolicies{requirementProvider detail} managedServiceIdentity` + signinMSI + `
		mfaDetail` + signinMFA + ` networkLocationDetails` + signinNetwork)

	envelope = fieldTree(diagnosticEnvelop)

	auditLA = fieldTree(laCommon, `
		ActivityDateTime ActivityDisplayName OperationName Category AADOperationType Result ResultReason ResultType
		ResultDescription ResultSignature Id CorrelationId LoggedByService Identity Level Location OperationVersion
		DurationMs AADTenantId Resource ResourceGroup ResourceProvider ResourceId AdditionalDetails*
		InitiatedBy`+auditInitiator+` TargetResources`+auditTarget+`
		# Columns of the portal's audit CSV that keep their header.
		UserAgent IPAddress`)

	auditGraph = fieldTree(`
		@odata.type id activityDateTime activityDisplayName additionalDetails* category correlationId loggedByService
		operationType result resultReason userAgent
		initiatedBy` + auditInitiator + ` targetResources` + auditTarget)

	deviceGraph = fieldTree(`
		@odata.type id deviceId displayName operatingSystem operatingSystemVersion trustType isCompliant isManaged
		accountEnabled approximateLastSignInDateTime registrationDateTime createdDateTime deletedDateTime profileType
		managementType deviceOwnership enrollmentType enrollmentProfileName mdmAppId manufacturer model isRooted
		isManagementRestricted complianceExpirationDateTime onPremisesLastSyncDateTime onPremisesSyncEnabled
		onPremisesSecurityIdentifier physicalIds systemLabels deviceCategory deviceMetadata deviceVersion hostnames domainName
		alternativeSecurityIds{type identityProvider key} extensionAttributes* registeredOwners* registeredUsers*
		memberOf* transitiveMemberOf*`)

	riskLA = fieldTree(laCommon, `
		Id RequestId CorrelationId RiskEventType RiskState RiskLevel RiskDetail Source DetectionTimingType Activity
		TokenIssuerType IpAddress ActivityDateTime DetectedDateTime LastUpdatedDateTime UserId UserDisplayName
		UserPrincipalName AdditionalInfo* OperationName IsDeleted IsProcessing RiskLastUpdatedDateTime
		Location`+riskLocation)

	riskGraph = fieldTree(`
		@odata.type id requestId correlationId riskEventType riskType riskState riskLevel riskDetail source
		detectionTimingType activity tokenIssuerType ipAddress activityDateTime detectedDateTime lastUpdatedDateTime
		userId userDisplayName userPrincipalName additionalInfo* isDeleted isProcessing riskLastUpdatedDateTime history*
		location` + riskLocation)

	// Azure Activity rows. Properties (JSON text) and Properties_d (its
	// dynamic form) hold the event's own fields: open.
	activityLA = fieldTree(laCommon, `
		CallerIpAddress CategoryValue CorrelationId Authorization* Authorization_d* Claims* Claims_d* Level
		OperationNameValue Properties* Properties_d* Caller EventDataId EventSubmissionTimestamp HTTPRequest* OperationId
		ResourceGroup ResourceProviderValue ActivityStatusValue ActivitySubstatusValue Hierarchy SubscriptionId
		OperationName ActivityStatus ActivitySubstatus Category ResourceId ResourceProvider Resource`)

	// Syslog rows: the Log Analytics Syslog table and entrawatch's syslog
	// and journald readers (which add EntraLoginCheck and RawLine).
	syslogLA = fieldTree(laCommon, `
		Computer HostName ProcessName ProcessID SyslogMessage Facility SeverityLevel EntraLoginCheck EventTime
		RawLine* # the input line, JSON for journald entries
		HostIP CollectorHostName`)
)

// Windows events. The System values and the Log Analytics, NXLog and
// Winlogbeat columns are always known; the EventData names are known for
// the events below, and open for any other event.
const windowsBase = `
	EventID EventId event_id EventCode Computer TimeGenerated TimeCreated EventTime EventRecordID RecordNumber
	record_number Channel log_name Provider ProviderName SourceName source_name computer_name Hostname EventRecordId
	# SecurityEvent
	Account AccountType Activity EventSourceName EventOriginId SourceComputerId TimeCollected Task Level
	LogonTypeName TargetAccount SubjectAccount Process AccessMask LogonGuid_string ProcessId_string
	# WindowsEvent
	EventLevel EventLevelName Keywords Opcode RawEventData SystemProcessId SystemThreadId SystemUserId Version Correlation*
	# NXLog
	EventType SeverityValue Severity ProviderGuid OpcodeValue ActivityID ExecutionProcessID ExecutionThreadID Message
	Category EventReceivedTime SourceModuleName SourceModuleType AccountName Domain UserID ProcessID ThreadID
	# Winlogbeat / ECS and evtx_dump
	winlog* host* agent* @timestamp @version message log* ecs* tags port
	`

// windowsData places an event's data (ed: "*" when open, else "{names}")
// where each form of Windows event keeps it.
func windowsData(ed string) string {
	return `event{code created action outcome kind category type provider module dataset ingested original
		System* UserData* "#attributes"* EventData` + ed + `} EventData` + ed + ` event_data` + ed
}

// windowsEvents lists the EventData names of the events whose data
// entrawatch's detections and the catalogue know.
var windowsEvents = map[string]string{
	"4624": `SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId TargetUserSid TargetUserName TargetDomainName
		TargetLogonId LogonType LogonProcessName AuthenticationPackageName WorkstationName LogonGuid TransmittedServices
		LmPackageName KeyLength ProcessId ProcessName IpAddress IpPort ImpersonationLevel RestrictedAdminMode
		RemoteCredentialGuard TargetOutboundUserName TargetOutboundDomainName VirtualAccount TargetLinkedLogonId
		ElevatedToken`,
	"4625": `SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId TargetUserSid TargetUserName TargetDomainName
		Status FailureReason SubStatus LogonType LogonProcessName AuthenticationPackageName WorkstationName
		TransmittedServices LmPackageName KeyLength ProcessId ProcessName IpAddress IpPort`,
	"4672": `SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId PrivilegeList`,
	"4688": `SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId NewProcessId NewProcessName TokenElevationType
		ProcessId CommandLine TargetUserSid TargetUserName TargetDomainName TargetLogonId ParentProcessName MandatoryLabel`,
	// The legacy logon events name their insertion strings after the
	// message's labels (entrawatch's XML reader).
	"528": `"User Name" Domain "Logon ID" "Logon Type" "Logon Process" "Authentication Package" "Workstation Name"
		"Logon GUID" "Caller User Name" "Caller Domain" "Caller Logon ID" "Caller Process ID" "Transited Services"
		"Source Network Address" "Source Port"`,
}

func init() { windowsEvents["540"] = windowsEvents["528"] }

var (
	windowsMu    sync.Mutex
	windowsTrees = map[string]*fieldNode{}
)

// windowsTree returns the catalogue of Windows events with the given ids
// (sorted, joined by commas); "" means events not all known, whose
// EventData is open.
func windowsTree(ids string) *fieldNode {
	windowsMu.Lock()
	defer windowsMu.Unlock()
	if t, ok := windowsTrees[ids]; ok {
		return t
	}
	var t *fieldNode
	if ids == "" {
		t = fieldTree(laCommon, windowsBase, windowsData("*"))
		// Any flat name may be an EventData value of an unknown event.
		t.open = true
	} else {
		var data []string
		for _, id := range strings.Split(ids, ",") {
			data = append(data, windowsEvents[id])
		}
		d := strings.Join(data, " ")
		t = fieldTree(laCommon, windowsBase, windowsData("{"+d+"}"), d)
	}
	windowsTrees[ids] = t
	return t
}
