package format_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/valyala/fastjson"
)

// benchSignIn is a realistic Azure Monitor diagnostic-settings sign-in
// record (4.8 KB), as written by bench/cmd/gen.
const benchSignIn = `{"time":"2026-11-01T00:00:07.6490000Z","resourceId":"/tenants/3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"SignInLogs","tenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","resultType":"0","resultSignature":"None","resultDescription":"","durationMs":0,"callerIpAddress":"175.16.199.12","correlationId":"929f2bb9-1943-4da9-b4ef-85cb02f9f2cf","identity":"Lidia Bowen","Level":4,"location":"FR","properties":{"id":"e60e79a5-13cb-4518-af28-8a5f0c5df134","createdDateTime":"2026-11-01T00:00:06.0880000+00:00","userDisplayName":"Lidia Bowen","userPrincipalName":"lidia.bowen2726@contoso.com","userId":"d0c54d2e-d20b-404d-9dac-e0d3a8ece986","appId":"ecd6b820-32c2-49b6-98a6-444530e5a77a","appDisplayName":"Microsoft Edge","ipAddress":"175.16.199.12","status":{"errorCode":0},"clientAppUsed":"Mobile Apps and Desktop clients","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0","deviceDetail":{"deviceId":"9457bbfc-ae2c-40fd-9b94-30f205b55658","displayName":"CONTOSO-WS8653","operatingSystem":"Windows10","browser":"Chrome 130.0.0","isCompliant":true,"isManaged":true,"trustType":"Hybrid Azure AD joined"},"location":{"city":"Paris","state":"Ile-De-France","countryOrRegion":"FR","geoCoordinates":{"altitude":null,"latitude":48.8521,"longitude":2.3557}},"mfaDetail":{},"correlationId":"929f2bb9-1943-4da9-b4ef-85cb02f9f2cf","conditionalAccessStatus":"success","appliedConditionalAccessPolicies":[{"id":"6701123a-b4c6-48af-8565-565c8bf7cabc","displayName":"CA004: Require multifactor authentication to register or join devices","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"notApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1},{"id":"f8b0d2c4-9a1d-4b3f-c5a7-6b8c0d2e4f5a","displayName":"CA006: Sign-in frequency and no persistent browser for unmanaged devices","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"reportOnlyNotApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1},{"id":"a0c2e4d6-1b3f-4c5a-d7b9-8c0d2e4f6a7b","displayName":"CA007: Require app protection policy on iOS and Android","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"notApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1}],"authenticationContextClassReferences":[],"originalRequestId":"e60e79a5-13cb-4518-af28-8a5f0c5df134","isInteractive":true,"tokenIssuerName":"","tokenIssuerType":"AzureAD","authenticationProcessingDetails":[{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"},{"key":"Is CAE Token","value":"True"},{"key":"Login Hint Present","value":"True"},{"key":"Root Key Type","value":"Hybrid"}],"networkLocationDetails":[{"networkType":"namedNetwork","networkNames":["Contoso Paris office"]}],"clientCredentialType":"none","processingTimeInMilliseconds":71,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"riskEventTypes_v2":[],"resourceDisplayName":"Microsoft Graph","resourceId":"00000003-0000-0000-c000-000000000000","resourceTenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","homeTenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","authenticationMethodsUsed":["Password","Mobile app notification"],"authenticationDetails":[{"authenticationStepDateTime":"2026-11-01T00:00:06.0880000+00:00","authenticationMethod":"Previously satisfied","succeeded":true,"authenticationStepResultDetail":"First factor requirement satisfied by claim in the token","authenticationStepRequirement":"Primary authentication","StatusSequence":0,"RequestSequence":0},{"authenticationStepDateTime":"2026-11-01T00:00:06.0880000+00:00","authenticationMethod":"Previously satisfied","succeeded":true,"authenticationStepResultDetail":"MFA requirement satisfied by claim in the token","authenticationStepRequirement":"Multi-factor authentication"}],"authenticationRequirementPolicies":[{"requirementProvider":"multiConditionalAccess","detail":"Conditional Access"}],"sessionLifetimePolicies":[],"authenticationRequirement":"multiFactorAuthentication","alternateSignInName":"lidia.bowen2726@contoso.com","signInIdentifier":"lidia.bowen2726@contoso.com","signInIdentifierType":"userPrincipalName","servicePrincipalId":"","userType":"Member","flaggedForReview":false,"isTenantRestricted":false,"autonomousSystemNumber":3215,"crossTenantAccessType":"none","privateLinkDetails":{},"ssoExtensionVersion":"","uniqueTokenIdentifier":"3mccQdnJK7LLAiG6CjrSOo","incomingTokenType":"none","authenticationProtocol":"none","signInEventTypes":["interactiveUser"],"sessionId":"86e7a2c2-2f6a-470f-8c8a-6005f0bb6398","appOwnerTenantId":"f8cdef31-a31e-4b4a-93e4-5f571e91255a","isThroughGlobalSecureAccess":false}}`

const benchRecords = 256

// benchGraphSignIn is the Graph beta signIn object inside benchSignIn.
func benchGraphSignIn(tb testing.TB) string {
	v, err := fastjson.Parse(benchSignIn)
	if err != nil {
		tb.Fatal(err)
	}
	return string(v.Get("properties").MarshalTo(nil))
}

// benchInputs builds about 1.2 MB of each layout from the same records.
func benchInputs(tb testing.TB) map[string][]byte {
	graph := benchGraphSignIn(tb)
	var lines, list bytes.Buffer
	list.WriteString(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`)
	for i := 0; i < benchRecords; i++ {
		lines.WriteString(benchSignIn)
		lines.WriteByte('\n')
		if i > 0 {
			list.WriteByte(',')
		}
		list.WriteString(graph)
	}
	list.WriteString(`],"@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=9b1c2d"}`)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, list.Bytes(), "", "  "); err != nil {
		tb.Fatal(err)
	}
	return map[string][]byte{
		"json-lines":        lines.Bytes(),
		"graph-list":        list.Bytes(),
		"graph-list-pretty": pretty.Bytes(),
		"la-csv":            benchLogAnalyticsCSV(tb),
	}
}

// benchLogAnalyticsCSV renders the record as a Log Analytics portal CSV
// export of SigninLogs: "[UTC]" time headers, dynamic columns as JSON text.
func benchLogAnalyticsCSV(tb testing.TB) []byte {
	v, err := fastjson.Parse(benchSignIn)
	if err != nil {
		tb.Fatal(err)
	}
	p := v.Get("properties")
	text := func(x *fastjson.Value) string {
		if x == nil {
			return ""
		}
		if x.Type() == fastjson.TypeString {
			return string(x.GetStringBytes())
		}
		return string(x.MarshalTo(nil))
	}
	cols := []struct{ header, value string }{
		{"TenantId", "5b7e2f1c-0d3a-4e6b-8c9d-7a1b2c3d4e5f"},
		{"SourceSystem", "Azure AD"},
		{"TimeGenerated [UTC]", "11/1/2026, 12:00:07.649 AM"},
		{"ResourceId", text(v.Get("resourceId"))},
		{"OperationName", "Sign-in activity"},
		{"Category", "SignInLogs"},
		{"ResultType", "0"},
		{"ResultDescription", ""},
		{"CorrelationId", text(v.Get("correlationId"))},
		{"Identity", text(v.Get("identity"))},
		{"Level", "4"},
		{"Location", "FR"},
		{"AppDisplayName", text(p.Get("appDisplayName"))},
		{"AppId", text(p.Get("appId"))},
		{"AuthenticationDetails", text(p.Get("authenticationDetails"))},
		{"AuthenticationProcessingDetails", text(p.Get("authenticationProcessingDetails"))},
		{"AuthenticationRequirement", text(p.Get("authenticationRequirement"))},
		{"AuthenticationRequirementPolicies", text(p.Get("authenticationRequirementPolicies"))},
		{"ClientAppUsed", text(p.Get("clientAppUsed"))},
		{"ConditionalAccessPolicies", text(p.Get("appliedConditionalAccessPolicies"))},
		{"ConditionalAccessStatus", text(p.Get("conditionalAccessStatus"))},
		{"CreatedDateTime [UTC]", "11/1/2026, 12:00:06.088 AM"},
		{"DeviceDetail", text(p.Get("deviceDetail"))},
		{"IsInteractive", "true"},
		{"Id", text(p.Get("id"))},
		{"IPAddress", text(p.Get("ipAddress"))},
		{"LocationDetails", text(p.Get("location"))},
		{"MfaDetail", text(p.Get("mfaDetail"))},
		{"NetworkLocationDetails", text(p.Get("networkLocationDetails"))},
		{"RiskDetail", "none"},
		{"RiskLevelAggregated", "none"},
		{"RiskState", "none"},
		{"ResourceDisplayName", text(p.Get("resourceDisplayName"))},
		{"ResourceIdentity", text(p.Get("resourceId"))},
		{"Status", text(p.Get("status"))},
		{"TokenIssuerType", "AzureAD"},
		{"UserAgent", text(p.Get("userAgent"))},
		{"UserDisplayName", text(p.Get("userDisplayName"))},
		{"UserId", text(p.Get("userId"))},
		{"UserPrincipalName", text(p.Get("userPrincipalName"))},
		{"AADTenantId", text(v.Get("tenantId"))},
		{"UserType", "Member"},
		{"UniqueTokenIdentifier", text(p.Get("uniqueTokenIdentifier"))},
		{"SignInEventTypes", `["interactiveUser"]`},
		{"Type", "SigninLogs"},
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = c.header
	}
	w.Write(row)
	for n := 0; n < benchRecords; n++ {
		for i, c := range cols {
			row[i] = c.value
		}
		w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// BenchmarkReader measures each reader splitting its layout into records
// (no parsing or detection): MB/s of input.
func BenchmarkReader(b *testing.B) {
	inputs := benchInputs(b)
	for _, c := range []struct{ name, reader, file string }{
		{"json-lines", "json", "PT1H.json"},
		{"graph-list", "json", "signins.json"},
		{"graph-list-pretty", "json", "signins.json"},
		{"la-csv", "csv", "SigninLogs.csv"},
	} {
		b.Run(c.name, func(b *testing.B) {
			r, err := format.Lookup(c.reader)
			if err != nil {
				b.Fatal(err)
			}
			data := inputs[c.name]
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			ctx := context.Background()
			var n int
			emit := func(it *format.Item) error {
				if it.Err != nil {
					return it.Err
				}
				n++
				return nil
			}
			for b.Loop() {
				n = 0
				if err := r.Split(ctx, c.file, bytes.NewReader(data), format.Options{}, emit); err != nil {
					b.Fatal(err)
				}
				if n != benchRecords {
					b.Fatalf("%s: %d records, want %d", c.name, n, benchRecords)
				}
			}
			b.ReportMetric(float64(b.N)*benchRecords/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// TestBenchInputs keeps the benchmark inputs honest: each layout must sniff
// as the reader the benchmark uses.
func TestBenchInputs(t *testing.T) {
	for name, data := range benchInputs(t) {
		file := "x.json"
		if strings.HasSuffix(name, "csv") {
			file = "SigninLogs.csv"
		}
		r := format.Sniff(file, data[:min(len(data), 64<<10)])
		want := "json"
		if strings.HasSuffix(name, "csv") {
			want = "csv"
		}
		if r == nil || r.Name() != want {
			t.Errorf("%s sniffs as %v, want %s", name, r, want)
		}
	}
}
