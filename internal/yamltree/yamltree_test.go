package yamltree

import "testing"

func TestParse(t *testing.T) {
	docs, err := Parse([]byte(`title: x
detection:
  sel:
    Field|contains:
      - 'a'
      - 1
    Other: null
  kw: &k
    - foo
  again: *k
  condition: sel and not kw
---
title: second
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[1].Get("title").Str != "second" {
		t.Fatalf("docs: %+v", docs)
	}
	det := docs[0].Get("detection")
	sel := det.Get("sel")
	if sel.Keys[0].Str != "Field|contains" || sel.Keys[0].Line != 4 || sel.Values[0].Items[1].Type != Int {
		t.Fatalf("sel: %+v", sel.Keys[0])
	}
	if sel.Get("Other").Kind != Null || len(det.Get("again").Items) != 1 || det.Get("condition").Str != "sel and not kw" {
		t.Fatalf("detection: %+v", det)
	}
	if _, err := Parse([]byte("a: [1,\n")); err == nil {
		t.Fatal("no error for broken YAML")
	}
}
