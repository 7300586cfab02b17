package kql

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/scan"
)

// BenchmarkQuery runs queries over 20,000 generated sign-ins (genSignins,
// 80 MB) as "entrawatch query --output json" does (ExecWrite), end to end
// from the file, beside a scan of the same file with the built-in
// detection equivalent to the where chain alone: the ratio of their MB/s
// is what bench/kql.sh measures with the binary over a million records.
func BenchmarkQuery(b *testing.B) {
	path := genSignins(b, b.TempDir(), 20000, 1)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	cfg := LoadConfig{Paths: []string{path}}
	for _, bc := range []struct{ name, query string }{
		// the guide's non-compliant devices query
		{"where-chain", `SigninLogs | where DeviceDetail.isCompliant == false | where ConditionalAccessStatus == "success"`},
		{"summarize-bin", `SigninLogs | summarize count() by bin(TimeGenerated, 1h), UserPrincipalName`},
		// not streamed: both sign-in tables loaded, with lazy columns
		{"union-loaded", `union SigninLogs, AADNonInteractiveUserSignInLogs | where DeviceDetail has "false" | count`},
	} {
		q, err := Parse(bc.query)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(st.Size())
			for b.Loop() {
				if _, err := ExecWrite(context.Background(), q, cfg, io.Discard, "json"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("scan-noncompliant-builtin", func(b *testing.B) {
		var off []string
		for _, in := range detect.Catalogue() {
			if in.ID != "noncompliant-device-signin" {
				off = append(off, in.ID)
			}
		}
		b.SetBytes(st.Size())
		for b.Loop() {
			eng, err := detect.NewEngine(detect.Options{Disable: off})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := scan.Run(context.Background(), scan.Config{Paths: cfg.Paths, Engine: eng,
				Alert: func(*alert.Alert) error { return nil }}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
