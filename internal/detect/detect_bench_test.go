package detect_test

import (
	_ "github.com/entrawatch/entrawatch/internal/catalog" // the built-in Sigma detections
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// benchSignIn is a realistic Azure Monitor diagnostic-settings sign-in
// record (4.8 KB), as written by bench/cmd/gen: interactive, MFA, a
// compliant known device, a named network. It raises no alert.
const benchSignIn = `{"time":"2026-11-01T00:00:07.6490000Z","resourceId":"/tenants/3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"SignInLogs","tenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","resultType":"0","resultSignature":"None","resultDescription":"","durationMs":0,"callerIpAddress":"175.16.199.12","correlationId":"929f2bb9-1943-4da9-b4ef-85cb02f9f2cf","identity":"Lidia Bowen","Level":4,"location":"FR","properties":{"id":"e60e79a5-13cb-4518-af28-8a5f0c5df134","createdDateTime":"2026-11-01T00:00:06.0880000+00:00","userDisplayName":"Lidia Bowen","userPrincipalName":"lidia.bowen2726@contoso.com","userId":"d0c54d2e-d20b-404d-9dac-e0d3a8ece986","appId":"ecd6b820-32c2-49b6-98a6-444530e5a77a","appDisplayName":"Microsoft Edge","ipAddress":"175.16.199.12","status":{"errorCode":0},"clientAppUsed":"Mobile Apps and Desktop clients","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0","deviceDetail":{"deviceId":"9457bbfc-ae2c-40fd-9b94-30f205b55658","displayName":"CONTOSO-WS8653","operatingSystem":"Windows10","browser":"Chrome 130.0.0","isCompliant":true,"isManaged":true,"trustType":"Hybrid Azure AD joined"},"location":{"city":"Paris","state":"Ile-De-France","countryOrRegion":"FR","geoCoordinates":{"altitude":null,"latitude":48.8521,"longitude":2.3557}},"mfaDetail":{},"correlationId":"929f2bb9-1943-4da9-b4ef-85cb02f9f2cf","conditionalAccessStatus":"success","appliedConditionalAccessPolicies":[{"id":"6701123a-b4c6-48af-8565-565c8bf7cabc","displayName":"CA004: Require multifactor authentication to register or join devices","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"notApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1},{"id":"f8b0d2c4-9a1d-4b3f-c5a7-6b8c0d2e4f5a","displayName":"CA006: Sign-in frequency and no persistent browser for unmanaged devices","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"reportOnlyNotApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1},{"id":"a0c2e4d6-1b3f-4c5a-d7b9-8c0d2e4f6a7b","displayName":"CA007: Require app protection policy on iOS and Android","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"notApplied","conditionsSatisfied":0,"conditionsNotSatisfied":1}],"authenticationContextClassReferences":[],"originalRequestId":"e60e79a5-13cb-4518-af28-8a5f0c5df134","isInteractive":true,"tokenIssuerName":"","tokenIssuerType":"AzureAD","authenticationProcessingDetails":[{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"},{"key":"Is CAE Token","value":"True"},{"key":"Login Hint Present","value":"True"},{"key":"Root Key Type","value":"Hybrid"}],"networkLocationDetails":[{"networkType":"namedNetwork","networkNames":["Contoso Paris office"]}],"clientCredentialType":"none","processingTimeInMilliseconds":71,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"riskEventTypes_v2":[],"resourceDisplayName":"Microsoft Graph","resourceId":"00000003-0000-0000-c000-000000000000","resourceTenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","homeTenantId":"3f0c1a2b-8d4e-4c6f-9a7b-5e2d1c0b9a8f","authenticationMethodsUsed":["Password","Mobile app notification"],"authenticationDetails":[{"authenticationStepDateTime":"2026-11-01T00:00:06.0880000+00:00","authenticationMethod":"Previously satisfied","succeeded":true,"authenticationStepResultDetail":"First factor requirement satisfied by claim in the token","authenticationStepRequirement":"Primary authentication","StatusSequence":0,"RequestSequence":0},{"authenticationStepDateTime":"2026-11-01T00:00:06.0880000+00:00","authenticationMethod":"Previously satisfied","succeeded":true,"authenticationStepResultDetail":"MFA requirement satisfied by claim in the token","authenticationStepRequirement":"Multi-factor authentication"}],"authenticationRequirementPolicies":[{"requirementProvider":"multiConditionalAccess","detail":"Conditional Access"}],"sessionLifetimePolicies":[],"authenticationRequirement":"multiFactorAuthentication","alternateSignInName":"lidia.bowen2726@contoso.com","signInIdentifier":"lidia.bowen2726@contoso.com","signInIdentifierType":"userPrincipalName","servicePrincipalId":"","userType":"Member","flaggedForReview":false,"isTenantRestricted":false,"autonomousSystemNumber":3215,"crossTenantAccessType":"none","privateLinkDetails":{},"ssoExtensionVersion":"","uniqueTokenIdentifier":"3mccQdnJK7LLAiG6CjrSOo","incomingTokenType":"none","authenticationProtocol":"none","signInEventTypes":["interactiveUser"],"sessionId":"86e7a2c2-2f6a-470f-8c8a-6005f0bb6398","appOwnerTenantId":"f8cdef31-a31e-4b4a-93e4-5f571e91255a","isThroughGlobalSecureAccess":false}}`

// benchVariants returns the record in the layouts the detection step sees,
// and a variant that raises unknown-device-signin.
func benchVariants(tb testing.TB) []struct {
	name, data string
	alerts     int
} {
	trigger := benchSignIn
	for _, r := range [][2]string{
		{`"deviceId":"9457bbfc-ae2c-40fd-9b94-30f205b55658"`, `"deviceId":""`},
		{`"authenticationRequirement":"multiFactorAuthentication"`, `"authenticationRequirement":"singleFactorAuthentication"`},
		{`"networkLocationDetails":[{"networkType":"namedNetwork","networkNames":["Contoso Paris office"]}]`, `"networkLocationDetails":[]`},
	} {
		if !strings.Contains(trigger, r[0]) {
			tb.Fatalf("benchmark record lacks %s", r[0])
		}
		trigger = strings.Replace(trigger, r[0], r[1], 1)
	}
	v, err := fastjson.Parse(benchSignIn)
	if err != nil {
		tb.Fatal(err)
	}
	p := v.Get("properties")
	graph := string(p.MarshalTo(nil))
	return []struct {
		name, data string
		alerts     int
	}{
		{"diagnostic", benchSignIn, 0},
		{"diagnostic-alert", trigger, 1},
		{"graph", graph, 0},
		{"log-analytics", benchLARow(v, p), 0},
	}
}

// benchLARow renders the record as a Log Analytics SigninLogs row: dynamic
// columns as objects, NetworkLocationDetails and AuthenticationDetails as
// JSON text (string columns).
func benchLARow(v, p *fastjson.Value) string {
	raw := func(x *fastjson.Value) string { return string(x.MarshalTo(nil)) }
	str := func(x *fastjson.Value) string { return strconv.Quote(string(x.GetStringBytes())) }
	asText := func(x *fastjson.Value) string { return strconv.Quote(raw(x)) }
	cols := [][2]string{
		{"TenantId", `"5b7e2f1c-0d3a-4e6b-8c9d-7a1b2c3d4e5f"`},
		{"SourceSystem", `"Azure AD"`},
		{"TimeGenerated", `"2026-11-01T00:00:07.649Z"`},
		{"ResourceId", str(v.Get("resourceId"))},
		{"OperationName", `"Sign-in activity"`},
		{"Category", `"SignInLogs"`},
		{"ResultType", `"0"`},
		{"ResultDescription", `""`},
		{"CorrelationId", str(v.Get("correlationId"))},
		{"Identity", str(v.Get("identity"))},
		{"Level", `"4"`},
		{"Location", `"FR"`},
		{"AppDisplayName", str(p.Get("appDisplayName"))},
		{"AppId", str(p.Get("appId"))},
		{"AuthenticationDetails", asText(p.Get("authenticationDetails"))},
		{"AuthenticationProcessingDetails", asText(p.Get("authenticationProcessingDetails"))},
		{"AuthenticationRequirement", str(p.Get("authenticationRequirement"))},
		{"AuthenticationRequirementPolicies", asText(p.Get("authenticationRequirementPolicies"))},
		{"ClientAppUsed", str(p.Get("clientAppUsed"))},
		{"ConditionalAccessPolicies", raw(p.Get("appliedConditionalAccessPolicies"))},
		{"ConditionalAccessStatus", str(p.Get("conditionalAccessStatus"))},
		{"CreatedDateTime", `"2026-11-01T00:00:06.088Z"`},
		{"DeviceDetail", raw(p.Get("deviceDetail"))},
		{"IsInteractive", "true"},
		{"Id", str(p.Get("id"))},
		{"IPAddress", str(p.Get("ipAddress"))},
		{"LocationDetails", raw(p.Get("location"))},
		{"MfaDetail", raw(p.Get("mfaDetail"))},
		{"NetworkLocationDetails", asText(p.Get("networkLocationDetails"))},
		{"RiskDetail", `"none"`},
		{"RiskLevelAggregated", `"none"`},
		{"RiskState", `"none"`},
		{"ResourceDisplayName", str(p.Get("resourceDisplayName"))},
		{"ResourceIdentity", str(p.Get("resourceId"))},
		{"Status", raw(p.Get("status"))},
		{"TokenIssuerType", `"AzureAD"`},
		{"UserAgent", str(p.Get("userAgent"))},
		{"UserDisplayName", str(p.Get("userDisplayName"))},
		{"UserId", str(p.Get("userId"))},
		{"UserPrincipalName", str(p.Get("userPrincipalName"))},
		{"AADTenantId", str(v.Get("tenantId"))},
		{"UserType", `"Member"`},
		{"UniqueTokenIdentifier", str(p.Get("uniqueTokenIdentifier"))},
		{"SignInEventTypes", `"[\"interactiveUser\"]"`},
		{"Type", `"SigninLogs"`},
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(c[0]))
		b.WriteByte(':')
		b.WriteString(c[1])
	}
	b.WriteByte('}')
	return b.String()
}

func benchEngine(tb testing.TB) *detect.Engine {
	eng, err := detect.NewEngine(detect.Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// BenchmarkDetectStep measures entrawatch's per-record detection step, as
// a pipeline worker runs it: fastjson parse (reused parser), classify, and
// every built-in detection for the record's kind. MB/s of record bytes.
func BenchmarkDetectStep(b *testing.B) {
	eng := benchEngine(b)
	for _, v := range benchVariants(b) {
		data := []byte(v.data)
		b.Run(v.name, func(b *testing.B) {
			var p fastjson.Parser
			var rec record.Record
			alerts := 0
			emit := func(*alert.Alert) { alerts++ }
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				root, err := p.ParseBytes(data)
				if err != nil {
					b.Fatal(err)
				}
				rec.Reset()
				rec.Root = root
				rec.Raw = data
				rec.Classify()
				eng.Detect(&rec, emit)
				rec.Release()
			}
			if alerts != v.alerts*b.N {
				b.Fatalf("%d alerts in %d runs, want %d per run", alerts, b.N, v.alerts)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkParseOnly is the floor of BenchmarkDetectStep: the fastjson
// parse alone, on the same records.
func BenchmarkParseOnly(b *testing.B) {
	for _, v := range benchVariants(b) {
		data := []byte(v.data)
		b.Run(v.name, func(b *testing.B) {
			var p fastjson.Parser
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.ParseBytes(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// TestBenchVariants checks that the benchmark records classify as sign-ins
// and raise what they should.
func TestBenchVariants(t *testing.T) {
	eng := benchEngine(t)
	for _, v := range benchVariants(t) {
		root, err := fastjson.Parse(v.data)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		rec := record.Record{Root: root, Raw: []byte(v.data)}
		rec.Classify()
		if rec.Kind != record.KindSignIn {
			t.Errorf("%s: kind %s, want signin", v.name, rec.Kind)
		}
		var got []string
		eng.Detect(&rec, func(a *alert.Alert) { got = append(got, a.Rule) })
		if len(got) != v.alerts || v.alerts == 1 && got[0] != "unknown-device-signin" {
			t.Errorf("%s: alerts %v, want %d", v.name, got, v.alerts)
		}
	}
}
