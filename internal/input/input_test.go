package input

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestOpenEncodings(t *testing.T) {
	const text = `{"displayName":"Ünïcode 😀 device"}` + "\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(utf16le(text, true))
	zw.Close()
	be := []byte{0xfe, 0xff}
	for _, u := range utf16.Encode([]rune(text)) {
		be = append(be, byte(u>>8), byte(u))
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"utf8.json":     []byte(text),
		"bom.json":      append([]byte("\xef\xbb\xbf"), text...),
		"utf16le.json":  utf16le(text, true),
		"utf16be.json":  be,
		"utf16.json.gz": gz.Bytes(),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		o, err := Open(Input{Name: p})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := io.ReadAll(o)
		o.Close()
		if string(got) != text || string(o.Head) != text && len(o.Head) > 0 && !bytes.HasPrefix([]byte(text), o.Head) {
			t.Errorf("%s: read %q (head %q)", name, got, o.Head)
		}
	}
}

func TestUTF16Broken(t *testing.T) {
	// A lone high surrogate and an odd trailing byte become U+FFFD.
	data := []byte{0xff, 0xfe, 'a', 0, 0x00, 0xd8, 'b', 0, 'c'}
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, data, 0o644)
	o, err := Open(Input{Name: p})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(o)
	if string(got) != "a\uFFFDb\uFFFD" {
		t.Fatalf("got %q", got)
	}
}
