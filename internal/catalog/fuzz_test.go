package catalog

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

var fuzzNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// FuzzDetect runs arbitrary bytes, as a record, through the whole decode
// and detect step: parse, classify, every detection for the record's kind,
// and the detections that finish at the end of a scan. Every alert must be
// whole, keep its own copy of the record, and print as one valid JSON line.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		// device-registration-without-mfa, Graph and Log Analytics
		`{"id":"1","createdDateTime":"2026-01-05T10:00:00Z","userPrincipalName":"a@contoso.com","resourceDisplayName":"Device Registration Service","status":{"errorCode":0},"conditionalAccessStatus":"success","authenticationRequirement":"singleFactorAuthentication","ipAddress":"203.0.113.7","deviceDetail":{"operatingSystem":"Windows"}}`,
		`{"TimeGenerated":"2026-01-05T10:00:00Z","Type":"SigninLogs","ResultType":"0","ResourceDisplayName":"","ResourceIdentity":"01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9","ConditionalAccessStatus":"success","AuthenticationRequirement":"singleFactorAuthentication"}`,
		// noncompliant-device-signin, diagnostic settings with a device name to escape
		`{"time":"2026-01-05T10:00:00Z","category":"SignInLogs","operationName":"Sign-in activity","resultType":"0","properties":{"userPrincipalName":"=HYPERLINK(\"x\")","conditionalAccessStatus":"success","deviceDetail":{"deviceId":"d1","displayName":"PC\u001b[2J\nX","isCompliant":false}}}`,
		// unknown-device-signin
		`{"createdDateTime":"2026-01-05T10:00:00Z","userPrincipalName":"a@contoso.com","appDisplayName":"Office","status":{"errorCode":0},"authenticationRequirement":"singleFactorAuthentication","deviceDetail":{"deviceId":""},"networkLocationDetails":[]}`,
		// bitlocker-key-read, device-registration-policy-changed, privileged-device-role-added
		`{"activityDateTime":"2026-01-05T10:00:00Z","activityDisplayName":"Read BitLocker key","result":"success","initiatedBy":{"user":{"userPrincipalName":"admin@contoso.com","ipAddress":"203.0.113.9"}},"targetResources":[{"displayName":"key-1","type":"Other"},{"displayName":"LAPTOP","id":"d1","type":"Device"}],"additionalDetails":[{"key":"DeviceId","value":"d1"}]}`,
		`{"activityDateTime":"2026-01-05T10:00:00Z","activityDisplayName":"Set device registration policies","initiatedBy":{"app":{"displayName":"Portal"}},"targetResources":[{"modifiedProperties":[{"displayName":"MultiFactorAuthConfiguration","oldValue":"1","newValue":"0"}]}]}`,
		`{"TimeGenerated":"2026-01-05T10:00:00Z","OperationName":"Add member to role","Category":"RoleManagement","Result":"success","InitiatedBy":"{\"user\":{\"userPrincipalName\":\"admin@contoso.com\"}}","TargetResources":"[{\"type\":\"User\",\"userPrincipalName\":\"m@contoso.com\",\"modifiedProperties\":[{\"displayName\":\"Role.TemplateId\",\"newValue\":\"\\\"62e90394-69f5-4237-9190-012177145e10\\\"\"}]}]"}`,
		// stale-device, device-registration-mfa-not-required with a Conditional Access policy
		`{"@odata.type":"#microsoft.graph.device","deviceId":"d1","displayName":"OLD","accountEnabled":true,"approximateLastSignInDateTime":"2025-01-01T00:00:00Z","trustType":"ServerAd","physicalIds":["[ZTDID]:1"]}`,
		`{"id":"deviceRegistrationPolicy","multiFactorAuthConfiguration":"notRequired"}`,
		`{"displayName":"CA","state":"enabled","conditions":{"applications":{"includeUserActions":["urn:user:registerdevice"]}},"grantControls":{"builtInControls":["mfa"]}}`,
		// what a lenient parser lets through
		`{"createdDateTime":"2026-01-05T10:00:00Z","userPrincipalName":"a@contoso.com","resourceDisplayName":"Device Registration Service","status":{"errorCode":0},"conditionalAccessStatus":"success","authenticationRequirement":"x","n":1-2,"c":"` + "\x1b\t" + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		eng, err := detect.NewEngine(detect.Options{Now: fuzzNow})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, d := range eng.Detectors() {
			ids[d.Info().ID] = true
		}
		var p fastjson.Parser
		v, err := p.ParseBytes(b)
		if err != nil {
			return
		}
		raw := bytes.Clone(b)
		var r record.Record
		r.Root, r.Raw = v, raw
		r.Classify()
		r.Source = record.Source{File: "fuzz.json", Line: 7, Format: "graph"}
		var alerts []*alert.Alert
		emit := func(a *alert.Alert) { alerts = append(alerts, a) }
		eng.Detect(&r, emit)
		r.Release()
		for i := range raw {
			raw[i] = 'X' // the record's buffer is reused once it is released
		}
		n := len(alerts)
		eng.Finish(emit)
		for i, a := range alerts {
			switch {
			case !ids[a.Rule]:
				t.Fatalf("alert from unknown rule %q", a.Rule)
			case a.Severity < alert.Low || a.Severity > alert.High:
				t.Fatalf("%s: severity %d", a.Rule, a.Severity)
			case a.Title == "" || a.Summary == "":
				t.Fatalf("%s: no title or summary", a.Rule)
			case a.Source != r.Source:
				t.Fatalf("%s: source %+v", a.Rule, a.Source)
			case !bytes.Equal(a.Record, b):
				t.Fatalf("%s: the alert's record changed with the input buffer: %q", a.Rule, a.Record)
			case i < n && !a.Time.IsZero() && a.Time.Location() != time.UTC:
				t.Fatalf("%s: time %v not in UTC", a.Rule, a.Time)
			}
			line := alert.AppendJSON(nil, a)
			if bytes.IndexByte(line, '\n') >= 0 || !json.Valid(line) {
				t.Fatalf("%s: output is not one line of valid JSON:\n%s", a.Rule, line)
			}
		}
	})
}
