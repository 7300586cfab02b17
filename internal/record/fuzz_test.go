package record

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// fuzzFields are the fields the built-in detections and the crosswalk
// resolve, in every spelling they are written in.
var fuzzFields = []string{
	"TimeGenerated", "CreatedDateTime", "ActivityDateTime", "ResultType", "ResultDescription", "OperationName",
	"ActivityDisplayName", "Category", "ResourceIdentity", "ResourceId", "IPAddress", "Location", "LocationDetails.city",
	"ConditionalAccessPolicies", "Identity", "TenantId", "UserPrincipalName", "ResourceDisplayName",
	"ConditionalAccessStatus", "AuthenticationRequirement", "DeviceDetail.isCompliant", "DeviceDetail.deviceId",
	"DeviceDetail.displayName", "NetworkLocationDetails", "InitiatedBy", "InitiatedBy.user.userPrincipalName",
	"TargetResources", "TargetResources[0].modifiedProperties[-1].newValue", "AdditionalDetails", "Result",
	"properties.activityDisplayName", "status.errorCode", "approximateLastSignInDateTime", "registrationDateTime",
	"physicalIds", "multiFactorAuthConfiguration", "conditions.applications.includeUserActions",
	"grantControls.builtInControls", "[\"odd.key\"]", "a[", "[x]", "[99999999999999999999]", "[-9223372036854775808]", "",
}

func FuzzRecord(f *testing.F) {
	for _, s := range []string{
		`{"createdDateTime":"2026-01-05T10:00:00.1234567Z","userPrincipalName":"a@b.c","status":{"errorCode":0},"deviceDetail":{"deviceId":"","isCompliant":false}}`,
		`{"time":"2026-01-05T10:00:00Z","category":"AuditLogs","operationName":"Add member to role","properties":{"activityDisplayName":"Add member to role","targetResources":[{"type":"User","modifiedProperties":[{"displayName":"Role.DisplayName","newValue":"\"Global Administrator\""}]}]}}`,
		`{"TimeGenerated":"1/5/2026, 10:00:00.000 AM","Type":"SigninLogs","DeviceDetail":"{\"isCompliant\":\"false\",\"deviceId\":\"d\"}","ResultType":"0","NetworkLocationDetails":"[]"}`,
		`{"time":"x","category":1,"properties":"{\"a\":[1,2]}"}`,
		`{"@odata.type":"#microsoft.graph.device","deviceId":"d","approximateLastSignInDateTime":"2025-01-01T00:00:00Z","physicalIds":["[ZTDID]:x"]}`,
		`{"multiFactorAuthConfiguration":"notRequired"}`,
		`{"signInEventTypes":["nonInteractiveUser"],"createdDateTime":"2026-01-05T10:00:00Z","appId":"x"}`,
		`[1,"2",{"a":null}]`,
	} {
		f.Add([]byte(s), "DeviceDetail.operatingSystem\nproperties.targetResources[0].type")
	}
	f.Fuzz(func(t *testing.T, b []byte, extra string) {
		names := append(fuzzFields[:len(fuzzFields):len(fuzzFields)], strings.Split(extra, "\n")...)
		fields := make([]*Field, len(names))
		for i, n := range names {
			fields[i] = CompileField(n)
		}
		rel := CompileRel(extra)
		var r Record
		first, ok := fuzzPass(t, &r, b, names, fields, rel)
		if !ok {
			return
		}
		// A reset record resolves every field the same the second time:
		// nothing leaks from one use of a pooled record to the next. (The
		// input is parsed afresh: fastjson unescapes keys and strings in
		// place on first use, which changes how MarshalTo prints them.)
		r.Reset()
		second, _ := fuzzPass(t, &r, b, names, fields, rel)
		if fmt.Sprint(first) != fmt.Sprint(second) {
			t.Fatalf("after Reset:\n%q\nthen\n%q", first, second)
		}
		r.Release()
	})
}

// fuzzPass parses b into r, classifies it, resolves every field through
// every accessor and checks what must hold whatever the input. It returns
// the classification and the text of each field.
func fuzzPass(t *testing.T, r *Record, b []byte, names []string, fields []*Field, rel *Rel) ([]string, bool) {
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil {
		return nil, false
	}
	r.Root, r.Raw = v, b
	r.Classify()
	if r.Kind >= numKinds || r.Shape >= numShapes {
		t.Fatalf("kind %d, shape %d out of range", r.Kind, r.Shape)
	}
	if (r.Shape == ShapeDiagnostic) != (r.Props != nil) {
		t.Fatalf("shape %d with props %v", r.Shape, r.Props)
	}
	if r.Props != nil && r.Props.Type() != fastjson.TypeObject {
		t.Fatalf("props of type %s", r.Props.Type())
	}
	out := []string{fmt.Sprint(r.Kind, r.Shape, r.Table)}
	for _, fl := range fields {
		x := r.Get(fl)
		if r.Get(fl) != x {
			t.Fatalf("%q: Get is not stable", fl.Name)
		}
		text := Text(x)
		out = append(out, text)
		if x == nil && (!IsEmpty(x) || text != "" || EqualFold(x, "") || IsTrue(x) || IsFalse(x) || IsZero(x)) {
			t.Fatalf("%q: a missing field is not empty", fl.Name)
		}
		if x != nil && x.Type() == fastjson.TypeString {
			if s, _ := x.StringBytes(); !EqualFold(x, string(Unquote(trimSpaceBytes(s)))) {
				t.Fatalf("%q: a string does not equal its own text", fl.Name)
			}
		}
		if IsTrue(x) && IsFalse(x) {
			t.Fatalf("%q: both true and false", fl.Name)
		}
		HasPrefixFold(x, "a")
		for _, e := range r.Elements(x) {
			if e == nil {
				t.Fatalf("%q: nil element", fl.Name)
			}
			out = append(out, Text(e), Text(r.Child(e, "displayName")), Text(r.GetFrom(e, rel)))
		}
		if tm, ok := ParseTime(text); ok && tm.Location() != time.UTC {
			t.Fatalf("%q: time %v not in UTC", fl.Name, tm)
		}
		if tm, ok := TimeOf(x); ok && tm.Location() != time.UTC {
			t.Fatalf("%q: time %v not in UTC", fl.Name, tm)
		}
	}
	tm, _ := r.Time()
	out = append(out, tm.String())
	last := len(names) - 1
	if r.Lookup(names[last]) != r.Get(fields[last]) {
		t.Fatalf("Lookup and Get disagree on %q", names[last])
	}
	return out, true
}
