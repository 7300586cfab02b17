package graphsim

import (
	"encoding/base64"
	"encoding/hex"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"
)

// entry is one sign-in or directory audit, kept as the JSON it is served
// as. Records never change once generated.
type entry struct {
	at, visible time.Time
	seq         uint64 // tie-breaker among equal times: a hash of id
	id          string
	eventType   string // sign-ins: interactiveUser or nonInteractiveUser
	raw         []byte
}

// key orders entries by time, then seq.
type key struct {
	at  int64 // UnixNano
	seq uint64
}

func (e *entry) key() key { return key{e.at.UnixNano(), e.seq} }

func (a key) less(b key) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

func idSeq(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// logStore holds one log's entries in time order, at most max of them.
type logStore struct {
	entries []entry
	max     int
}

func (s *logStore) add(e entry) {
	e.seq = idSeq(e.id)
	k := e.key()
	i := sort.Search(len(s.entries), func(i int) bool { return k.less(s.entries[i].key()) })
	s.entries = slices.Insert(s.entries, i, e)
	if n := len(s.entries) - s.max; n > 0 {
		s.entries = slices.Delete(s.entries, 0, n)
	}
}

// prune drops the entries older than before.
func (s *logStore) prune(before time.Time) {
	i := sort.Search(len(s.entries), func(i int) bool { return !s.entries[i].at.Before(before) })
	if i > 0 {
		s.entries = slices.Delete(s.entries, 0, i)
	}
}

// list returns, newest first, up to limit entries visible at asOf that
// match and come after the cursor (nil: from the newest), and the cursor
// of the next page (nil when there is none). Entries older than floor
// cannot match and end the scan.
func (s *logStore) list(asOf, floor time.Time, match func(*entry) bool, after *key, limit int) ([][]byte, *key) {
	start := len(s.entries) - 1
	if after != nil {
		start = sort.Search(len(s.entries), func(i int) bool { return !s.entries[i].key().less(*after) }) - 1
	}
	var out [][]byte
	var last key
	for i := start; i >= 0; i-- {
		e := &s.entries[i]
		if e.at.Before(floor) {
			break
		}
		if e.visible.After(asOf) || !match(e) {
			continue
		}
		if len(out) == limit {
			return out, &last
		}
		out = append(out, e.raw)
		last = e.key()
	}
	return out, nil
}

// inventory is the device inventory with the versions the delta query
// reads: every change bumps the version; removed devices stay as
// tombstones for Retention.
type inventory struct {
	devices []*device // by id, tombstones included
	version uint64
	// floor is the newest version of a pruned tombstone: delta tokens
	// older than it may miss removals.
	floor     uint64
	removedAt map[string]time.Time
}

func newInventory(devs []*device) *inventory {
	inv := &inventory{removedAt: map[string]time.Time{}}
	for _, d := range devs {
		inv.add(d)
	}
	return inv
}

func (inv *inventory) find(id string) (int, bool) {
	return sort.Find(len(inv.devices), func(i int) int { return strings.Compare(id, inv.devices[i].id) })
}

func (inv *inventory) add(d *device) {
	inv.version++
	d.version = inv.version
	i, ok := inv.find(d.id)
	if ok {
		inv.devices[i] = d
		return
	}
	inv.devices = slices.Insert(inv.devices, i, d)
}

func (inv *inventory) update(id string, f func(*device)) {
	if i, ok := inv.find(id); ok && !inv.devices[i].deleted {
		f(inv.devices[i])
		inv.version++
		inv.devices[i].version = inv.version
	}
}

func (inv *inventory) remove(id string, at time.Time) {
	inv.update(id, func(d *device) { d.deleted = true })
	inv.removedAt[id] = at
}

// prune forgets the devices removed before before.
func (inv *inventory) prune(before time.Time) {
	for id, at := range inv.removedAt {
		if !at.Before(before) {
			continue
		}
		if i, ok := inv.find(id); ok {
			inv.floor = max(inv.floor, inv.devices[i].version)
			inv.devices = slices.Delete(inv.devices, i, i+1)
		}
		delete(inv.removedAt, id)
	}
}

func (inv *inventory) live() int {
	n := 0
	for _, d := range inv.devices {
		if !d.deleted {
			n++
		}
	}
	return n
}

// roleAssignment is an active directory role assignment.
type roleAssignment struct {
	id, principalID, roleID string
}

// roleState holds the active role assignments, by id.
type roleState struct {
	list []roleAssignment
}

func newRoleState(o *org) *roleState {
	rs := &roleState{}
	for role, users := range o.byRole {
		for _, u := range users {
			rs.add(u.id, role)
		}
	}
	return rs
}

// assignmentID is the id Graph gives a built-in role's assignment: the
// base64url of the role's and the principal's GUID bytes, then "-1".
func assignmentID(principalID, roleID string) string {
	return guidB64(roleID) + guidB64(principalID) + "-1"
}

// guidB64 encodes a GUID's bytes in their Windows (mixed-endian) order.
func guidB64(g string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(g, "-", ""))
	if err != nil || len(b) != 16 {
		return base64.RawURLEncoding.EncodeToString([]byte(g))
	}
	slices.Reverse(b[0:4])
	slices.Reverse(b[4:6])
	slices.Reverse(b[6:8])
	return base64.RawURLEncoding.EncodeToString(b)
}

func (rs *roleState) add(principalID, roleID string) {
	a := roleAssignment{id: assignmentID(principalID, roleID), principalID: principalID, roleID: roleID}
	i, ok := sort.Find(len(rs.list), func(i int) int { return strings.Compare(a.id, rs.list[i].id) })
	if !ok {
		rs.list = slices.Insert(rs.list, i, a)
	}
}

func (rs *roleState) remove(principalID, roleID string) {
	id := assignmentID(principalID, roleID)
	rs.list = slices.DeleteFunc(rs.list, func(a roleAssignment) bool { return a.id == id })
}
