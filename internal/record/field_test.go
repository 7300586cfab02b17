package record

import (
	"fmt"
	"testing"

	"github.com/valyala/fastjson"
)

func parse(t testing.TB, s string) *Record {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	r := &Record{Root: v, Raw: []byte(s)}
	r.Classify()
	return r
}

// The same sign-in in every shape entrawatch reads.
var signins = map[string]string{
	"graph-beta":         `{"id":"1","createdDateTime":"2024-05-09T23:49:39.5522137Z","userPrincipalName":"alice@contoso.com","resourceDisplayName":"Device Registration Service","resourceId":"01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9","ipAddress":"203.0.113.7","conditionalAccessStatus":"success","authenticationRequirement":"singleFactorAuthentication","status":{"errorCode":0},"deviceDetail":{"deviceId":"","isCompliant":false},"networkLocationDetails":[],"isInteractive":true}`,
	"diagnostic":         `{"time":"2024-05-09T23:50:00Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","resultType":"0","callerIpAddress":"203.0.113.7","properties":{"id":"1","createdDateTime":"2024-05-09T23:49:39.5522137+00:00","userPrincipalName":"alice@contoso.com","resourceDisplayName":"Device Registration Service","resourceId":"01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9","ipAddress":"203.0.113.7","conditionalAccessStatus":"success","authenticationRequirement":"singleFactorAuthentication","status":{"errorCode":0},"deviceDetail":{"deviceId":"","isCompliant":false},"networkLocationDetails":[]}}`,
	"log-analytics":      `{"TimeGenerated":"2024-05-09T23:50:02.123Z","CreatedDateTime":"2024-05-09T23:49:39.5522137Z","Type":"SigninLogs","ResultType":"0","UserPrincipalName":"alice@contoso.com","ResourceDisplayName":"Device Registration Service","ResourceIdentity":"01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9","ResourceId":"/tenants/t/providers/Microsoft.aadiam","IPAddress":"203.0.113.7","ConditionalAccessStatus":"success","AuthenticationRequirement":"singleFactorAuthentication","DeviceDetail":{"deviceId":"","isCompliant":false},"NetworkLocationDetails":"[]"}`,
	"log-analytics-text": `{"TimeGenerated":"2024-05-09T23:50:02.123Z","CreatedDateTime":"2024-05-09T23:49:39.5522137Z","Category":"NonInteractiveUserSignInLogs","ResultType":0,"UserPrincipalName":"alice@contoso.com","ResourceDisplayName":"Device Registration Service","ResourceIdentity":"01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9","IPAddress":"203.0.113.7","ConditionalAccessStatus":"success","AuthenticationRequirement":"singleFactorAuthentication","DeviceDetail":"{\"deviceId\":\"\",\"isCompliant\":\"false\"}","NetworkLocationDetails":"[ ]"}`,
	"mixed-case":         `{"TIMEGENERATED":"2024-05-09T23:50:02Z","createddatetime":"2024-05-09T23:49:39Z","type":"SigninLogs","resulttype":"0","userprincipalname":"alice@contoso.com","RESOURCEDISPLAYNAME":"Device Registration Service","resourceidentity":"01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9","ipaddress":"203.0.113.7","conditionalaccessstatus":"success","authenticationrequirement":"singleFactorAuthentication","devicedetail":{"DEVICEID":"","iscompliant":false},"networklocationdetails":[]}`,
}

func TestFieldViewAcrossShapes(t *testing.T) {
	checks := []struct {
		field string
		test  func(r *Record, v *fastjson.Value) bool
		want  string
	}{
		{"ResultType", func(_ *Record, v *fastjson.Value) bool { return IsZero(v) }, "zero"},
		{"UserPrincipalName", func(_ *Record, v *fastjson.Value) bool { return EqualFold(v, "ALICE@contoso.com") }, "alice"},
		{"ResourceDisplayName", func(_ *Record, v *fastjson.Value) bool { return EqualFold(v, "device registration service") }, "DRS"},
		{"ResourceIdentity", func(_ *Record, v *fastjson.Value) bool { return EqualFold(v, "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9") }, "DRS app id"},
		{"IPAddress", func(_ *Record, v *fastjson.Value) bool { return Text(v) == "203.0.113.7" }, "ip"},
		{"ConditionalAccessStatus", func(_ *Record, v *fastjson.Value) bool { return EqualFold(v, "success") }, "success"},
		{"DeviceDetail.isCompliant", func(_ *Record, v *fastjson.Value) bool { return IsFalse(v) }, "false"},
		{"devicedetail.deviceid", func(_ *Record, v *fastjson.Value) bool { return v != nil && IsEmpty(v) }, "present and empty"},
		{"NetworkLocationDetails", func(_ *Record, v *fastjson.Value) bool { return IsEmpty(v) }, "empty"},
		{"properties.userPrincipalName", func(_ *Record, v *fastjson.Value) bool { return EqualFold(v, "alice@contoso.com") }, "alice"},
	}
	for shape, js := range signins {
		r := parse(t, js)
		if r.Kind != KindSignIn {
			t.Errorf("%s: kind %v, want signin", shape, r.Kind)
		}
		if tm, ok := r.Time(); !ok || tm.Format("2006-01-02T15:04:05") != "2024-05-09T23:49:39" {
			t.Errorf("%s: time %v %v", shape, tm, ok)
		}
		for _, c := range checks {
			v := r.Get(CompileField(c.field))
			if !c.test(r, v) {
				t.Errorf("%s: %s = %v, want %s", shape, c.field, v, c.want)
			}
		}
	}
}

func TestResourceIdIsNotResourceIdentity(t *testing.T) {
	// The Log Analytics ResourceId column is the tenant path; it must not
	// stand in for the resource app id.
	r := parse(t, `{"TimeGenerated":"2024-05-09T23:50:02Z","Type":"SigninLogs","ResourceId":"/tenants/t/providers/Microsoft.aadiam"}`)
	if v := r.Get(CompileField("ResourceIdentity")); v != nil {
		t.Fatalf("ResourceIdentity resolved to %s", v)
	}
	d := parse(t, signins["diagnostic"])
	if got := Text(d.Get(CompileField("ResourceId"))); got != "/tenants/t/providers/Microsoft.aadiam" {
		t.Fatalf("diagnostic ResourceId = %q", got)
	}
	if got := Text(d.Get(CompileField("ResourceIdentity"))); got != "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9" {
		t.Fatalf("diagnostic ResourceIdentity = %q", got)
	}
}

func TestAuditFields(t *testing.T) {
	graph := `{"id":"Directory_1","category":"RoleManagement","activityDisplayName":"Add member to role","activityDateTime":"2024-05-09T23:51:07.083521Z","initiatedBy":{"user":{"userPrincipalName":"admin@contoso.com","ipAddress":"198.51.100.23"}},"targetResources":[{"type":"User","userPrincipalName":"bob@contoso.com","modifiedProperties":[{"displayName":"Role.DisplayName","oldValue":null,"newValue":"\"Global Administrator\""}]}]}`
	la := `{"TimeGenerated":"2024-05-09T23:52:00Z","ActivityDateTime":"2024-05-09T23:51:07.083521Z","OperationName":"Add member to role","Category":"RoleManagement","InitiatedBy":"{\"user\":{\"userPrincipalName\":\"admin@contoso.com\",\"ipAddress\":\"198.51.100.23\"}}","TargetResources":"[{\"type\":\"User\",\"userPrincipalName\":\"bob@contoso.com\",\"modifiedProperties\":[{\"displayName\":\"Role.DisplayName\",\"oldValue\":null,\"newValue\":\"\\\"Global Administrator\\\"\"}]}]"}`
	diag := `{"time":"2024-05-09T23:52:00Z","category":"AuditLogs","operationName":"Add member to role","properties":` + graph + `}`
	for name, js := range map[string]string{"graph": graph, "log-analytics": la, "diagnostic": diag} {
		r := parse(t, js)
		if r.Kind != KindAudit {
			t.Errorf("%s: kind %v", name, r.Kind)
		}
		for field, want := range map[string]string{
			"OperationName":                                      "Add member to role",
			"properties.activityDisplayName":                     "Add member to role",
			"Category":                                           "RoleManagement",
			"InitiatedBy.user.userPrincipalName":                 "admin@contoso.com",
			"TargetResources[0].userPrincipalName":               "bob@contoso.com",
			"TargetResources[-1].modifiedProperties[0].newValue": "Global Administrator",
		} {
			if got := Text(r.Get(CompileField(field))); got != want {
				t.Errorf("%s: %s = %q, want %q", name, field, got, want)
			}
		}
		if tm, _ := r.Time(); tm.Format("15:04:05") != "23:51:07" {
			t.Errorf("%s: time %v", name, tm)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		js    string
		kind  Kind
		shape Shape
		table string
	}{
		{`{"id":"deviceRegistrationPolicy","multiFactorAuthConfiguration":"0"}`, KindRegistrationPolicy, ShapeGraph, TableRegistrationPolicy},
		{`{"id":"x","displayName":"p","state":"enabled","conditions":{},"grantControls":null}`, KindCAPolicy, ShapeGraph, TableCAPolicy},
		{`{"id":"x","deviceId":"d","displayName":"LAPTOP","approximateLastSignInDateTime":null}`, KindDevice, ShapeGraph, TableDevices},
		{`{"createdDateTime":"2024-01-01T00:00:00Z","userPrincipalName":"a","signInEventTypes":["nonInteractiveUser"]}`, KindSignIn, ShapeGraph, TableNonInteractive},
		{`{"createdDateTime":"2024-01-01T00:00:00Z","userPrincipalName":"a","isInteractive":true}`, KindSignIn, ShapeGraph, TableSignIn},
		{`{"time":"t","category":"ServicePrincipalSignInLogs","properties":{}}`, KindSignIn, ShapeDiagnostic, TableServicePrincipal},
		{`{"time":"t","category":"AuditLogs","properties":"{\"activityDisplayName\":\"x\"}"}`, KindAudit, ShapeDiagnostic, TableAudit},
		{`{"TimeGenerated":"t","Type":"AADNonInteractiveUserSignInLogs"}`, KindSignIn, ShapeLogAnalytics, TableNonInteractive},
		{`{"TimeGenerated":"t","OperationName":"Update device","TargetResources":[]}`, KindAudit, ShapeLogAnalytics, TableAudit},
		{`{"hello":"world"}`, KindUnknown, ShapeGraph, ""},
		{`[1,2]`, KindUnknown, ShapeGraph, ""},
	}
	for _, tt := range tests {
		r := parse(t, tt.js)
		if r.Kind != tt.kind || r.Shape != tt.shape || r.Table != tt.table {
			t.Errorf("%s: got %v/%v/%q, want %v/%v/%q", tt.js, r.Kind, r.Shape, r.Table, tt.kind, tt.shape, tt.table)
		}
	}
}

func TestValueSemantics(t *testing.T) {
	tests := []struct {
		js               string
		isFalse, isEmpty bool
		isZero           bool
	}{
		{`false`, true, false, false},
		{`"False"`, true, false, false},
		{`0`, false, false, true},
		{`"0"`, false, false, true},
		{`"50140"`, false, false, false},
		{`[]`, false, true, false},
		{`"[]"`, false, true, false},
		{`"[\n]"`, false, true, false},
		{`""`, false, true, false},
		{`null`, false, true, false},
		{`[{"networkType":"namedNetwork"}]`, false, false, false},
	}
	for _, tt := range tests {
		v := fastjson.MustParse(tt.js)
		if IsFalse(v) != tt.isFalse || IsEmpty(v) != tt.isEmpty || IsZero(v) != tt.isZero {
			t.Errorf("%s: false=%v empty=%v zero=%v", tt.js, IsFalse(v), IsEmpty(v), IsZero(v))
		}
	}
	if !EqualFold(fastjson.MustParse(`"\"Global Administrator\""`), "global administrator") {
		t.Error("JSON-quoted modifiedProperties value did not compare unquoted")
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"2020-03-13T19:15:41.6195833Z":      "2020-03-13T19:15:41.6195833Z",
		"2019-10-18T04:45:48.0729893-05:00": "2019-10-18T09:45:48.0729893Z",
		"9/19/2023, 1:45:17.287 PM":         "2023-09-19T13:45:17.287Z",
		"2024-05-09 23:49:39":               "2024-05-09T23:49:39Z",
	} {
		got, ok := ParseTime(in)
		if !ok || got.Format("2006-01-02T15:04:05.999999999Z07:00") != want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
}

func ExampleRecord_Get() {
	var p fastjson.Parser
	// A Log Analytics row of AADNonInteractiveUserSignInLogs: DeviceDetail
	// holds JSON text, ResultType a string.
	v, _ := p.Parse(`{"TimeGenerated":"2024-05-09T23:50:02Z","Type":"AADNonInteractiveUserSignInLogs","ResultType":"0","DeviceDetail":"{\"isCompliant\":false}"}`)
	r := &Record{Root: v}
	r.Classify()
	compliant := CompileField("DeviceDetail.isCompliant") // compile once
	result := CompileField("ResultType")
	fmt.Println(r.Kind, r.Table, IsFalse(r.Get(compliant)), IsZero(r.Get(result)))
	// Output: signin AADNonInteractiveUserSignInLogs true true
}

func TestScalarAliasIsNotAPrefix(t *testing.T) {
	r := parse(t, signins["graph-beta"])
	r2 := parse(t, `{"createdDateTime":"2024-05-09T23:49:39Z","userPrincipalName":"a","status":{"errorCode":0},"location":{"city":"Berlin","countryOrRegion":"DE"}}`)
	if got := Text(r2.Get(CompileField("location.city"))); got != "Berlin" {
		t.Fatalf("location.city = %q", got)
	}
	if got := Text(r2.Get(CompileField("Location"))); got != "DE" {
		t.Fatalf("Location = %q", got)
	}
	if got := Text(r2.Get(CompileField("LocationDetails.city"))); got != "Berlin" {
		t.Fatalf("LocationDetails.city = %q", got)
	}
	_ = r
}
