package scan

import (
	"context"
	"github.com/entrawatch/entrawatch/internal/testenv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
)

// vmScan scans paths with the built-in detections and returns the alerts
// and warnings.
func vmScan(t *testing.T, year int, paths ...string) ([]*alert.Alert, []string) {
	t.Helper()
	eng, err := detect.NewEngine(detect.Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var alerts []*alert.Alert
	var warns []string
	_, err = Run(context.Background(), Config{
		Paths: paths, Engine: eng, Year: year,
		Alert: func(a *alert.Alert) error { alerts = append(alerts, a); return nil },
		Warn:  func(m string) { warns = append(warns, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return alerts, warns
}

func vmRepoPath(p string) string { return filepath.Join("..", "..", p) }

func TestMicrosoftGuideUbuntuExample(t *testing.T) {
	for _, f := range []string{"ms-guide-current-wording.auth.log", "ms-guide-older-wording.auth.log"} {
		t.Run(f, func(t *testing.T) {
			alerts, warns := vmScan(t, 2024, vmRepoPath("testdata/vm/"+f))
			if len(warns) > 0 {
				t.Errorf("warnings: %q", warns)
			}
			if len(alerts) != 1 {
				t.Fatalf("%d alerts, want exactly 1: %+v", len(alerts), alerts)
			}
			a := alerts[0]
			if a.Rule != "linux-vm-non-entra-ssh" || a.Severity != alert.High || a.Entities.User != "localusertest01" ||
				a.Entities.IP != "192.168.0.15" || a.Entities.Host != "ubuntu1804" || a.Source.Line != 5 ||
				a.Time.Format(time.RFC3339) != "2024-05-09T23:49:43Z" || !strings.Contains(a.Summary, "is not a") {
				t.Errorf("alert: %+v", a)
			}
		})
	}
}

func TestVMCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	alerts, warns := vmScan(t, 2025,
		filepath.Join(dir, "samples/loghub/OpenSSH_2k.log"),
		filepath.Join(dir, "samples/otrf-security-datasets/rdp_interactive_taskmanager_lsass_dump.logon-subset.json"),
		filepath.Join(dir, "samples/otrf-security-datasets/GoldenSAMLADFSMailAccess_WindowsEvents.json"),
	)
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want only the one non-Entra login: %+v", len(alerts), alerts)
	}
	a := alerts[0]
	if a.Rule != "linux-vm-non-entra-ssh" || a.Entities.User != "fztu" || a.Entities.IP != "119.137.62.142" || a.Source.Line != 956 {
		t.Errorf("alert: %+v", a)
	}
}
