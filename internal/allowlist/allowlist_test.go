package allowlist

import (
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	l, err := Read(strings.NewReader(`
# host      account
*           breakglass
web-01      ansible        # automation
win-db-02   WIN-DB-02\svc_backup
`), "allow.txt")
	if err != nil {
		t.Fatal(err)
	}
	e, err := ParseEntry("vm-x:Operator")
	if err != nil {
		t.Fatal(err)
	}
	l.Add(e)
	tests := []struct {
		host, domain, user string
		want               bool
	}{
		{"anything", "", "BreakGlass", true},
		{"web-01", "", "ansible", true},
		{"web-01.contoso.com", "", "ansible", true},
		{"web-02", "", "ansible", false},
		{"win-db-02", "WIN-DB-02", "svc_backup", true},
		{"win-db-02", "CONTOSO", "svc_backup", false},
		{"VM-X", "VM-X", "operator", true},
		{"vm-y", "", "operator", false},
	}
	for _, tt := range tests {
		if got := l.Allowed(tt.host, tt.domain, tt.user); got != tt.want {
			t.Errorf("Allowed(%q, %q, %q) = %v", tt.host, tt.domain, tt.user, got)
		}
	}
	var none *List
	if none.Allowed("h", "", "breakglass") {
		t.Error("nil list allowed an account")
	}
}

func TestReadErrors(t *testing.T) {
	_, err := Read(strings.NewReader("web-01 a b\n"), "allow.txt")
	if err == nil || !strings.Contains(err.Error(), "allow.txt:1:") {
		t.Fatalf("error %v does not name the line", err)
	}
}
