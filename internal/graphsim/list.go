package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// pageToken is the state a $skiptoken or $deltatoken carries, opaque to
// clients: the list, its query, the snapshot time of the first page and
// the cursor after the last item served.
type pageToken struct {
	List   string `json:"l"`
	Filter string `json:"f,omitempty"`
	Top    int    `json:"t,omitempty"`
	Select string `json:"s,omitempty"`
	Expand string `json:"x,omitempty"`
	AsOf   int64  `json:"a,omitempty"` // UnixNano
	At     int64  `json:"c,omitempty"` // cursor time, UnixNano
	Seq    uint64 `json:"q,omitempty"` // cursor seq
	ID     string `json:"i,omitempty"` // cursor id (devices, roles)
	Since  uint64 `json:"v,omitempty"` // delta: changes after this version
	Upto   uint64 `json:"w,omitempty"` // delta: the round's snapshot version
}

const maxTokenLen = 8192

func (p pageToken) encode() string {
	return base64.RawURLEncoding.EncodeToString(mustJSON(p))
}

// readToken decodes the named token parameter, if present, for list.
func (t *Tenant) readToken(q *req, name, list string) (*pageToken, bool) {
	s, ok := param(q, name)
	if !ok {
		return nil, true
	}
	var p pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if len(s) > maxTokenLen || err != nil || json.Unmarshal(b, &p) != nil || p.List != list {
		t.graphError(q, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid $%s: use the %s link of a previous %s response verbatim.", name, map[string]string{"skiptoken": "@odata.nextLink", "deltatoken": "@odata.deltaLink"}[name], list))
		return nil, false
	}
	return &p, true
}

// link is an absolute link to path with the query options, in order.
func link(q *req, path string, opts ...string) string {
	var b strings.Builder
	b.WriteString(q.base + path)
	sep := "?"
	for i := 0; i+1 < len(opts); i += 2 {
		if opts[i+1] == "" {
			continue
		}
		b.WriteString(sep + opts[i] + "=" + url.QueryEscape(opts[i+1]))
		sep = "&"
	}
	return b.String()
}

var (
	signInSchema = schema{entity: "microsoft.graph.signIn", timeFields: []string{"createdDateTime"}, eventTypes: true}
	auditSchema  = schema{entity: "microsoft.graph.directoryAudit", timeFields: []string{"activityDateTime"}}
	deviceSchema = schema{entity: "microsoft.graph.device", timeFields: []string{"approximateLastSignInDateTime", "registrationDateTime"}}
	roleSchema   = schema{entity: "microsoft.graph.unifiedRoleAssignment", stringFields: []string{"roleDefinitionId", "principalId"}}
)

// readFilter parses the request's $filter, or the one the page token
// carries.
func (t *Tenant) readFilter(q *req, tok *pageToken, sc schema) (string, *filter, bool) {
	s, _ := param(q, "filter")
	if tok != nil {
		s = tok.Filter
	}
	if strings.TrimSpace(s) == "" {
		return "", &filter{}, true
	}
	f, err := parseFilter(s, sc)
	if err != nil {
		t.graphError(q, http.StatusBadRequest, "BadRequest", "Invalid filter clause: "+err.Error())
		return "", nil, false
	}
	return s, f, true
}

func (t *Tenant) listSignIns(q *req, version string) {
	t.listLog(q, version, "signIns", "auditLogs/signIns", "createdDateTime", signInSchema, func(t *Tenant) *logStore { return &t.signIns }, func(f *filter, e *entry) bool {
		types := f.types
		if types == nil {
			// Without a signInEventTypes clause, Graph lists interactive
			// sign-ins only.
			return e.eventType == "interactiveUser" && f.matchTime("createdDateTime", e.at)
		}
		return types[e.eventType] && f.matchTime("createdDateTime", e.at)
	})
}

func (t *Tenant) listAudits(q *req, version string) {
	t.listLog(q, version, "directoryAudits", "auditLogs/directoryAudits", "activityDateTime", auditSchema, func(t *Tenant) *logStore { return &t.audits }, func(f *filter, e *entry) bool {
		return f.matchTime("activityDateTime", e.at)
	})
}

// listLog answers a log list: newest first, filtered, paged with a
// $skiptoken that keeps the first page's snapshot, so that records turning
// visible meanwhile do not shift the pages.
func (t *Tenant) listLog(q *req, version, list, path, timeField string, sc schema, store func(*Tenant) *logStore, match func(*filter, *entry) bool) {
	tok, ok := t.readToken(q, "skiptoken", list)
	if !ok {
		return
	}
	fs, f, ok := t.readFilter(q, tok, sc)
	if !ok {
		return
	}
	size, top, ok := t.pageSize(q)
	if !ok {
		return
	}
	asOf := q.now
	var after *key
	if tok != nil {
		asOf = time.Unix(0, tok.AsOf).UTC()
		after = &key{tok.At, tok.Seq}
		if tok.Top > 0 {
			top, size = tok.Top, min(tok.Top, t.opts.PageSize)
		}
	}
	t.mu.Lock()
	items, next := store(t).list(asOf, f.lowerBound(timeField), func(e *entry) bool { return match(f, e) }, after, size)
	t.mu.Unlock()
	nextLink := ""
	if next != nil {
		nt := pageToken{List: list, Filter: fs, Top: top, AsOf: asOf.UnixNano(), At: next.at, Seq: next.seq}
		topOpt := ""
		if top > 0 {
			topOpt = strconv.Itoa(top)
		}
		nextLink = link(q, "/"+version+"/"+path, "$top", topOpt, "$skiptoken", nt.encode())
	}
	writePage(q, q.base+"/"+version+"/$metadata#"+path, nextLink, "@odata.nextLink", items)
}

// deviceFields are the properties of a device, for $select.
var deviceFields = func() map[string]string {
	var p fastjson.Parser
	v, _ := p.ParseBytes((&device{}).render())
	o, _ := v.Object()
	m := map[string]string{}
	o.Visit(func(k []byte, _ *fastjson.Value) { m[strings.ToLower(string(k))] = string(k) })
	return m
}()

// readSelect parses $select loosely: known device properties are kept,
// unknown names ignored; id is always returned. Empty means everything.
func readSelect(s string) map[string]bool {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	sel := map[string]bool{"id": true}
	for _, f := range strings.Split(s, ",") {
		if name, ok := deviceFields[strings.ToLower(strings.TrimSpace(f))]; ok {
			sel[name] = true
		}
	}
	return sel
}

// selectKeys keeps the selected top-level keys of a rendered object, in
// their order.
func selectKeys(raw []byte, sel map[string]bool) []byte {
	if sel == nil {
		return raw
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(raw)
	if err != nil {
		return raw
	}
	o, _ := v.Object()
	out := []byte{'{'}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if !sel[string(k)] {
			return
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, mustJSON(string(k))...)
		out = append(out, ':')
		out = v.MarshalTo(out)
	})
	return append(out, '}')
}

// matchOptTime is matchTime for a nullable time: a null (zero) time
// satisfies no comparison.
func matchOptTime(f *filter, field string, v time.Time) bool {
	if v.IsZero() {
		for _, c := range f.conds {
			if c.field == field {
				return false
			}
		}
		return true
	}
	return f.matchTime(field, v)
}

// listDevices answers GET /devices, by object id, with $select, $top,
// a $filter on the time properties and paging.
func (t *Tenant) listDevices(q *req, version string) {
	tok, ok := t.readToken(q, "skiptoken", "devices")
	if !ok {
		return
	}
	fs, f, ok := t.readFilter(q, tok, deviceSchema)
	if !ok {
		return
	}
	size, top, ok := t.pageSize(q)
	if !ok {
		return
	}
	sels, _ := param(q, "select")
	after := ""
	if tok != nil {
		sels, after = tok.Select, tok.ID
		if tok.Top > 0 {
			top, size = tok.Top, min(tok.Top, t.opts.PageSize)
		}
	}
	sel := readSelect(sels)
	var items [][]byte
	next, last := "", ""
	t.mu.Lock()
	for _, d := range t.devices.devices {
		if d.deleted || d.id <= after || !matchOptTime(f, "registrationDateTime", d.registered) ||
			!matchOptTime(f, "approximateLastSignInDateTime", d.lastSignIn) {
			continue
		}
		if len(items) == size {
			next = last
			break
		}
		items = append(items, selectKeys(d.render(), sel))
		last = d.id
	}
	t.mu.Unlock()
	nextLink := ""
	if next != "" {
		nt := pageToken{List: "devices", Filter: fs, Top: top, Select: sels, ID: next}
		nextLink = link(q, "/"+version+"/devices", "$top", itoa(top), "$skiptoken", nt.encode())
	}
	writePage(q, q.base+"/"+version+"/$metadata#devices", nextLink, "@odata.nextLink", items)
}

func itoa(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// deltaDevices answers GET /devices/delta. A round without a token lists
// every device; its pages link on with $skiptoken and the last page ends
// with an @odata.deltaLink whose $deltatoken returns, next time, the
// devices changed since (whole objects) and those removed, as
// {"id":…,"@removed":{"reason":"changed"}}.
func (t *Tenant) deltaDevices(q *req, version string) {
	skip, ok := t.readToken(q, "skiptoken", "devices/delta")
	if !ok {
		return
	}
	delta, ok := t.readToken(q, "deltatoken", "devices/delta")
	if !ok {
		return
	}
	size, _, ok := t.pageSize(q)
	if !ok {
		return
	}
	sels, _ := param(q, "select")
	t.mu.Lock()
	items, st, next, gone := t.deltaPage(skip, delta, sels, size)
	t.mu.Unlock()
	if gone {
		t.graphError(q, http.StatusGone, "SyncStateNotFound", "The $deltatoken is too old (removed devices were forgotten since) or was not issued here: start a new round without a token.")
		return
	}
	path := "/" + version + "/devices/delta"
	if next != "" {
		nt := st
		nt.ID = next
		writePage(q, q.base+"/"+version+"/$metadata#devices", link(q, path, "$skiptoken", nt.encode()), "@odata.nextLink", items)
		return
	}
	dt := pageToken{List: "devices/delta", Select: st.Select, Since: st.Upto}
	writePage(q, q.base+"/"+version+"/$metadata#devices", link(q, path, "$deltatoken", dt.encode()), "@odata.deltaLink", items)
}

// deltaPage computes a page of a delta round: the round's state, the
// items, the cursor of the next page ("" when this is the last) and
// whether the delta token is no longer usable. t.mu is held.
func (t *Tenant) deltaPage(skip, delta *pageToken, sels string, size int) ([][]byte, pageToken, string, bool) {
	inv := t.devices
	st := pageToken{List: "devices/delta", Select: sels, Upto: inv.version}
	switch {
	case skip != nil:
		st = *skip
	case delta != nil:
		if delta.Since < inv.floor || delta.Since > inv.version {
			return nil, st, "", true
		}
		st = pageToken{List: "devices/delta", Select: delta.Select, Since: delta.Since, Upto: inv.version}
	}
	sel := readSelect(st.Select)
	var items [][]byte
	last := ""
	for _, d := range inv.devices {
		if d.id <= st.ID || d.version <= st.Since || d.version > st.Upto || d.deleted && st.Since == 0 {
			continue
		}
		if len(items) == size {
			return items, st, last, false
		}
		if d.deleted {
			items = append(items, mustJSON(map[string]any{"id": d.id, "@removed": map[string]string{"reason": "changed"}}))
		} else {
			items = append(items, selectKeys(d.render(), sel))
		}
		last = d.id
	}
	return items, st, "", false
}

func (t *Tenant) registrationPolicy(q *req, version string) {
	t.mu.Lock()
	req := t.mfaReq
	t.mu.Unlock()
	writeJSON(q.w, http.StatusOK, graphContentType, registrationPolicyJSON(q.base+"/"+version+"/$metadata#policies/deviceRegistrationPolicy/$entity", req))
}

func (t *Tenant) listCAPolicies(q *req, version string) {
	writePage(q, q.base+"/"+version+"/$metadata#identity/conditionalAccess/policies", "", "", t.org.caPolicies)
}

// readExpand reads $expand: only "principal" is supported.
func (t *Tenant) readExpand(q *req) (bool, bool) {
	s, ok := param(q, "expand")
	if !ok || strings.TrimSpace(s) == "" {
		return false, true
	}
	if !strings.EqualFold(strings.TrimSpace(s), "principal") {
		t.graphError(q, http.StatusBadRequest, "BadRequest", fmt.Sprintf("$expand=%s is not supported; graphsim expands only principal.", trunc(s)))
		return false, false
	}
	return true, true
}

// idPage pages objects by id: up to size of those after the cursor,
// and the next cursor ("" when none).
func idPage(ids []string, after string, size int, render func(i int) []byte) ([][]byte, string) {
	var out [][]byte
	last := ""
	for i, id := range ids {
		if id <= after {
			continue
		}
		if len(out) == size {
			return out, last
		}
		out = append(out, render(i))
		last = id
	}
	return out, ""
}

// listRoles answers a role list paged by id, with $filter on
// roleDefinitionId and principalId and $expand=principal.
func (t *Tenant) listRoles(q *req, version, list, path string, snapshot func() ([]string, []any, []string, []string)) {
	tok, ok := t.readToken(q, "skiptoken", list)
	if !ok {
		return
	}
	fs, f, ok := t.readFilter(q, tok, roleSchema)
	if !ok {
		return
	}
	size, top, ok := t.pageSize(q)
	if !ok {
		return
	}
	expand, ok := t.readExpand(q)
	if !ok {
		return
	}
	after := ""
	if tok != nil {
		after, expand = tok.ID, tok.Expand != ""
		if tok.Top > 0 {
			top, size = tok.Top, min(tok.Top, t.opts.PageSize)
		}
	}
	ids, objs, principals, roles := snapshot()
	var keep []int
	for i := range ids {
		if f.matchString("roleDefinitionId", roles[i]) && f.matchString("principalId", principals[i]) {
			keep = append(keep, i)
		}
	}
	kept := make([]string, len(keep))
	for j, i := range keep {
		kept[j] = ids[i]
	}
	items, next := idPage(kept, after, size, func(j int) []byte {
		i := keep[j]
		switch o := objs[i].(type) {
		case roleAssignmentJSON:
			if expand {
				o.Principal = t.org.principal(o.PrincipalID)
			}
			return mustJSON(o)
		case eligibilityJSON:
			if expand {
				o.Principal = t.org.principal(o.PrincipalID)
			}
			return mustJSON(o)
		}
		return nil
	})
	nextLink := ""
	if next != "" {
		nt := pageToken{List: list, Filter: fs, Top: top, ID: next}
		if expand {
			nt.Expand = "principal"
		}
		nextLink = link(q, "/"+version+"/"+path, "$top", itoa(top), "$skiptoken", nt.encode())
	}
	writePage(q, q.base+"/"+version+"/$metadata#"+path, nextLink, "@odata.nextLink", items)
}

func (t *Tenant) listRoleAssignments(q *req, version string) {
	t.listRoles(q, version, "roleAssignments", "roleManagement/directory/roleAssignments", func() ([]string, []any, []string, []string) {
		t.mu.Lock()
		defer t.mu.Unlock()
		var ids, principals, roles []string
		var objs []any
		for _, a := range t.roles.list {
			ids, principals, roles = append(ids, a.id), append(principals, a.principalID), append(roles, a.roleID)
			objs = append(objs, roleAssignmentJSON{ID: a.id, PrincipalID: a.principalID, RoleDefinitionID: a.roleID, DirectoryScopeID: "/"})
		}
		return ids, objs, principals, roles
	})
}

func (t *Tenant) listEligibility(q *req, version string) {
	t.listRoles(q, version, "roleEligibilitySchedules", "roleManagement/directory/roleEligibilitySchedules", func() ([]string, []any, []string, []string) {
		el := append([]eligibility(nil), t.org.eligible...)
		sort.Slice(el, func(i, j int) bool { return el[i].id < el[j].id })
		var ids, principals, roles []string
		var objs []any
		for _, e := range el {
			ids, principals, roles = append(ids, e.id), append(principals, e.principalID), append(roles, e.roleID)
			objs = append(objs, eligibilityJSON{ID: e.id, PrincipalID: e.principalID, RoleDefinitionID: e.roleID, DirectoryScopeID: "/",
				CreatedUsing: e.id, CreatedDateTime: recordTime(e.created), Status: "Provisioned", MemberType: "Direct",
				ScheduleInfo: map[string]any{"startDateTime": recordTime(e.created), "recurrence": nil,
					"expiration": map[string]any{"type": "noExpiration", "endDateTime": nil, "duration": nil}}})
		}
		return ids, objs, principals, roles
	})
}
