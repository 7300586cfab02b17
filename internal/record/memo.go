package record

import (
	"unsafe"

	"github.com/valyala/fastjson"
)

// The per-record memory of compiled rules: the fields resolved so far (a
// small open-addressing table keyed by the *Field, so that a lookup costs
// the same however many fields the rule set uses), the texts written out
// for the record (number literals and compact JSON, in one buffer reused
// from record to record, so that comparing them allocates nothing), and
// the literal hits that a rule set's shared matcher found for a field
// (rule.Compiler: one hash lookup per field and record for every Equals
// value of every rule). Release forgets all of it in O(1): entries carry
// the generation they were written in.

type cached struct {
	f   *Field
	v   *fastjson.Value
	gen uint32
	// hitsVer is the version of the literal set whose hits are
	// hits[hitOff:hitOff+hitLen]; 0 when none are recorded.
	hitsVer        uint32
	hitOff, hitLen uint32
}

// keyBloom summarises the keys of an object that a case-insensitive
// lookup scanned (foldScan), so that the next ones in the same object can
// skip the scan when no key can match.
type keyBloom struct {
	o    *fastjson.Object
	bits [8]uint64 // two bits per key: 60 keys fill a fifth
}

type compactText struct {
	v *fastjson.Value
	b []byte
}

func (r *Record) releaseMemo() {
	r.gen++
	if r.gen == 0 {
		// Wrapped around: entries of generation 0 would look current.
		clear(r.cache)
	}
	r.ncache = 0
	r.scratch = r.scratch[:0]
	clear(r.compact)
	r.compact = r.compact[:0]
	clear(r.blooms)
	r.blooms = r.blooms[:0]
	r.hits = r.hits[:0]
}

// slot returns the index of f's entry, or of the empty entry where it
// belongs (-1 when the table is empty), and whether f is there.
func (r *Record) slot(f *Field) (int, bool) {
	if len(r.cache) == 0 {
		return -1, false
	}
	mask := uint64(len(r.cache) - 1)
	// Fibonacci hashing of the pointer; heap objects do not move.
	i := (uint64(uintptr(unsafe.Pointer(f))) * 0x9E3779B97F4A7C15 >> 32) & mask
	for {
		e := &r.cache[i]
		if e.f == nil || e.gen != r.gen {
			return int(i), false
		}
		if e.f == f {
			return int(i), true
		}
		i = (i + 1) & mask
	}
}

// remember records v as f's value and returns the entry's index.
func (r *Record) remember(f *Field, v *fastjson.Value) int {
	if (r.ncache+1)*2 > len(r.cache) {
		old := r.cache
		n := max(16, 2*len(old))
		r.cache = make([]cached, n)
		for _, e := range old {
			if e.f != nil && e.gen == r.gen {
				i, _ := r.slot(e.f)
				r.cache[i] = e
			}
		}
	}
	i, _ := r.slot(f)
	r.cache[i] = cached{f: f, v: v, gen: r.gen}
	r.ncache++
	return i
}

// entry returns the index of f's entry, resolving f first if needed.
func (r *Record) entry(f *Field) int {
	if i, ok := r.slot(f); ok {
		return i
	}
	return r.remember(f, r.resolve(f))
}

// FieldHits returns f's value (as Get does) and the literal hits stored
// for it on this record by SetFieldHits with the same version; ok is false
// when there are none for that version.
func (r *Record) FieldHits(f *Field, ver uint32) (v *fastjson.Value, hits []uint32, ok bool) {
	if r.Root == nil {
		return nil, nil, false
	}
	e := &r.cache[r.entry(f)]
	if ver != 0 && e.hitsVer == ver {
		return e.v, r.hits[e.hitOff : e.hitOff+e.hitLen : e.hitOff+e.hitLen], true
	}
	return e.v, nil, false
}

// SetFieldHits stores the literal hits of f's value for a literal set at
// version ver (not 0) until Release, and returns the stored copy.
func (r *Record) SetFieldHits(f *Field, ver uint32, hits []uint32) []uint32 {
	i, ok := r.slot(f)
	if !ok {
		i = r.remember(f, r.resolve(f))
	}
	e := &r.cache[i]
	off := len(r.hits)
	e.hitsVer, e.hitOff, e.hitLen = ver, uint32(off), uint32(len(hits))
	r.hits = append(r.hits, hits...)
	return r.hits[off:len(r.hits):len(r.hits)]
}

// ScalarText returns the text rules compare for a scalar: a string's
// content with one level of JSON quoting removed, a number's literal,
// "true" or "false"; ok is false for null, arrays and objects. Number
// literals are written into the record's scratch buffer: the text is valid
// until Release and must not be modified.
func (r *Record) ScalarText(v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return Unquote(b), true
	case fastjson.TypeNumber:
		start := len(r.scratch)
		r.scratch = v.MarshalTo(r.scratch)
		return r.scratch[start:len(r.scratch):len(r.scratch)], true
	case fastjson.TypeTrue:
		return trueText, true
	case fastjson.TypeFalse:
		return falseText, true
	}
	return nil, false
}

var trueText, falseText = []byte("true"), []byte("false")

// CompactJSON returns v's compact JSON, written once per record and value
// into the record's scratch buffer: valid until Release, not to be
// modified.
func (r *Record) CompactJSON(v *fastjson.Value) []byte {
	for i := range r.compact {
		if r.compact[i].v == v {
			return r.compact[i].b
		}
	}
	start := len(r.scratch)
	r.scratch = v.MarshalTo(r.scratch)
	b := r.scratch[start:len(r.scratch):len(r.scratch)]
	r.compact = append(r.compact, compactText{v, b})
	return b
}

// foldScan returns the value of the first key of o equal to key ignoring
// ASCII case and spaces around the key (GetFold without the exact
// lookup). The first scan of an object also fills a small Bloom filter of
// its keys, by length and first and last letter; later lookups of keys
// that cannot be there skip the scan. In a sign-in's properties (about 60
// keys) rules look up several keys that are not there (properties.message,
// ActivityDetails): only the first of them costs a scan.
func (r *Record) foldScan(o *fastjson.Object, key string) *fastjson.Value {
	if r.bloomOf(o) != nil {
		return getFoldScan(o, key)
	}
	v, _ := r.scanSeg(o, "", "", key)
	return v
}

// bloomOf returns the filter of o's keys, if o was scanned.
func (r *Record) bloomOf(o *fastjson.Object) *keyBloom {
	for i := range r.blooms {
		if b := &r.blooms[i]; b.o == o {
			return b
		}
	}
	return nil
}

// ruledOut reports whether o, scanned before, has no key equal to key
// ignoring case and surrounding spaces, by its filter.
func (r *Record) ruledOut(o *fastjson.Object, key string) bool {
	if len(key) == 0 || isSpace(key[0]) || isSpace(key[len(key)-1]) {
		return false
	}
	b := r.bloomOf(o)
	return b != nil && !b.has(keySignature(key))
}

// scanSeg visits every key of o once and returns the value of the first
// key equal to first, else to second (when not ""), else to key ignoring
// ASCII case and surrounding spaces: what Object.Get(first), then
// Object.Get(second), then foldScan(key) return, in one pass. hit reports
// an exact match of first or second. The first scan of an object also
// fills its filter.
func (r *Record) scanSeg(o *fastjson.Object, first, second, key string) (found *fastjson.Value, hit bool) {
	var exact, alt, fold *fastjson.Value
	bloom := r.bloomOf(o) == nil
	var b keyBloom
	o.Visit(func(k []byte, v *fastjson.Value) {
		n := len(k)
		if n == 0 || k[0] <= ' ' || k[n-1] <= ' ' {
			// Empty, or with spaces around it, which keyEqualFold also
			// matches without (and the filter records both ways).
			if fold == nil && keyEqualFold(k, key) {
				fold = v
			}
			b.add(keySignature(k))
			b.add(keySignature(trimSpaceBytes(k)))
		} else {
			b.add(signature(n, k[0], k[n-1]))
			if n != len(key) {
				return
			}
			if fold == nil && keyEqualFold(k, key) {
				fold = v
			}
		}
		if exact == nil && first != "" && string(k) == first {
			exact = v
		}
		if alt == nil && second != "" && string(k) == second {
			alt = v
		}
	})
	if bloom {
		b.o = o
		r.blooms = append(r.blooms, b)
	}
	switch {
	case exact != nil:
		return exact, true
	case alt != nil:
		return alt, true
	}
	return fold, false
}

// add sets the two bits of a signature: bits 0-8 and 9-17 of h each pick
// one of the filter's 512 bits.
func (b *keyBloom) add(h uint32) {
	b.bits[h>>6&7] |= 1 << (h & 63)
	b.bits[h>>15&7] |= 1 << (h >> 9 & 63)
}

func (b *keyBloom) has(h uint32) bool {
	return b.bits[h>>6&7]&(1<<(h&63)) != 0 && b.bits[h>>15&7]&(1<<(h>>9&63)) != 0
}

// keySignature hashes what a case-insensitive match keeps of a key: its
// length and its first and last letters, ignoring ASCII case.
func keySignature[T string | []byte](k T) uint32 {
	if len(k) == 0 {
		return 0
	}
	return signature(len(k), k[0], k[len(k)-1])
}

func signature(n int, first, last byte) uint32 {
	// c|0x20 is the same for both cases of a letter (and merges a few
	// other characters: a false positive at worst).
	h := (uint32(n)<<16 | uint32(first|0x20)<<8 | uint32(last|0x20)) * 0x9E3779B1
	return h ^ h>>16
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func lowerASCIIByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
