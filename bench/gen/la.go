package gen

import "fmt"

// laRow renders a sign-in as a Log Analytics row as the query API returns it:
// PascalCase columns, dynamic columns as objects in SigninLogs but as JSON
// text in AADNonInteractiveUserSignInLogs, and the always-string columns
// (NetworkLocationDetails, AuthenticationDetails…) as JSON text.
func laRow(env, p Obj) Obj {
	nonInteractive := env.Get("category") == "NonInteractiveUserSignInLogs"
	table := "SigninLogs"
	if nonInteractive {
		table = "AADNonInteractiveUserSignInLogs"
	}
	dyn := func(v any) any {
		if nonInteractive {
			return Text{v}
		}
		return v
	}
	str := func(v any) any { return Text{v} }
	procTime := "ProcessingTimeInMilliseconds"
	if nonInteractive {
		procTime = "ProcessingTimeInMs"
	}
	return Obj{
		{"TenantId", "5b7e2f1c-0d3a-4e6b-8c9d-7a1b2c3d4e5f"},
		{"SourceSystem", "Azure AD"},
		{"TimeGenerated", toLATime(env.Get("time").(string))},
		{"ResourceId", env.Get("resourceId")},
		{"OperationName", "Sign-in activity"},
		{"OperationVersion", "1.0"},
		{"Category", env.Get("category")},
		{"ResultType", env.Get("resultType")},
		{"ResultSignature", "None"},
		{"ResultDescription", env.Get("resultDescription")},
		{"DurationMs", 0},
		{"CorrelationId", env.Get("correlationId")},
		{"Resource", "Microsoft.aadiam"},
		{"ResourceGroup", "Microsoft.aadiam"},
		{"ResourceProvider", "Microsoft.aadiam"},
		{"Identity", env.Get("identity")},
		{"Level", "4"},
		{"Location", env.Get("location")},
		{"AlternateSignInName", p.Get("alternateSignInName")},
		{"AppDisplayName", p.Get("appDisplayName")},
		{"AppId", p.Get("appId")},
		{"AuthenticationContextClassReferences", str(p.Get("authenticationContextClassReferences"))},
		{"AuthenticationDetails", str(p.Get("authenticationDetails"))},
		{"AppliedEventListeners", []any{}},
		{"AuthenticationMethodsUsed", str(p.Get("authenticationMethodsUsed"))},
		{"AuthenticationProcessingDetails", str(p.Get("authenticationProcessingDetails"))},
		{"AuthenticationRequirement", p.Get("authenticationRequirement")},
		{"AuthenticationRequirementPolicies", str(p.Get("authenticationRequirementPolicies"))},
		{"ClientAppUsed", p.Get("clientAppUsed")},
		{"ConditionalAccessPolicies", dyn(p.Get("appliedConditionalAccessPolicies"))},
		{"ConditionalAccessStatus", p.Get("conditionalAccessStatus")},
		{"CreatedDateTime", toLATime(p.Get("createdDateTime").(string))},
		{"DeviceDetail", dyn(p.Get("deviceDetail"))},
		{"IsInteractive", p.Get("isInteractive")},
		{"Id", p.Get("id")},
		{"IPAddress", p.Get("ipAddress")},
		{"IsRisky", p.Get("riskState") == "atRisk"},
		{"LocationDetails", dyn(p.Get("location"))},
		{"MfaDetail", dyn(p.Get("mfaDetail"))},
		{"NetworkLocationDetails", str(p.Get("networkLocationDetails"))},
		{"OriginalRequestId", p.Get("originalRequestId")},
		{procTime, fmt.Sprint(p.Get("processingTimeInMilliseconds"))},
		{"RiskDetail", p.Get("riskDetail")},
		{"RiskEventTypes", str(p.Get("riskEventTypes"))},
		{"RiskEventTypes_V2", str(p.Get("riskEventTypes_v2"))},
		{"RiskLevelAggregated", p.Get("riskLevelAggregated")},
		{"RiskLevelDuringSignIn", p.Get("riskLevelDuringSignIn")},
		{"RiskState", p.Get("riskState")},
		{"ResourceDisplayName", p.Get("resourceDisplayName")},
		{"ResourceIdentity", p.Get("resourceId")},
		{"ServicePrincipalId", ""},
		{"ServicePrincipalName", ""},
		{"Status", dyn(p.Get("status"))},
		{"TokenIssuerName", ""},
		{"TokenIssuerType", "AzureAD"},
		{"UserAgent", p.Get("userAgent")},
		{"UserDisplayName", p.Get("userDisplayName")},
		{"UserId", p.Get("userId")},
		{"UserPrincipalName", p.Get("userPrincipalName")},
		{"AADTenantId", env.Get("tenantId")},
		{"UserType", p.Get("userType")},
		{"FlaggedForReview", false},
		{"IPAddressFromResourceProvider", ""},
		{"SignInIdentifier", p.Get("signInIdentifier")},
		{"SignInIdentifierType", p.Get("signInIdentifierType")},
		{"ResourceTenantId", p.Get("resourceTenantId")},
		{"HomeTenantId", p.Get("homeTenantId")},
		{"UniqueTokenIdentifier", p.Get("uniqueTokenIdentifier")},
		{"SessionLifetimePolicies", str(p.Get("sessionLifetimePolicies"))},
		{"AutonomousSystemNumber", fmt.Sprint(p.Get("autonomousSystemNumber"))},
		{"AuthenticationProtocol", p.Get("authenticationProtocol")},
		{"CrossTenantAccessType", p.Get("crossTenantAccessType")},
		{"AppOwnerTenantId", p.Get("appOwnerTenantId")},
		{"IncomingTokenType", p.Get("incomingTokenType")},
		{"IsTenantRestricted", false},
		{"IsThroughGlobalSecureAccess", false},
		{"GlobalSecureAccessIpAddress", ""},
		{"OriginalTransferMethod", "none"},
		{"SessionId", p.Get("sessionId")},
		{"SignInEventTypes", str(p.Get("signInEventTypes"))},
		{"Type", table},
	}
}

// toLATime turns "2026-11-01T00:00:00.1234567Z" or "…+00:00" into the Log
// Analytics form "2026-11-01T00:00:00.123Z".
func toLATime(s string) string {
	if len(s) >= 23 {
		return s[:23] + "Z"
	}
	return s
}
