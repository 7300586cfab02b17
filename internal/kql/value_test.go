package kql

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// appendJSONStringRef is appendJSONString written rune by rune.
func appendJSONStringRef(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r < 0x20:
			dst = append(dst, fmt.Sprintf(`\u%04x`, r)...)
		default:
			dst = append(dst, string(r)...)
		}
	}
	return append(dst, '"')
}

// TestAppendJSONString checks the JSON strings of the output: escapes,
// multi-byte characters kept, invalid UTF-8 written as U+FFFD.
func TestAppendJSONString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", `""`},
		{"plain text", `"plain text"`},
		{"q\"b\\", `"q\"b\\"`},
		{"a\nb\rc\td\x01\x1f", `"a\nb\rc\td\u0001\u001f"`},
		{"née 日本 🔑", `"née 日本 🔑"`},
		{"bad \xff\xfe end", "\"bad \uFFFD\uFFFD end\""},
		{"cut \xe6\x97", "\"cut \uFFFD\uFFFD\""},
	} {
		if got := string(appendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.in, got, tt.want)
		}
		if got := string(appendJSONBytes(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("%q as bytes: got %s, want %s", tt.in, got, tt.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\"", "\\", "\n", "\x00", "\x7f", "é", "日", "🔑", "\xff", "\xe6\x97", "\xc3", " "}
	for i := 0; i < 2000; i++ {
		var s string
		for n := rng.IntN(12); n > 0; n-- {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		if got, want := string(appendJSONString(nil, s)), string(appendJSONStringRef(nil, s)); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
}
