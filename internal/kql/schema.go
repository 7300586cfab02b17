package kql

import (
	"strconv"
	"strings"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// Column is a table column: its name and Kusto type (string, long, int,
// real, bool, datetime, timespan, dynamic).
type Column struct {
	Name, Type string
}

// Table is a result or source table.
type Table struct {
	Columns []Column
	Rows    [][]Value
}

func (t *Table) index(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Schemas are the fixed Log Analytics schemas entrawatch presents, after
// docs/reference (section 2 for sign-ins, 3.2 for AuditLogs, 9 for
// SecurityEvent); Syslog follows the Log Analytics Syslog table and Devices
// the Graph device object in PascalCase.
var Schemas = map[string][]Column{}

func cols(spec string) []Column {
	var out []Column
	for _, f := range strings.Fields(spec) {
		name, typ, ok := strings.Cut(f, ":")
		if !ok {
			typ = "string"
		}
		out = append(out, Column{name, typ})
	}
	return out
}

func signinCols(dynamicAsString bool) []Column {
	dyn := "dynamic"
	if dynamicAsString {
		dyn = "string"
	}
	return cols(`TimeGenerated:datetime CreatedDateTime:datetime Id OperationName OperationVersion Category
ResultType ResultSignature ResultDescription DurationMs:long CorrelationId Identity Level Location
AppDisplayName AppId ResourceDisplayName ResourceIdentity ResourceId UserPrincipalName UserDisplayName UserId UserType
IPAddress ClientAppUsed ConditionalAccessStatus ConditionalAccessPolicies:` + dyn + ` AuthenticationRequirement
AuthenticationRequirementPolicies AuthenticationDetails AuthenticationMethodsUsed AuthenticationProcessingDetails
AuthenticationContextClassReferences DeviceDetail:` + dyn + ` LocationDetails:` + dyn + ` Status:` + dyn + ` MfaDetail:` + dyn + `
NetworkLocationDetails IsInteractive:bool IsRisky:bool RiskDetail RiskEventTypes RiskEventTypes_V2 RiskLevelAggregated
RiskLevelDuringSignIn RiskState TokenIssuerName TokenIssuerType AlternateSignInName SignInIdentifier SignInIdentifierType
OriginalRequestId ProcessingTimeInMilliseconds HomeTenantId ResourceTenantId AADTenantId ServicePrincipalId
ServicePrincipalName ResourceServicePrincipalId AutonomousSystemNumber FlaggedForReview:bool
IPAddressFromResourceProvider SessionLifetimePolicies UniqueTokenIdentifier UserAgent SignInEventTypes
CrossTenantAccessType`)
}

func init() {
	Schemas[record.TableSignIn] = signinCols(false)
	Schemas[record.TableNonInteractive] = signinCols(true)
	Schemas[record.TableServicePrincipal] = signinCols(false)
	Schemas[record.TableManagedIdentity] = signinCols(false)
	Schemas[record.TableAudit] = cols(`TimeGenerated:datetime ActivityDateTime:datetime ActivityDisplayName OperationName
Category AADOperationType Result ResultReason ResultType ResultDescription ResultSignature Id CorrelationId LoggedByService
InitiatedBy:dynamic TargetResources:dynamic AdditionalDetails:dynamic Identity Level Location OperationVersion
DurationMs:long AADTenantId`)
	Schemas[record.TableSecurityEvent] = cols(`TimeGenerated:datetime Computer EventID:int Activity Channel Account AccountType
SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId TargetUserSid TargetUserName TargetDomainName TargetAccount
TargetLogonId LogonType:int LogonTypeName LogonProcessName AuthenticationPackageName WorkstationName IpAddress IpPort
ProcessName EventOriginId`)
	Schemas[record.TableSyslog] = cols(`TimeGenerated:datetime EventTime:datetime Computer HostName HostIP Facility
SeverityLevel ProcessName ProcessID:int SyslogMessage`)
	Schemas[record.TableDevices] = cols(`Id DeviceId DisplayName OperatingSystem OperatingSystemVersion TrustType
ProfileType AccountEnabled:bool IsCompliant:bool IsManaged:bool ApproximateLastSignInDateTime:datetime
RegistrationDateTime:datetime`)
	for name, cs := range Schemas {
		cs = append(cs, Column{"Type", "string"})
		Schemas[name] = cs
		fs := make([]*record.Field, len(cs))
		for i, c := range cs {
			fs[i] = record.CompileField(c.Name)
		}
		fields[name] = fs
	}
}

var fields = map[string][]*record.Field{}

// tableOf returns the Log Analytics table a record is presented in, or "".
// TableOf returns the table a record belongs to (the one RowOf puts it in)
// without building its row, or "" when no supported table holds it.
func TableOf(r *record.Record) string {
	switch r.Kind {
	case record.KindSignIn:
		if r.Table == "" {
			return record.TableSignIn
		}
		return r.Table
	case record.KindAudit:
		return record.TableAudit
	case record.KindWindowsEvent:
		return record.TableSecurityEvent
	case record.KindSyslog:
		return record.TableSyslog
	case record.KindDevice:
		return record.TableDevices
	}
	return ""
}

// RowOf builds the row a record holds in its table through the field view;
// it returns "" for records no supported table holds. The row owns its
// values: the record may be released afterwards.
func RowOf(r *record.Record) (string, []Value) {
	name := TableOf(r)
	fs := fields[name]
	if fs == nil {
		return "", nil
	}
	cs := Schemas[name]
	row := make([]Value, len(cs))
	for i, f := range fs {
		row[i] = columnValue(r, name, cs[i], f)
	}
	return name, row
}

// columnValue is the value of column c (compiled as f) of a record of
// table: what RowOf puts in the row.
func columnValue(r *record.Record, table string, c Column, f *record.Field) Value {
	if c.Name == "Type" {
		return Str(table)
	}
	v := convert(r.Get(f), c.Type)
	if v.T == TDynamic {
		if keys := boolMembers[c.Name]; keys != nil {
			typeBools(v, keys)
		}
	}
	return v
}

// TimeColumn is the column of a table that the reference time of now()
// and ago() is read from: TimeGenerated, else the first datetime column
// (-1: none).
func TimeColumn(cs []Column) int {
	for i, c := range cs {
		if c.Name == "TimeGenerated" {
			return i
		}
	}
	for i, c := range cs {
		if c.Type == "datetime" {
			return i
		}
	}
	return -1
}

// boolMembers are the members of dynamic columns that Log Analytics holds
// as bool, which some exports (the Entra portal's JSON download) write as
// "true"/"false" strings.
var boolMembers = map[string][]string{"DeviceDetail": {"isCompliant", "isManaged"}}

func typeBools(v Value, keys []string) {
	o, ok := v.D.(*Obj)
	if !ok {
		return
	}
	for i, k := range o.Keys {
		for _, want := range keys {
			if strings.EqualFold(k, want) && o.Vals[i].T == TString {
				switch strings.ToLower(strings.TrimSpace(o.Vals[i].S)) {
				case "true":
					o.Vals[i] = Value{T: TBool, I: 1, Dyn: true}
				case "false":
					o.Vals[i] = Value{T: TBool, Dyn: true}
				}
			}
		}
	}
}

// convert reads a record value as a column of the given type.
func convert(v *fastjson.Value, typ string) Value {
	switch typ {
	case "string":
		return Str(record.Text(v))
	case "dynamic":
		if v == nil || v.Type() == fastjson.TypeNull {
			return Null
		}
		if v.Type() == fastjson.TypeString {
			b, _ := v.StringBytes()
			s := strings.TrimSpace(string(b))
			if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
				return ParseDynamic(s)
			}
		}
		return FromJSON(v)
	}
	if v == nil || v.Type() == fastjson.TypeNull {
		return Null
	}
	return convertString(record.Text(v), typ)
}

// convertString reads text as a long, int, real, bool or datetime (null
// when it is not one).
func convertString(s, typ string) Value {
	s = strings.TrimSpace(s)
	if s == "" {
		return Null
	}
	switch typ {
	case "long", "int":
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return Long(i)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return Long(int64(f))
		}
	case "real":
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return Real(f)
		}
	case "bool":
		switch strings.ToLower(s) {
		case "true", "1":
			return Bool(true)
		case "false", "0":
			return Bool(false)
		}
	case "datetime":
		if t, ok := record.ParseTime(s); ok {
			return Datetime(t)
		}
	}
	return Null
}
