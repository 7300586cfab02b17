package jsonstream

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type got struct {
	recs []string
	errs []string
}

func split(in string, max int) got {
	s := New(strings.NewReader(in), max)
	var g got
	for {
		it, ok := s.Next()
		if !ok {
			return g
		}
		if it.Err != nil {
			g.errs = append(g.errs, it.Err.Error())
			continue
		}
		g.recs = append(g.recs, fmt.Sprintf("%d:%d:%v:%s", it.Line, it.Index, it.OwnLine, it.Data))
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		recs []string
		errs []string
	}{
		{"json lines", "{\"a\":1}\n{\"b\":[1,2]}\r\n\n{\"c\":\"x\\\"y\"}", []string{`1:1:true:{"a":1}`, `2:2:true:{"b":[1,2]}`, `4:3:true:{"c":"x\"y"}`}, nil},
		{"array", "[\n {\"a\":1},\n {\"b\":2}\n]\n", []string{`2:1:false:{"a":1}`, `3:2:false:{"b":2}`}, nil},
		{"graph list", `{"@odata.context":"x","value":[{"a":1},{"b":{"c":[]}}],"@odata.nextLink":"n"}`, []string{`1:1:false:{"a":1}`, `1:2:false:{"b":{"c":[]}}`}, nil},
		{"records envelope lines", "{\"records\":[{\"a\":1}]}\n{\"records\":[{\"b\":2},{\"c\":3}]}\n", []string{`1:1:false:{"a":1}`, `2:2:false:{"b":2}`, `2:3:false:{"c":3}`}, nil},
		{"pretty object", "{\n  \"id\": \"x\",\n  \"n\": {\"v\": [1, 2]}\n}\n", []string{"1:1:false:{\"id\":\"x\",\"n\":{\"v\":[1,2]}}"}, nil},
		{"value not array", `{"key":"k","value":"v"}`, []string{`1:1:true:{"key":"k","value":"v"}`}, nil},
		{"broken line does not swallow the next", "{\"a\":1\n{\"b\":2}\n", []string{`2:2:true:{"b":2}`}, []string{"line 1: expected ',' or '}' after an object member, found '{' on line 2"}},
		{"unterminated string", "{\"a\":\"x\n{\"b\":2}\n", []string{`2:2:true:{"b":2}`}, []string{"line 1: line break inside a string on line 1"}},
		{"trailing comma in element", "{\"value\":[\n{\"a\":[1,\n2,\n]},\n{\"b\":1}\n]}", []string{`5:2:false:{"b":1}`}, []string{"line 2: trailing comma before ']' on line 4"}},
		{"garbage", "\x00\x01binary\n{\"a\":1}\n", []string{`2:1:true:{"a":1}`}, []string{"line 1: not JSON: unexpected byte 0x00"}},
		{"empty", "  \n", nil, nil},
		{"line mode hands lines on", "{\"a\":1}\n{\"b\":\n\r\n  {\"c\":3}  \r\n", []string{`1:1:true:{"a":1}`, `2:2:true:{"b":`, `4:3:true:{"c":3}`}, nil},
		{"truncated", "{\"a\":[1,", nil, []string{"line 1: unexpected end of input inside a value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := split(tt.in, 0)
			if fmt.Sprint(g.recs) != fmt.Sprint(tt.recs) {
				t.Errorf("records:\n got %q\nwant %q", g.recs, tt.recs)
			}
			if fmt.Sprint(g.errs) != fmt.Sprint(tt.errs) {
				t.Errorf("errors:\n got %q\nwant %q", g.errs, tt.errs)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", 5000) + `"}`
	s := New(strings.NewReader(big+"\n{\"b\":1}\n"), 1000)
	it, _ := s.Next()
	if !errors.Is(it.Err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", it.Err)
	}
	it, ok := s.Next()
	if !ok || string(it.Data) != `{"b":1}` || it.Line != 2 {
		t.Fatalf("next record after an oversized one: %+v", it)
	}
}

func TestDeepNesting(t *testing.T) {
	in := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	g := split(`{"a":`+in+"}\n{\"b\":1}\n", 0)
	if len(g.errs) != 1 || !strings.Contains(g.errs[0], "nesting deeper than 10000") {
		t.Fatalf("errors: %q", g.errs)
	}
	if len(g.recs) != 1 {
		t.Fatalf("records: %q", g.recs)
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "[{\"a\":1},\n{\"b\":2}]", `{"value":[{"a":"\"q\""}]}`, "{\"records\":[]}\n{}", "{\"a\":[1,]}", "\xef\xbb\xbf{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New(strings.NewReader(string(b)), 1<<16)
		for i := 0; ; i++ {
			it, ok := s.Next()
			if !ok {
				return
			}
			if it.Err == nil && len(it.Data) == 0 {
				t.Fatalf("empty record without error")
			}
			if i > 2*len(b)+4 {
				t.Fatalf("more items than input bytes")
			}
		}
	})
}
