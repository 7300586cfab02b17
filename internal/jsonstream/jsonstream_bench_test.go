package jsonstream_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/entrawatch/entrawatch/internal/jsonstream"
	"github.com/valyala/fastjson"
)

// benchSignIn is a realistic Azure Monitor diagnostic-settings sign-in
// record (4.8 KB), as written by bench/cmd/gen.
const benchSignIn = `{"time":"2026-11-01T00:00:07.6490000Z","resourceId":"/tenants/3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"SignInLogs","tenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","resultType":"0","resultSignature":"None","resultDescription":"","durationMs":0,"callerIpAddress":"175.16.199.12","correlationId":"929f2bb9-1943-4da9-b4ef-85cb02f9f2cf","identity":"Lidia Bowen","Level":4,"location":"FR","properties":{"id":"e60e79a5-13cb-4518-af28-8a5f0c5df134","createdDateTime":"2026-11-01T00:00:06.0880000+00:00","userDisplayName":"Lidia Bowen","userPrincipalName":"lidia.bowen2726@contoso.com","userId":"d0c54d2e-d20b-404d-9dac-e0d3a8ece986","appId":"ecd6b820-32c2-49b6-98a6-444530e5a77a","appDisplayName":"Microsoft Edge","ipAddress":"175.16.199.12","status":{"errorCode":0},"clientAppUsed":"Mobile Apps and Desktop clients","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0","deviceDetail":{"deviceId":"9457bbfc-ae2c-40fd-9b94-30f205b55658","displayName":"CONTOSO-WS8653","operatingSystem":"Windows10","browser":"Chrome 130.0.0","isCompliant":true,"isManaged":true,"trustType":"Hybrid Azure AD joined"},"location":{"city":"Paris","state":"Ile-De-France","countryOrRegion":"FR","geoCoordinates":{"altitude":null,"latitude":48.8521,"longitude":2.3557}},"mfaDetail":{},"correlationId":"929f2bb9-1943-4da9-b4ef-85cb02f9f2cf","conditionalAccessStatus":"success","appliedConditionalAccessPolicies":[{"id":"6701123a-b4c6-48af-8565-565c8bf7cabc","displayName":"CA004: Require multifactor authentication to register or join devices","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"notApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1},{"id":"f8b0d2c4-9a1d-4b3f-c5a7-6b8c0d2e4f5a","displayName":"CA006: Sign-in frequency and no persistent browser for unmanaged devices","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"reportOnlyNotApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1},{"id":"a0c2e4d6-1b3f-4c5a-d7b9-8c0d2e4f6a7b","displayName":"CA007: Require app protection policy on iOS and Android","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"notApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1}],"authenticationContextClassReferences":[],"originalRequestId":"e60e79a5-13cb-4518-af28-8a5f0c5df134","isInteractive":true,"tokenIssuerName":"","tokenIssuerType":"AzureAD","authenticationProcessingDetails":[{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"},{"key":"Is CAE Token","value":"True"},{"key":"Login Hint Present","value":"True"},{"key":"Root Key Type","value":"Hybrid"}],"networkLocationDetails":[{"networkType":"namedNetwork","networkNames":["Contoso Paris office"]}],"clientCredentialType":"none","processingTimeInMilliseconds":71,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"riskEventTypes_v2":[],"resourceDisplayName":"Microsoft Graph","resourceId":"00000003-0000-0000-c000-000000000000","resourceTenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","homeTenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","authenticationMethodsUsed":["Password","Mobile app notification"],"authenticationDetails":[{"authenticationStepDateTime":"2026-11-01T00:00:06.0880000+00:00","authenticationMethod":"Previously satisfied","succeeded":true,"authenticationStepResultDetail":"First factor requirement satisfied by claim in the token","authenticationStepRequirement":"Primary authentication","StatusSequence":0,"RequestSequence":0},{"authenticationStepDateTime":"2026-11-01T00:00:06.0880000+00:00","authenticationMethod":"Previously satisfied","succeeded":true,"authenticationStepResultDetail":"MFA requirement satisfied by claim in the token","authenticationStepRequirement":"Multi-factor authentication"}],"authenticationRequirementPolicies":[{"requirementProvider":"multiConditionalAccess","detail":"Conditional Access"}],"sessionLifetimePolicies":[],"authenticationRequirement":"multiFactorAuthentication","alternateSignInName":"lidia.bowen2726@contoso.com","signInIdentifier":"lidia.bowen2726@contoso.com","signInIdentifierType":"userPrincipalName","servicePrincipalId":"","userType":"Member","flaggedForReview":false,"isTenantRestricted":false,"autonomousSystemNumber":3215,"crossTenantAccessType":"none","privateLinkDetails":{},"ssoExtensionVersion":"","uniqueTokenIdentifier":"3mccQdnJK7LLAiG6CjrSOo","incomingTokenType":"none","authenticationProtocol":"none","signInEventTypes":["interactiveUser"],"sessionId":"86e7a2c2-2f6a-470f-8c8a-6005f0bb6398","appOwnerTenantId":"f8cdef31-a31e-4b4a-93e4-5f571e91255a","isThroughGlobalSecureAccess":false}}`

const benchRecords = 256

func benchLayouts(tb testing.TB) map[string][]byte {
	v, err := fastjson.Parse(benchSignIn)
	if err != nil {
		tb.Fatal(err)
	}
	graph := v.Get("properties").MarshalTo(nil)
	var lines, list, records bytes.Buffer
	list.WriteString(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`)
	records.WriteString(`{"records":[`)
	for i := 0; i < benchRecords; i++ {
		lines.WriteString(benchSignIn)
		lines.WriteByte('\n')
		if i > 0 {
			list.WriteByte(',')
			records.WriteString(",\n")
		}
		list.Write(graph)
		records.WriteString(benchSignIn)
	}
	list.WriteString(`],"@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=9b1c2d"}`)
	records.WriteString("]}\n")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, list.Bytes(), "", "  "); err != nil {
		tb.Fatal(err)
	}
	return map[string][]byte{
		"json-lines":          lines.Bytes(),
		"graph-list":          list.Bytes(),
		"graph-list-pretty":   pretty.Bytes(),
		"diagnostic-envelope": records.Bytes(),
	}
}

// BenchmarkSplit measures the splitter alone on each layout: MB/s of input.
func BenchmarkSplit(b *testing.B) {
	layouts := benchLayouts(b)
	for _, name := range []string{"json-lines", "graph-list", "graph-list-pretty", "diagnostic-envelope"} {
		data := layouts[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				s := jsonstream.New(bytes.NewReader(data), 0)
				n := 0
				for {
					it, ok := s.Next()
					if !ok {
						break
					}
					if it.Err != nil {
						b.Fatal(it.Err)
					}
					n++
				}
				if n != benchRecords {
					b.Fatalf("%d records, want %d", n, benchRecords)
				}
			}
			b.ReportMetric(float64(b.N)*benchRecords/b.Elapsed().Seconds(), "records/s")
		})
	}
}
