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

// Classify sets the record's Shape, Kind, Table and Props from the keys of
// its parsed Root. It looks at each top-level key once.
func (r *Record) Classify() {
	r.Kind, r.Shape, r.Table, r.Props = KindUnknown, ShapeGraph, "", nil
	if r.Root == nil || r.Root.Type() != fastjson.TypeObject {
		return
	}
	o, _ := r.Root.Object()
	var (
		props, category, typ, odataType, opName                                *fastjson.Value
		hasTime, hasTimeGenerated, hasActivity, hasCreated, hasUser, hasStatus bool
		hasMFAConfig, hasGrant, hasConditions, hasState, hasDeviceID           bool
		hasDeviceAttr, hasTargets, hasEventTypes, hasIsInteractive             bool
		hasWinlog, hasEventObj, hasEventID, hasComputer, hasSyslogMsg          bool
		hasRiskEvent, hasActivityValue                                         bool
		eventTypes, isInteractive                                              *fastjson.Value
	)
	var lower [48]byte
	o.Visit(func(k []byte, v *fastjson.Value) {
		if len(k) > len(lower) {
			return
		}
		n := copy(lower[:], k)
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
	if props != nil && (category != nil || opName != nil) && (hasTime || category != nil) {
		if p := r.descend(props); p.Type() == fastjson.TypeObject {
			r.Shape, r.Props = ShapeDiagnostic, p
			r.Kind, r.Table = TableKind(Text(category))
			if r.Kind == KindUnknown {
				// An envelope whose category names no log (some
				// exporters write the audit category, "Policy" or
				// "RoleManagement", there): go by the content.
				switch {
				case EqualFold(opName, "Sign-in activity"):
					r.Kind, r.Table = KindSignIn, TableSignIn
				case r.Child(p, "activityDisplayName") != nil:
					r.Kind, r.Table = KindAudit, TableAudit
				}
			}
			return
		}
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
