package kql

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// signinTemplate is a diagnostic-settings sign-in as bench/cmd/gen writes
// them (about 4 KB, 59 properties), with @NAME@ placeholders for the
// fields genSignins varies.
const signinTemplate = `{"time":"@TIME@","resourceId":"/tenants/3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"@CATEGORY@","tenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","resultType":"@RESULT@","resultSignature":"None","resultDescription":"","durationMs":0,"callerIpAddress":"81.2.69.13","correlationId":"@ID@","identity":"Amara Mueller","Level":4,"location":"GB","properties":{"id":"@ID@","createdDateTime":"@TIME@","userDisplayName":"Amara Mueller","userPrincipalName":"@UPN@","userId":"a2575899-0922-4044-ae3b-908a8da9ff7a","appId":"9ba1a5c7-f17a-4de9-a1f1-6178c8d51223","appDisplayName":"Microsoft Intune Company Portal","ipAddress":"81.2.69.13","status":{"errorCode":@ERRCODE@},"clientAppUsed":"Mobile Apps and Desktop clients","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0","deviceDetail":{"deviceId":"@DEVICEID@","displayName":"LAPTOP-B431C7","operatingSystem":"Windows 11","browser":"Edge 131.0.0","isCompliant":@COMPLIANT@,"isManaged":true,"trustType":"Azure AD joined"},"location":{"city":"London","state":"England","countryOrRegion":"GB","geoCoordinates":{"altitude":null,"latitude":51.5168,"longitude":-0.119}},"mfaDetail":{},"correlationId":"@ID@","conditionalAccessStatus":"@CASTATUS@","appliedConditionalAccessPolicies":[{"id":"f8b0d2c4-9a1d-4b3f-c5a7-6b8c0d2e4f5a","displayName":"CA006: Sign-in frequency and no persistent browser for unmanaged devices","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"reportOnlyNotApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1}],"authenticationContextClassReferences":[],"originalRequestId":"@ID@","isInteractive":@INTERACTIVE@,"tokenIssuerName":"","tokenIssuerType":"AzureAD","authenticationProcessingDetails":[{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"},{"key":"Is CAE Token","value":"True"},{"key":"Login Hint Present","value":"True"},{"key":"Root Key Type","value":"Hybrid"}],"networkLocationDetails":@NETWORK@,"clientCredentialType":"none","processingTimeInMilliseconds":391,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"riskEventTypes_v2":[],"resourceDisplayName":"@RESOURCE@","resourceId":"0000000a-0000-0000-c000-000000000000","resourceTenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","homeTenantId":"9188040d-6c67-4c5b-b112-36a304b66dad","authenticationMethodsUsed":["Password","Mobile app notification"],"authenticationDetails":[{"authenticationStepDateTime":"2026-10-31T23:59:22.2020000+00:00","authenticationMethod":"Previously satisfied","succeeded":true,"authenticationStepResultDetail":"First factor requirement satisfied by claim in the token","authenticationStepRequirement":"Primary authentication","StatusSequence":0,"RequestSequence":0},{"authenticationStepDateTime":"2026-10-31T23:59:22.2020000+00:00","authenticationMethod":"Previously satisfied","succeeded":true,"authenticationStepResultDetail":"MFA requirement satisfied by claim in the token","authenticationStepRequirement":"Multi-factor authentication"}],"authenticationRequirementPolicies":[{"requirementProvider":"multiConditionalAccess","detail":"Conditional Access"}],"sessionLifetimePolicies":[],"authenticationRequirement":"@AUTHREQ@","alternateSignInName":"amara.mueller@fabrikam.com","signInIdentifier":"amara.mueller@fabrikam.com","signInIdentifierType":"userPrincipalName","servicePrincipalId":"","userType":"Guest","flaggedForReview":false,"isTenantRestricted":false,"autonomousSystemNumber":2856,"crossTenantAccessType":"b2bCollaboration","privateLinkDetails":{},"ssoExtensionVersion":"","uniqueTokenIdentifier":"@ID@","incomingTokenType":"none","authenticationProtocol":"none","signInEventTypes":["interactiveUser"],"sessionId":"4bd96ee0-9e8f-4854-970c-f91d9b52b679","appOwnerTenantId":"f8cdef31-a31e-4b4a-93e4-5f571e91255a","isThroughGlobalSecureAccess":false}}`

// genSignins writes n sign-ins (68% interactive) as JSON lines into a
// file under dir, deterministic for a seed, and returns its path. About
// 15% are from non-compliant devices, 8% without a device id, 30% without
// a named network, 10% failed.
func genSignins(tb testing.TB, dir string, n int, seed uint64) string {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("signins-%d-s%d.jsonl", n, seed))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 0x5e1))
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	pick := func(pct int, yes, no string) string {
		if rng.IntN(100) < pct {
			return yes
		}
		return no
	}
	for i := 0; i < n; i++ {
		t := start.Add(time.Duration(i)*7*time.Second + time.Duration(rng.IntN(7000))*time.Millisecond).Format("2006-01-02T15:04:05.0000000Z")
		id := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), i&0xffff, rng.IntN(4096), rng.IntN(4096), rng.Uint64()&0xffffffffffff)
		interactive := rng.IntN(100) < 68
		failed := rng.IntN(100) < 10
		rec := strings.NewReplacer(
			"@TIME@", t, "@ID@", id,
			"@CATEGORY@", map[bool]string{true: "SignInLogs", false: "NonInteractiveUserSignInLogs"}[interactive],
			"@INTERACTIVE@", fmt.Sprint(interactive),
			"@UPN@", fmt.Sprintf("user%03d@contoso.com", rng.IntN(500)),
			"@COMPLIANT@", pick(15, "false", "true"),
			"@DEVICEID@", pick(8, "", fmt.Sprintf("dev-%05d", rng.IntN(20000))),
			"@CASTATUS@", pick(80, "success", pick(50, "failure", "notApplied")),
			"@RESULT@", map[bool]string{true: "50126", false: "0"}[failed],
			"@ERRCODE@", map[bool]string{true: "50126", false: "0"}[failed],
			"@NETWORK@", pick(30, "[]", `[{"networkType":"namedNetwork","networkNames":["Contoso office"]}]`),
			"@AUTHREQ@", pick(40, "singleFactorAuthentication", "multiFactorAuthentication"),
			"@RESOURCE@", pick(3, "Device Registration Service", "Microsoft Graph"),
		).Replace(signinTemplate)
		w.WriteString(rec)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}
