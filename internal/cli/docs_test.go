package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/entrawatch/entrawatch/internal/record"
)

var update = flag.Bool("update", false, "rewrite generated documentation")

// TestDocs checks that the generated parts of the documentation match the
// code they describe; run with -update to regenerate them.
func TestDocs(t *testing.T) {
	root := filepath.Join("..", "..")
	var rules bytes.Buffer
	WriteCatalogueMarkdown(&rules, detect.Catalogue())
	checkFile(t, filepath.Join(root, "docs", "rules.md"), rules.String())

	formats := filepath.Join(root, "docs", "formats.md")
	b, err := os.ReadFile(formats)
	if err != nil {
		t.Fatal(err)
	}
	want := replaceSection(string(b), "crosswalk", record.CrosswalkMarkdown())
	want = replaceSection(want, "portal-signin", format.PortalSignInMarkdown())
	checkFile(t, formats, want)
}

func replaceSection(doc, name, body string) string {
	re := regexp.MustCompile(`(?s)(<!-- BEGIN ` + name + `[^>]*-->\n).*?(<!-- END ` + name + ` -->)`)
	return re.ReplaceAllString(doc, "${1}"+strings.ReplaceAll(body, "$", "$$")+"${2}")
}

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	got, _ := os.ReadFile(path)
	if string(got) == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date; run: go test ./internal/cli -run TestDocs -update", path)
}
