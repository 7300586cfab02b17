package format

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/entrawatch/entrawatch/internal/jsonenc"
	"github.com/entrawatch/entrawatch/internal/record"
)

// CSV reads the Entra portal's sign-in and audit CSV downloads and the Log
// Analytics portal's CSV export. Each row becomes a record in the Log
// Analytics shape (portal headers mapped to Log Analytics columns, the
// portal audit's Target/ModifiedProperty columns folded into TargetResources),
// while the alert keeps the row with its original headers.
type CSV struct{}

func init() { Register(CSV{}) }

// Name implements Reader.
func (CSV) Name() string { return "csv" }

// Sniff implements Reader.
func (CSV) Sniff(name string, head []byte) int {
	line := head
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if bytes.Count(line, []byte{','}) < 2 {
		return 0
	}
	l := strings.ToLower(string(line))
	for _, h := range []string{"date (utc)", "timegenerated", "operationname", "request id", "correlationid"} {
		if strings.Contains(l, h) {
			return 40
		}
	}
	if strings.HasSuffix(strings.ToLower(name), ".csv") {
		return 20
	}
	return 0
}

// csvKind is the flavour of a CSV file, from its headers.
type csvKind int

const (
	csvGeneric csvKind = iota
	csvPortalSignIn
	csvPortalAudit
	csvLogAnalytics
)

// headerKey normalises a header for lookup: lower case, spaces collapsed,
// Log Analytics time-zone suffixes removed.
func headerKey(h string) string {
	h = strings.ToLower(strings.Join(strings.Fields(h), " "))
	for _, suf := range []string{" [utc]", " [local time]"} {
		h = strings.TrimSuffix(h, suf)
	}
	return h
}

// portalSignIn maps portal sign-in CSV headers to Log Analytics columns
// (dotted names build nested objects).
var portalSignIn = map[string]string{
	"date (utc)": "CreatedDateTime", "request id": "Id", "user agent": "UserAgent", "correlation id": "CorrelationId",
	"user id": "UserId", "user": "UserDisplayName", "username": "UserPrincipalName", "user type": "UserType",
	"cross tenant access type": "CrossTenantAccessType", "incoming token type": "IncomingTokenType",
	"authentication protocol": "AuthenticationProtocol", "unique token identifier": "UniqueTokenIdentifier",
	"original transfer method": "OriginalTransferMethod", "client credential type": "ClientCredentialType",
	"application": "AppDisplayName", "application id": "AppId", "app owner tenant id": "AppOwnerTenantId",
	"resource": "ResourceDisplayName", "resource id": "ResourceIdentity", "resource tenant id": "ResourceTenantId",
	"resource owner tenant id": "ResourceOwnerTenantId", "home tenant id": "HomeTenantId", "home tenant name": "HomeTenantName",
	"ip address": "IPAddress", "status": "Status.additionalDetails", "sign-in error code": "ResultType",
	"failure reason": "ResultDescription", "client app": "ClientAppUsed", "device id": "DeviceDetail.deviceId",
	"browser": "DeviceDetail.browser", "operating system": "DeviceDetail.operatingSystem", "compliant": "DeviceDetail.isCompliant",
	"managed": "DeviceDetail.isManaged", "join type": "DeviceDetail.trustType", "device name": "DeviceDetail.displayName",
	"multifactor authentication result": "MfaDetail.authDetail", "multifactor authentication auth method": "MfaDetail.authMethod",
	"multifactor authentication auth detail": "MfaDetail.authDetail", "authentication requirement": "AuthenticationRequirement",
	"sign-in identifier": "SignInIdentifier", "session id": "SessionId", "ip address (seen by resource)": "IPAddressFromResourceProvider",
	"through global secure access": "IsThroughGlobalSecureAccess", "global secure access ip address": "GlobalSecureAccessIpAddress",
	"autonomous system number": "AutonomousSystemNumber", "flagged for review": "FlaggedForReview", "token issuer type": "TokenIssuerType",
	"token issuer name": "TokenIssuerName", "latency": "ProcessingTimeInMilliseconds", "conditional access": "ConditionalAccessStatus",
	"managed identity type": "ManagedServiceIdentity.msiType", "associated resource id": "ManagedServiceIdentity.associatedResourceId",
	"service principal id": "ServicePrincipalId", "service principal name": "ServicePrincipalName",
	"credential key id": "ServicePrincipalCredentialKeyId", "credential thumbprint": "ServicePrincipalCredentialThumbprint",
}

// portalValues normalises the portal's display values to the Log Analytics
// ones, per column.
var portalValues = map[string]map[string]string{
	"ConditionalAccessStatus":   {"success": "success", "failure": "failure", "not applied": "notApplied", "notapplied": "notApplied"},
	"AuthenticationRequirement": {"single-factor authentication": "singleFactorAuthentication", "singlefactorauthentication": "singleFactorAuthentication", "multifactor authentication": "multiFactorAuthentication", "multi-factor authentication": "multiFactorAuthentication", "multifactorauthentication": "multiFactorAuthentication"},
	"DeviceDetail.isCompliant":  {"yes": "true", "true": "true", "no": "false", "false": "false"},
	"DeviceDetail.isManaged":    {"yes": "true", "true": "true", "no": "false", "false": "false"},
}

// Split implements Reader.
func (CSV) Split(ctx context.Context, name string, r io.Reader, opts Options, emit func(*Item) error) error {
	max := opts.MaxRecord
	if max <= 0 {
		max = 64 << 20
	}
	lr := &lineLimiter{r: bufio.NewReaderSize(r, 64<<10), max: max}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil
		}
		if lr.err != nil {
			return lr.err
		}
		return fmt.Errorf("line 1: cannot read the CSV header: %w", err)
	}
	header = append([]string(nil), header...)
	keys := make([]string, len(header))
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		keys[i] = headerKey(h)
	}
	kind, table := csvFlavour(name, keys)
	formatName := "portal-csv"
	if kind == csvLogAnalytics || kind == csvGeneric {
		formatName = "log-analytics-csv"
	}
	var raw, view []byte
	var it Item
	for n := int64(1); ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// No FieldPos here: a read error inside a quoted field leaves
			// the record without field positions, and FieldPos panics.
			if lr.err != nil {
				return lr.err
			}
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				// The underlying reader failed (a truncated gzip stream,
				// say): it fails again on every call, so stop here.
				return fmt.Errorf("line %d: read error: %w", lr.line+1, err)
			}
			it = Item{Line: int64(pe.StartLine), Index: n, OwnLine: true, Err: fmt.Errorf("line %d: %v", pe.StartLine, err)}
			if e := emit(&it); e != nil {
				return e
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(row) != len(header) {
			it = Item{Line: int64(line), Index: n, OwnLine: true, Err: fmt.Errorf("line %d: row has %d fields, the header has %d", line, len(row), len(header))}
			if e := emit(&it); e != nil {
				return e
			}
			continue
		}
		raw = rawRow(raw[:0], header, row)
		view = buildView(view[:0], kind, table, header, keys, row)
		it = Item{Data: view, Raw: raw, Format: formatName, Line: int64(line), Index: n, OwnLine: true}
		if e := emit(&it); e != nil {
			return e
		}
	}
}

func csvFlavour(name string, keys []string) (csvKind, string) {
	has := map[string]bool{}
	for _, k := range keys {
		has[k] = true
	}
	base := strings.ToLower(filepath.Base(name))
	switch {
	case has["timegenerated"]:
		return csvLogAnalytics, ""
	case has["date (utc)"] && has["activity"]:
		return csvPortalAudit, record.TableAudit
	case has["date (utc)"]:
		switch {
		case strings.Contains(base, "noninteractive"):
			return csvPortalSignIn, record.TableNonInteractive
		case strings.Contains(base, "applicationsignin") || has["credential key id"]:
			return csvPortalSignIn, record.TableServicePrincipal
		case strings.Contains(base, "msisignin") || has["managed identity type"] && !has["username"]:
			return csvPortalSignIn, record.TableManagedIdentity
		}
		return csvPortalSignIn, record.TableSignIn
	}
	return csvGeneric, ""
}

// rawRow encodes a row as a JSON object of its original headers.
func rawRow(b []byte, header, row []string) []byte {
	b = append(b, '{')
	for i := range header {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, header[i])
		b = append(b, ':')
		b = jsonenc.AppendString(b, row[i])
	}
	return append(b, '}')
}

// obj is a small ordered JSON object under construction.
type obj struct {
	keys []string
	vals []any // string or *obj or []*obj
}

// maxNest bounds how deep a dotted header name nests objects, so that a
// header of a million dots cannot exhaust the stack; deeper, the rest of
// the name is one key.
const maxNest = 16

func (o *obj) set(path string, v any) { o.setAt(path, v, 0) }

func (o *obj) setAt(path string, v any, depth int) {
	k, rest, nested := strings.Cut(path, ".")
	if depth >= maxNest {
		k, rest, nested = path, "", false
	}
	for i, x := range o.keys {
		if strings.EqualFold(x, k) {
			if !nested {
				o.vals[i] = v
				return
			}
			if child, ok := o.vals[i].(*obj); ok {
				child.setAt(rest, v, depth+1)
				return
			}
			child := &obj{}
			child.setAt(rest, v, depth+1)
			o.vals[i] = child
			return
		}
	}
	if !nested {
		o.keys, o.vals = append(o.keys, k), append(o.vals, v)
		return
	}
	child := &obj{}
	child.setAt(rest, v, depth+1)
	o.keys, o.vals = append(o.keys, k), append(o.vals, child)
}

func (o *obj) append(b []byte) []byte {
	b = append(b, '{')
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, ':')
		b = appendAny(b, o.vals[i])
	}
	return append(b, '}')
}

func appendAny(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return jsonenc.AppendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case *obj:
		return v.append(b)
	case []*obj:
		b = append(b, '[')
		for i, o := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = o.append(b)
		}
		return append(b, ']')
	case nil:
		return append(b, "null"...)
	}
	return append(b, "null"...)
}

func buildView(b []byte, kind csvKind, table string, header, keys, row []string) []byte {
	o := &obj{}
	switch kind {
	case csvPortalSignIn:
		for i, k := range keys {
			col, ok := portalSignIn[k]
			if !ok {
				o.set(header[i], row[i])
				continue
			}
			v := strings.TrimSpace(row[i])
			if m, ok := portalValues[col]; ok {
				if nv, ok := m[strings.ToLower(v)]; ok {
					v = nv
				}
			}
			switch col {
			case "CreatedDateTime":
				o.set("TimeGenerated", v)
			case "DeviceDetail.isCompliant", "DeviceDetail.isManaged":
				if v == "true" || v == "false" {
					o.set(col, v == "true")
					continue
				}
			case "Status.additionalDetails":
				o.set("ResultSignature", v)
			}
			if k == "location" && v != "" {
				parts := strings.Split(v, ",")
				for j := range parts {
					parts[j] = strings.TrimSpace(parts[j])
				}
				cc := parts[len(parts)-1]
				o.set("Location", cc)
				o.set("LocationDetails.countryOrRegion", cc)
				if len(parts) >= 2 {
					o.set("LocationDetails.city", parts[0])
				}
				if len(parts) >= 3 {
					o.set("LocationDetails.state", parts[1])
				}
				continue
			}
			o.set(col, v)
		}
		o.set("OperationName", "Sign-in activity")
		if table == record.TableNonInteractive {
			o.set("IsInteractive", false)
		}
	case csvPortalAudit:
		buildAudit(o, header, keys, row)
	default:
		for i := range keys {
			h := header[i]
			if j := strings.Index(h, " ["); j > 0 && strings.HasSuffix(h, "]") {
				h = h[:j]
			}
			o.set(h, row[i])
		}
	}
	if table != "" {
		o.set("Type", table)
	}
	return o.append(b)
}

// buildAudit folds the portal audit CSV's Actor*, Target{n}* and
// Target{n}ModifiedProperty{m}* columns into InitiatedBy and TargetResources.
func buildAudit(o *obj, header, keys, row []string) {
	get := func(names ...string) string {
		for _, n := range names {
			for i, k := range keys {
				if k == n {
					return strings.TrimSpace(row[i])
				}
			}
		}
		return ""
	}
	targets := map[int]*obj{}
	mods := map[int]map[int]*obj{}
	for i, k := range keys {
		v := row[i]
		switch k {
		case "date (utc)":
			o.set("ActivityDateTime", v)
			o.set("TimeGenerated", v)
			continue
		case "activity":
			o.set("OperationName", v)
			o.set("ActivityDisplayName", v)
			continue
		case "service":
			o.set("LoggedByService", v)
			continue
		case "result":
			o.set("Result", strings.ToLower(strings.TrimSpace(v)))
			continue
		case "user agent", "useragent":
			o.set("UserAgent", v)
			continue
		}
		if strings.HasPrefix(k, "target") {
			var n, m int
			var field string
			if c, _ := fmt.Sscanf(k, "target%dmodifiedproperty%d", &n, &m); c == 2 {
				field = k[strings.Index(k, "property")+len("property"):]
				field = strings.TrimLeft(field, "0123456789")
				if mods[n] == nil {
					mods[n] = map[int]*obj{}
				}
				mp := mods[n][m]
				if mp == nil {
					mp = &obj{}
					mods[n][m] = mp
				}
				switch field {
				case "name":
					mp.set("displayName", v)
				case "oldvalue":
					mp.set("oldValue", v)
				case "newvalue":
					mp.set("newValue", v)
				}
				continue
			}
			if c, _ := fmt.Sscanf(k, "target%d", &n); c == 1 {
				field = strings.TrimLeft(k[len("target"):], "0123456789")
				t := targets[n]
				if t == nil {
					t = &obj{}
					targets[n] = t
				}
				switch field {
				case "type":
					t.set("type", v)
				case "displayname":
					t.set("displayName", v)
				case "objectid":
					t.set("id", v)
				case "userprincipalname":
					t.set("userPrincipalName", v)
				default:
					t.set(header[i], v)
				}
				continue
			}
		}
		if strings.HasPrefix(k, "actor") {
			continue
		}
		o.set(header[i], v)
	}
	ib := &obj{}
	if upn, typ := get("actoruserprincipalname"), get("actortype"); upn != "" || strings.EqualFold(typ, "User") {
		u := &obj{}
		u.set("id", get("actorobjectid"))
		u.set("displayName", get("actordisplayname"))
		u.set("userPrincipalName", upn)
		u.set("ipAddress", get("ipaddress", "ip address"))
		ib.set("user", u)
	} else {
		a := &obj{}
		a.set("displayName", get("actordisplayname"))
		a.set("servicePrincipalId", firstNonEmpty(get("actorserviceprincipalid"), get("actorobjectid")))
		a.set("servicePrincipalName", get("actorserviceprincipalname"))
		ib.set("app", a)
	}
	o.set("InitiatedBy", ib)
	var list []*obj
	for n := 1; n <= len(targets)+len(mods)+1; n++ {
		t := targets[n]
		if t == nil && mods[n] == nil {
			continue
		}
		if t == nil {
			t = &obj{}
		}
		var mlist []*obj
		for m := 1; m <= len(mods[n])+1; m++ {
			if mp := mods[n][m]; mp != nil && nonEmptyObj(mp) {
				mlist = append(mlist, mp)
			}
		}
		t.set("modifiedProperties", mlist)
		if nonEmptyObj(t) || len(mlist) > 0 {
			list = append(list, t)
		}
	}
	o.set("TargetResources", list)
}

func nonEmptyObj(o *obj) bool {
	for _, v := range o.vals {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// ErrLineTooLong is returned for a CSV line over the record size limit.
var ErrLineTooLong = errors.New("line too long")

// lineLimiter fails a read once a single CSV record exceeds max bytes, so
// that a huge line, or a quoted field running on over many lines, cannot
// make the CSV reader buffer it whole. It follows the quoting rules of
// encoding/csv (with LazyQuotes) to know where a record ends.
type lineLimiter struct {
	r     *bufio.Reader
	max   int
	cur   int // bytes of the current record so far
	line  int // line breaks read
	start int // line breaks read before the current record began
	state CSVState
	err   error
}

// CSVState is where a byte stands in a CSV record, as encoding/csv parses
// it with LazyQuotes and a comma delimiter: it tells a line break that ends
// a record from one inside a quoted field. The zero value is the start of a
// field; the file source follows appended CSV with it too.
type CSVState uint8

const (
	csvFieldStart CSVState = iota
	csvUnquoted
	csvQuoted
	csvQuote   // a '"' in a quoted field: an escaped quote, or the field's end
	csvQuoteCR // '\r' after such a quote: the record's end if '\n' follows
)

// Next returns the state after c and whether c ends a record.
func (s CSVState) Next(c byte) (CSVState, bool) {
	switch s {
	case csvQuoted:
		if c == '"' {
			return csvQuote, false
		}
		return csvQuoted, false
	case csvQuote:
		switch c {
		case '"':
			return csvQuoted, false
		case ',':
			return csvFieldStart, false
		case '\n':
			return csvFieldStart, true
		case '\r':
			return csvQuoteCR, false
		}
		return csvQuoted, false // a bare quote, kept as text
	case csvQuoteCR:
		if c == '\n' {
			return csvFieldStart, true
		}
		return csvQuoted.Next(c) // the quote and '\r' were text
	}
	switch c {
	case '\n':
		return csvFieldStart, true
	case ',':
		return csvFieldStart, false
	case '"':
		if s == csvFieldStart {
			return csvQuoted, false
		}
	}
	return csvUnquoted, false
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(p) > 32<<10 {
		p = p[:32<<10]
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		var end bool
		l.state, end = l.state.Next(c)
		if c == '\n' {
			l.line++
		}
		if end {
			l.cur, l.start = 0, l.line
			continue
		}
		l.cur++
		if l.cur > l.max {
			if l.start == l.line {
				l.err = fmt.Errorf("line %d: %w (over %d bytes); the rest of the file is skipped", l.line+1, ErrLineTooLong, l.max)
			} else {
				l.err = fmt.Errorf("line %d: %w (a quoted field runs on to line %d and past %d bytes); the rest of the file is skipped", l.start+1, ErrLineTooLong, l.line+1, l.max)
			}
			if i > 0 {
				return i, nil // the records before this one are whole
			}
			return 0, l.err
		}
	}
	return n, err
}

var _ Reader = CSV{}

// PortalSignInMarkdown renders the portal sign-in CSV header mapping for
// docs/formats.md.
func PortalSignInMarkdown() string {
	keys := make([]string, 0, len(portalSignIn))
	for k := range portalSignIn {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("| portal CSV header (any case, spaces collapsed) | Log Analytics field |\n| --- | --- |\n")
	for _, k := range keys {
		b.WriteString("| `" + k + "` | `" + portalSignIn[k] + "` |\n")
	}
	return b.String()
}
