package record

import (
	"strings"

	"github.com/valyala/fastjson"
)

// Log Analytics table names of the record kinds that have one.
const (
	TableSignIn             = "SigninLogs"
	TableNonInteractive     = "AADNonInteractiveUserSignInLogs"
	TableServicePrincipal   = "AADServicePrincipalSignInLogs"
	TableManagedIdentity    = "AADManagedIdentitySignInLogs"
	TableAudit              = "AuditLogs"
	TableDevices            = "Devices"
	TableSyslog             = "Syslog"
	TableSecurityEvent      = "SecurityEvent"
	TableWindowsEvent       = "WindowsEvent"
	TableUserRiskEvents     = "AADUserRiskEvents"
	TableRiskyUsers         = "AADRiskyUsers"
	TableAzureActivity      = "AzureActivity"
	TableRegistrationPolicy = "DeviceRegistrationPolicy"
	TableCAPolicy           = "ConditionalAccessPolicies"
)

// categoryTables maps diagnostic-settings categories and Log Analytics
// Category values (lower case) to the table and kind they belong to.
var categoryTables = map[string]struct {
	table string
	kind  Kind
}{
	"signinlogs":                          {TableSignIn, KindSignIn},
	"signin":                              {TableSignIn, KindSignIn},
	"noninteractiveusersigninlogs":        {TableNonInteractive, KindSignIn},
	"serviceprincipalsigninlogs":          {TableServicePrincipal, KindSignIn},
	"microsoftserviceprincipalsigninlogs": {TableServicePrincipal, KindSignIn},
	"managedidentitysigninlogs":           {TableManagedIdentity, KindSignIn},
	"auditlogs":                           {TableAudit, KindAudit},
	"audit":                               {TableAudit, KindAudit},
	"aadnoninteractiveusersigninlogs":     {TableNonInteractive, KindSignIn},
	"aadserviceprincipalsigninlogs":       {TableServicePrincipal, KindSignIn},
	"aadmanagedidentitysigninlogs":        {TableManagedIdentity, KindSignIn},
}

// TableKind returns the kind of records in a Log Analytics table or
// diagnostic category, and the table's canonical name.
func TableKind(name string) (Kind, string) {
	if t, ok := categoryTables[strings.ToLower(strings.TrimSpace(name))]; ok {
		return t.kind, t.table
	}
	return KindUnknown, ""
}

// tableKindOf is TableKind of a string value, without allocating for the
// ASCII names the tables have.
func tableKindOf(v *fastjson.Value) (Kind, string) {
	if v == nil || v.Type() != fastjson.TypeString {
		return TableKind(Text(v))
	}
	b, _ := v.StringBytes()
	b = trimSpaceBytes(b)
	var buf [48]byte
	if len(b) > len(buf) {
		return TableKind(string(b))
	}
	for i, c := range b {
		if c >= 0x80 {
			return TableKind(string(b))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if t, ok := categoryTables[string(buf[:len(b)])]; ok {
		return t.kind, t.table
	}
	return KindUnknown, ""
}

// classifyKeys are the top-level keys Classify looks at, lower-cased:
// the cases of its switch.
var classifyKeys = []string{
	"properties", "category", "type", "@odata.type", "operationname", "time", "timegenerated",
	"activitydisplayname", "activitydatetime", "createddatetime", "userprincipalname", "appid",
	"ipaddress", "resourcedisplayname", "serviceprincipalid", "status", "conditionalaccessstatus",
	"multifactorauthconfiguration", "grantcontrols", "conditions", "state", "deviceid",
	"approximatelastsignindatetime", "registrationdatetime", "trusttype", "accountenabled",
	"operatingsystem", "targetresources", "initiatedby", "signineventtypes", "isinteractive",
	"winlog", "event", "eventid", "event_id", "computer", "hostname", "channel", "sourcename",
	"syslogmessage", "riskeventtype", "operationnamevalue", "categoryvalue", "resourceprovidervalue",
}

// maxClassifyKey is the longest key Classify looks at.
const maxClassifyKey = 48

// classifyFilter has, for each key length, a bit per first letter
// (c|0x20, mod 64) of the keys of that length in classifyKeys.
var classifyFilter = func() (f [maxClassifyKey + 1]uint64) {
	for _, k := range classifyKeys {
		f[len(k)] |= 1 << ((k[0] | 0x20) & 63)
	}
	return f
}()

// maxEnvelopeKeys bounds the top-level keys of a record that Classify
// probes for the diagnostic-settings envelope before visiting them all.
const maxEnvelopeKeys = 32

// Classify sets the record's Shape, Kind, Table and Props from the keys of
// its parsed Root. Diagnostic-settings records, the usual input, are
// recognised from their envelope keys in their exact spellings; anything
// else is classified by looking at each top-level key once, in any letter
// case.
func (r *Record) Classify() {
	r.Kind, r.Shape, r.Table, r.Props = KindUnknown, ShapeGraph, "", nil
	if r.Root == nil || r.Root.Type() != fastjson.TypeObject {
		return
	}
	o, _ := r.Root.Object()
	// A diagnostic-settings envelope has a dozen or so keys; Log Analytics
	// rows and Graph objects, which have many more, skip the probes.
	if o.Len() <= maxEnvelopeKeys {
		if props := o.Get("properties"); props != nil {
			category, opName := o.Get("category"), o.Get("operationName")
			if (category != nil || opName != nil && o.Get("time") != nil) && r.classifyDiagnostic(props, category, opName) {
				return
			}
		}
	}
	var (
		props, category, typ, odataType, opName                                *fastjson.Value
		hasTime, hasTimeGenerated, hasActivity, hasCreated, hasUser, hasStatus bool
		hasMFAConfig, hasGrant, hasConditions, hasState, hasDeviceID           bool
		hasDeviceAttr, hasTargets, hasEventTypes, hasIsInteractive             bool
		hasWinlog, hasEventObj, hasEventID, hasComputer, hasSyslogMsg          bool
		hasRiskEvent, hasActivityValue                                         bool
		eventTypes, isInteractive                                              *fastjson.Value
	)
	var lower [maxClassifyKey]byte
	o.Visit(func(k []byte, v *fastjson.Value) {
		// Most keys of a Log Analytics row or a Graph object are none of
		// those below: the filter by length and first letter drops them
		// before any copy.
		n := len(k)
		if n == 0 || n > maxClassifyKey || classifyFilter[n]&(1<<((k[0]|0x20)&63)) == 0 {
			return
		}
		copy(lower[:], k)
		for i := 0; i < n; i++ {
			if c := lower[i]; 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		switch string(lower[:n]) {
		case "properties":
			props = v
		case "category":
			category = v
		case "type":
			typ = v
		case "@odata.type":
			odataType = v
		case "operationname":
			opName = v
		case "time":
			hasTime = true
		case "timegenerated":
			hasTimeGenerated = true
		case "activitydisplayname", "activitydatetime":
			hasActivity = true
		case "createddatetime":
			hasCreated = true
		case "userprincipalname", "appid", "ipaddress", "resourcedisplayname", "serviceprincipalid":
			hasUser = true
		case "status", "conditionalaccessstatus":
			hasStatus = true
		case "multifactorauthconfiguration":
			hasMFAConfig = true
		case "grantcontrols":
			hasGrant = true
		case "conditions":
			hasConditions = true
		case "state":
			hasState = true
		case "deviceid":
			hasDeviceID = true
		case "approximatelastsignindatetime", "registrationdatetime", "trusttype", "accountenabled", "operatingsystem":
			hasDeviceAttr = true
		case "targetresources", "initiatedby":
			hasTargets = true
		case "signineventtypes":
			hasEventTypes, eventTypes = true, v
		case "isinteractive":
			hasIsInteractive, isInteractive = true, v
		case "winlog":
			hasWinlog = true
		case "event":
			hasEventObj = v.Type() == fastjson.TypeObject
		case "eventid", "event_id":
			hasEventID = true
		case "computer", "hostname", "channel", "sourcename":
			hasComputer = true
		case "syslogmessage":
			hasSyslogMsg = true
		case "riskeventtype":
			hasRiskEvent = true
		case "operationnamevalue", "categoryvalue", "resourceprovidervalue":
			hasActivityValue = true
		}
	})

	// Diagnostic-settings envelope: properties object plus envelope keys.
	if props != nil && (category != nil || opName != nil) && (hasTime || category != nil) && r.classifyDiagnostic(props, category, opName) {
		return
	}
	// Windows events in their JSON forms.
	tableName := Text(typ)
	if hasWinlog || hasEventObj && GetFold(o, "Event").Get("System") != nil || hasEventID && hasComputer ||
		strings.EqualFold(tableName, TableSecurityEvent) || strings.EqualFold(tableName, TableWindowsEvent) {
		r.Shape, r.Kind, r.Table = ShapeWindows, KindWindowsEvent, TableSecurityEvent
		if strings.EqualFold(tableName, TableWindowsEvent) {
			r.Table = TableWindowsEvent
		}
		return
	}
	if hasActivityValue || strings.EqualFold(tableName, TableAzureActivity) {
		r.Shape, r.Kind, r.Table = ShapeLogAnalytics, KindActivity, TableAzureActivity
		return
	}
	if hasSyslogMsg || strings.EqualFold(tableName, TableSyslog) {
		r.Shape, r.Kind, r.Table = ShapeLogAnalytics, KindSyslog, TableSyslog
		return
	}
	if hasTimeGenerated {
		r.Shape = ShapeLogAnalytics
		if typ != nil {
			r.Kind, r.Table = TableKind(Text(typ))
		}
		if r.Kind == KindUnknown && category != nil {
			r.Kind, r.Table = TableKind(Text(category))
		}
		if r.Kind == KindUnknown {
			switch {
			case hasRiskEvent:
				r.Kind, r.Table = KindRiskDetection, TableUserRiskEvents
			case hasActivity || hasTargets:
				r.Kind, r.Table = KindAudit, TableAudit
			case EqualFold(opName, "Sign-in activity") || hasUser && hasStatus:
				r.Kind, r.Table = KindSignIn, TableSignIn
			}
		}
		return
	}
	ot := strings.ToLower(Text(odataType))
	switch {
	case hasRiskEvent && !hasTimeGenerated || strings.HasSuffix(ot, "riskdetection") || strings.HasSuffix(ot, "riskyuser"):
		r.Kind, r.Table = KindRiskDetection, TableUserRiskEvents
	case hasMFAConfig || strings.HasSuffix(ot, "deviceregistrationpolicy"):
		r.Kind, r.Table = KindRegistrationPolicy, TableRegistrationPolicy
	case hasGrant || strings.HasSuffix(ot, "conditionalaccesspolicy") || hasConditions && hasState:
		r.Kind, r.Table = KindCAPolicy, TableCAPolicy
	case hasActivity || strings.HasSuffix(ot, "directoryaudit"):
		r.Kind, r.Table = KindAudit, TableAudit
	case hasCreated && (hasUser || hasStatus) || strings.HasSuffix(ot, "signin"):
		r.Kind, r.Table = KindSignIn, TableSignIn
		switch {
		case hasEventTypes:
			for _, e := range r.Elements(eventTypes) {
				if t := Text(e); !strings.EqualFold(t, "interactiveUser") {
					_, r.Table = TableKind(t + "SignInLogs")
					if r.Table == "" {
						r.Table = TableSignIn
					}
				} else {
					r.Table = TableSignIn
					break
				}
			}
		case hasIsInteractive && IsFalse(isInteractive):
			r.Table = TableNonInteractive
		}
	case hasDeviceID && hasDeviceAttr || strings.HasSuffix(ot, ".device"):
		r.Kind, r.Table = KindDevice, TableDevices
	}
}

// classifyDiagnostic classifies a diagnostic-settings record, an envelope
// around a properties object, and reports whether props is one.
func (r *Record) classifyDiagnostic(props, category, opName *fastjson.Value) bool {
	p := r.descend(props)
	if p.Type() != fastjson.TypeObject {
		return false
	}
	r.Shape, r.Props = ShapeDiagnostic, p
	r.Kind, r.Table = tableKindOf(category)
	if r.Kind == KindUnknown {
		// An envelope whose category names no log (some exporters write
		// the audit category, "Policy" or "RoleManagement", there): go by
		// the content.
		switch {
		case EqualFold(opName, "Sign-in activity"):
			r.Kind, r.Table = KindSignIn, TableSignIn
		case r.Child(p, "activityDisplayName") != nil:
			r.Kind, r.Table = KindAudit, TableAudit
		}
	}
	return true
}
