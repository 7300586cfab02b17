package record

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// refGetSeg is the key lookup the record view has always made: the rule's
// spelling, its alternative, then any key equal ignoring case and spaces.
func refGetSeg(o *fastjson.Object, s segment) *fastjson.Value {
	if v := o.Get(s.key); v != nil {
		return v
	}
	if s.alt != "" {
		if v := o.Get(s.alt); v != nil {
			return v
		}
	}
	return GetFold(o, s.key)
}

// TestGetSegMatchesReference checks that the faster lookups (spelling
// order by shape, the filter of scanned keys, the one-scan path for keys
// that keep missing) find the same value as refGetSeg, on objects whose
// keys collide in every way but one: two keys differing only in their
// first letter's case (the order then decides, see altFirst).
func TestGetSegMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"status", "Status", "STATUS", "message", "Message", "deviceDetail", "devicedetail", " status", "status ", "a", "A", "ab", "userAgent", "useragent", "x\\u0041", "Resultdescription", "resultDescription"}
	lookups := []string{"status", "Status", "STATUS", "message", "MESSAGE", "DeviceDetail", "deviceDetail", "a", "A", "ab", "AB", "userAgent", "UserAgent", "missing", "Missing", "resultdescription", "ResultDescription", "xA"}
	for iter := 0; iter < 3000; iter++ {
		// Keys in random order, no two differing only in the case of
		// their first letter.
		var keys []string
		firstFold := map[string]bool{}
		for _, n := range names {
			if rng.IntN(3) == 0 {
				continue
			}
			f := strings.ToLower(n[:1]) + n[1:]
			if firstFold[f] {
				continue
			}
			firstFold[f] = true
			keys = append(keys, n)
		}
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		var b strings.Builder
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q:%d", k, i)
		}
		b.WriteString("}")
		js := strings.ReplaceAll(b.String(), `\\u0041`, `\u0041`)
		for _, shape := range []Shape{ShapeGraph, ShapeLogAnalytics, ShapeWindows, ShapeDiagnostic} {
			var p fastjson.Parser
			v, err := p.Parse(js)
			if err != nil {
				t.Fatal(err)
			}
			r := &Record{Root: v, Shape: shape}
			o, _ := v.Object()
			// Repeat the lookups so that the filter and the missed
			// flags come into play, in a random order each round.
			for round := 0; round < 3; round++ {
				order := rng.Perm(len(lookups))
				for _, i := range order {
					s := keySeg(lookups[i])
					want := refGetSeg(o, s)
					for _, top := range []bool{true, false} {
						got := r.getSeg(o, s, r.altFirst(s, top))
						if got != want {
							t.Fatalf("%s, shape %d, lookup %q (top %v): got %v, want %v", js, shape, lookups[i], top, got, want)
						}
					}
				}
			}
			r.Release()
		}
	}
}

func TestScalarTextAndCompactJSON(t *testing.T) {
	var p fastjson.Parser
	v, err := p.Parse(`{"n":-12.50e3,"s":"\"quoted\"","t":true,"f":false,"z":null,"a":[1,"x",{"k":"v"}],"o":{"b":[ ]}}`)
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	r.Root = v
	for _, c := range []struct {
		key  string
		want string
		ok   bool
	}{{"n", "-12.50e3", true}, {"s", "quoted", true}, {"t", "true", true}, {"f", "false", true}, {"z", "", false}, {"a", "", false}, {"o", "", false}} {
		b, ok := r.ScalarText(v.Get(c.key))
		if string(b) != c.want || ok != c.ok {
			t.Errorf("ScalarText(%s) = %q, %v; want %q, %v", c.key, b, ok, c.want, c.ok)
		}
	}
	n1, _ := r.ScalarText(v.Get("n"))
	a := r.CompactJSON(v.Get("a"))
	o := r.CompactJSON(v.Get("o"))
	if string(a) != `[1,"x",{"k":"v"}]` || string(o) != `{"b":[]}` {
		t.Errorf("CompactJSON: %s %s", a, o)
	}
	if &r.CompactJSON(v.Get("a"))[0] != &a[0] {
		t.Errorf("CompactJSON wrote the same value twice")
	}
	if string(n1) != "-12.50e3" {
		t.Errorf("a number's text changed as the scratch buffer grew: %q", n1)
	}
	if got := testing.AllocsPerRun(100, func() {
		r.Release()
		r.ScalarText(v.Get("n"))
		r.CompactJSON(v.Get("a"))
	}); got != 0 {
		t.Errorf("%v allocations per record for number and compact texts, want 0", got)
	}
}

func TestFieldCacheAndHits(t *testing.T) {
	r := parse(t, signins["diagnostic"])
	fields := make([]*Field, 200)
	for i := range fields {
		fields[i] = CompileField(fmt.Sprintf("f%d", i))
	}
	ra := CompileField("ResultType")
	for round := 0; round < 3; round++ {
		if v := r.Get(ra); Text(v) != "0" {
			t.Fatalf("ResultType %v", v)
		}
		for _, f := range fields {
			if r.Get(f) != nil {
				t.Fatalf("%s resolved", f.Name)
			}
		}
		v, hits, ok := r.FieldHits(ra, 3)
		if Text(v) != "0" || ok || hits != nil {
			t.Fatalf("FieldHits before SetFieldHits: %v %v %v", v, hits, ok)
		}
		stored := r.SetFieldHits(ra, 3, []uint32{7, 9})
		if _, hits, ok := r.FieldHits(ra, 3); !ok || fmt.Sprint(hits) != "[7 9]" || fmt.Sprint(stored) != "[7 9]" {
			t.Fatalf("FieldHits after SetFieldHits: %v %v", hits, ok)
		}
		if _, _, ok := r.FieldHits(ra, 4); ok {
			t.Fatalf("hits of another version")
		}
		// Release forgets everything.
		r.Release()
		if _, _, ok := r.FieldHits(ra, 3); ok {
			t.Fatalf("hits survived Release")
		}
	}
}
