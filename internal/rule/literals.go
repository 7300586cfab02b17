package rule

import (
	"strings"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// literalSet holds every case-insensitive Equals value that the rules
// compiled by one Compiler test a field for. A record looks its value up
// once, with one hash lookup of its lower-cased text (per text, for an
// array), and keeps the ids it found with the field (Record.FieldHits);
// each Equals match of each rule then only checks whether one of its own
// ids is among them. Fifty rules testing ResultType cost one lookup.
type literalSet struct {
	index  map[string]uint32 // lower-cased value -> id
	lower  []string          // id -> lower-cased value
	maxLen int               // longest lower-cased value, in bytes
	lens   uint64            // bit n set when a value is n bytes long (n < 63), bit 63 for longer ones
	// users counts the matches that use the set: with one, the record
	// compares the match's own values and keeps nothing.
	users int
}

// literalSet returns the set of f's Equals values.
func (c *Compiler) literalSet(f *record.Field) *literalSet {
	s := c.literals[f]
	if s == nil {
		s = &literalSet{index: map[string]uint32{}}
		c.literals[f] = s
	}
	return s
}

// add adds a value and returns its id.
func (s *literalSet) add(value string) uint32 {
	l := strings.ToLower(value)
	if id, ok := s.index[l]; ok {
		return id
	}
	id := uint32(len(s.lower))
	s.lower = append(s.lower, l)
	s.index[l] = id
	s.maxLen = max(s.maxLen, len(l))
	s.lens |= lenBit(len(l))
	return id
}

func lenBit(n int) uint64 { return 1 << min(n, 63) }

// hits returns f's value on r and the ids of the set's values that one of
// its texts (eachText) equals, ignoring case, computed once per record.
func (s *literalSet) hits(r *record.Record, f *record.Field) (*fastjson.Value, []uint32) {
	// The set may have grown since the record last looked (rules compiled
	// between two evaluations): its size is the version.
	ver := uint32(len(s.lower))
	v, hits, ok := r.FieldHits(f, ver)
	if ok || v == nil {
		return v, hits
	}
	var buf [8]uint32
	found := buf[:0]
	eachText(r, v, func(b []byte) bool {
		found = s.lookup(b, found)
		return false
	})
	return v, r.SetFieldHits(f, ver, found)
}

// lookup appends the ids of the values b equals, ignoring case, with the
// semantics of the Equals predicate (equalFoldLower).
func (s *literalSet) lookup(b []byte, dst []uint32) []uint32 {
	if !isASCII(b) {
		for id, l := range s.lower {
			if equalFoldLower(b, l) {
				dst = append(dst, uint32(id))
			}
		}
		return dst
	}
	// ASCII text equals a value only byte for byte once lower-cased, so
	// only as long as it.
	if len(b) > s.maxLen || s.lens&lenBit(len(b)) == 0 {
		return dst
	}
	var buf [128]byte
	var lb []byte
	if len(b) <= len(buf) {
		lb = buf[:len(b)]
	} else {
		lb = make([]byte, len(b))
	}
	for i, c := range b {
		lb[i] = lowerASCII(c)
	}
	if id, ok := s.index[string(lb)]; ok {
		dst = append(dst, id)
	}
	return dst
}
