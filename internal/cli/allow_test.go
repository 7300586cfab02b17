package cli

import (
	"strings"
	"testing"
)

// TestAllowFlags: an approved local account raises no alert, given by
// --allow or in an --allow-list file; other accounts and hosts still do.
func TestAllowFlags(t *testing.T) {
	logs := "../../examples/vm"
	count := func(out string) int {
		return strings.Count(out, `"rule":"linux-vm-non-entra-ssh"`) + strings.Count(out, `"rule":"windows-vm-non-entra-rdp"`)
	}
	code, out, errs := runCLI(t, "", "scan", "-o", "json", logs)
	if code != 0 || count(out) != 3 {
		t.Fatalf("without an allow-list: exit %d, %d VM alerts, stderr %q", code, count(out), errs)
	}
	code, out, _ = runCLI(t, "", "scan", "-o", "json", "--allow", "vm-lnx-web01:localusertest01", "--allow", `VM-WIN-APP01\labadmin`, logs)
	if code != 0 || count(out) != 1 || !strings.Contains(out, `"user":"dbadmin"`) {
		t.Fatalf("--allow: exit %d, output %s", code, out)
	}
	list := tempFile(t, "allow.txt", []byte("# approved local accounts\n*  dbadmin\nother-host localusertest01\n"))
	code, out, _ = runCLI(t, "", "scan", "-o", "json", "--allow-list", list, logs)
	if code != 0 || count(out) != 2 || strings.Contains(out, `"user":"dbadmin"`) {
		t.Fatalf("--allow-list: exit %d, output %s", code, out)
	}
	bad := tempFile(t, "bad.txt", []byte("a b c\n"))
	code, _, errs = runCLI(t, "", "scan", "--allow-list", bad, logs)
	if code != 2 || !strings.Contains(errs, "bad.txt:1:") {
		t.Fatalf("bad allow-list: exit %d, stderr %q", code, errs)
	}
}
