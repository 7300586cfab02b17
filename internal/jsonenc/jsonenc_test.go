package jsonenc

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestValidParsed(t *testing.T) {
	for _, s := range []string{
		`{"a":"x\"y\\\/\b\f\n\r\t\u00e9","b":[1,-0.5,2e10,1E-3,0],"c":true,"d":false,"e":null,"f":{}}`,
		`[]`, `"plain"`, `{"k": [ 1 , 2 ]}`,
		"{\"a\":\"\x1b\"}", `{"a":"\x1b"}`, `{"a":1-2}`, `{"a":nan}`, `{"a":01}`, `{"a":1.}`, `{"a":tru}`,
		`{"a":"\u12"}`, "{\"a\":\"\xff\"}", `{"a":.5}`, `{"a":+1}`, `{"a":1e}`, `{"a":"unterminated}`,
	} {
		// Every input above is structurally sound except the last; on those,
		// ValidParsed must agree with encoding/json.
		if got, want := ValidParsed([]byte(s)), json.Valid([]byte(s)) && utf8.Valid([]byte(s)); got != want {
			t.Errorf("ValidParsed(%q) = %v, json.Valid = %v", s, got, want)
		}
	}
}

func TestAppendString(t *testing.T) {
	got := string(AppendString(nil, "a\"\\\n\x1b<&>\u2028\xff"))
	want := `"a\"\\\n\u001b\u003c\u0026\u003e\u2028\ufffd"`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Fatal("invalid JSON")
	}
}
