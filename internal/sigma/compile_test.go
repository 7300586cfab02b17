package sigma

import (
	"slices"
	"testing"

	"github.com/entrawatch/entrawatch/internal/rule"
)

// The three encodings pySigma gives for base64offset (its
// SigmaBase64OffsetModifier), which SigmaHQ rules are written against.
func TestBase64OffsetsAsPySigma(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"http://", []string{"aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"}},
		{"/c", []string{"L2", "9j", "vY"}},
		{"ab", []string{"YW", "Fi", "hY"}},
		{"abc", []string{"YWJj", "FiY", "hYm"}},
		// One byte: the middle encoding is empty and left out.
		{"a", []string{"Y", "h"}},
	} {
		if got := base64Offsets([]byte(c.in)); !slices.Equal(got, c.want) {
			t.Errorf("base64Offsets(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWindashVariants(t *testing.T) {
	texts := func(ps []pattern) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.plain())
		}
		return out
	}
	got := texts(windash(parsePattern("x -a /b c-d -")))
	if len(got) != 25 || !slices.Contains(got, "x /a -b c-d -") || !slices.Contains(got, "x \u2015a \u2013b c-d -") {
		t.Errorf("windash: %d variants %q", len(got), got)
	}
	for _, v := range got {
		if v[len(v)-5:] != "c-d -" {
			t.Errorf("windash changed a dash inside a word or at the end: %q", v)
		}
	}
	// After a wildcard, a dash starts a word.
	if got := windash(parsePattern("*-a")); len(got) != 5 {
		t.Errorf("windash(*-a): %d variants", len(got))
	}
	// Beyond maxWindash dashes: one pattern with a class per dash.
	many := windash(parsePattern("-a -b -c -d -e"))
	if len(many) != 1 {
		t.Fatalf("windash of five dashes: %v", many)
	}
	if re := many[0].variant(rule.Contains, false); re.op != rule.Regex {
		t.Errorf("windash of five dashes compiles to %v", re)
	}
}

func TestPatternVariants(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`abc`, "equals abc"},
		{`abc*`, "startswith abc"},
		{`*abc`, "endswith abc"},
		{`**abc**`, "contains abc"},
		{`*`, "contains "},
		{`a\*b`, "equals a*b"},
		{`a\\*`, `startswith a\`},
		{`a\\\*`, `equals a\*`},
		{`\\\\`, `equals \\`},
		{`C:\Windows\*`, `equals C:\Windows*`},
		{`a?c`, "re (?si)^a.c$"},
		{`*a*c`, "re (?si)a.*c$"},
		{`a.c*`, `startswith a.c`},
	} {
		v := parsePattern(c.in).variant(rule.Equals, false)
		if got := v.op.String() + " " + v.value; got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}
