package sshlog

import (
	"testing"
	"time"
)

func TestParseAccepted(t *testing.T) {
	tests := []struct {
		msg  string
		want Login
		ok   bool
	}{
		{"Accepted publickey for localusertest01 from 192.168.0.15 port 53582 ssh2: RSA SHA256:MiRO", Login{"publickey", "localusertest01", "192.168.0.15", "53582", "RSA SHA256:MiRO"}, true},
		{"Accepted publicly for localusertest01 from 192.168.0.15 port 53582 ssh2: RSA SHA256:MiRO", Login{"publickey", "localusertest01", "192.168.0.15", "53582", "RSA SHA256:MiRO"}, true},
		{"Accepted password for fztu from 119.137.62.142 port 49116 ssh2", Login{"password", "fztu", "119.137.62.142", "49116", ""}, true},
		{"Accepted keyboard-interactive/pam for bob@contoso.com from 10.29.16.4 port 41810 ssh2", Login{"keyboard-interactive/pam", "bob@contoso.com", "10.29.16.4", "41810", ""}, true},
		{`Accepted publickey for jsmith from 2001:db8::1 port 40268 ssh2: RSA-CERT SHA256:5G ID jsmith "John Smith" <j@example.com> (serial 0) CA RSA SHA256:Eo`, Login{"publickey", "jsmith", "2001:db8::1", "40268", `RSA-CERT SHA256:5G ID jsmith "John Smith" <j@example.com> (serial 0) CA RSA SHA256:Eo`}, true},
		{"Failed password for root from 1.2.3.4 port 22 ssh2", Login{}, false},
		{"Accepted", Login{}, false},
		{"Accepted publickey for x", Login{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseAccepted(tt.msg)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseAccepted(%q) = %+v, %v; want %+v, %v", tt.msg, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNotEntraAndNames(t *testing.T) {
	for _, msg := range []string{
		"User 'localusertest01' is not a Microsoft Entra user; returning empty result.",
		"User 'localusertest01' is not an AAD user; returning empty result.",
	} {
		if u, ok := ParseNotEntra("aad_certhandler", msg); !ok || u != "localusertest01" {
			t.Errorf("ParseNotEntra(%q) = %q, %v", msg, u, ok)
		}
	}
	if _, ok := ParseNotEntra("cron", "User 'x' is not a Microsoft Entra user"); ok {
		t.Error("a verdict from an unrelated program was accepted")
	}
	for name, want := range map[string]bool{"alice@contoso.com": true, "26be570a-ae82-4189-b4e2-a37c6808512d": true, "root": false, "localusertest01": false, "26be570a": false} {
		if IsEntraName(name) != want {
			t.Errorf("IsEntraName(%q) != %v", name, want)
		}
	}
}

func TestPairer(t *testing.T) {
	var p Pairer
	t0 := time.Date(2026, 5, 9, 23, 49, 39, 0, time.UTC)
	verdict := []byte("May  9 23:49:39 ubuntu1804 aad_certhandler[3915]: User 'u1' is not a Microsoft Entra user; returning empty result.")
	if got := p.Observe("ubuntu1804", "aad_certhandler", "User 'u1' is not a Microsoft Entra user; returning empty result.", t0, verdict); got != "" {
		t.Fatalf("verdict line returned %q", got)
	}
	if got := p.Observe("UBUNTU1804", "sshd", "Accepted publickey for u1 from 192.0.2.1 port 1 ssh2", t0.Add(4*time.Second), nil); got != string(verdict) {
		t.Fatalf("login not paired: %q", got)
	}
	if got := p.Observe("other-host", "sshd", "Accepted publickey for u1 from 192.0.2.1 port 1 ssh2", t0.Add(4*time.Second), nil); got != "" {
		t.Fatalf("paired across hosts: %q", got)
	}
	if got := p.Observe("ubuntu1804", "sshd-session", "Accepted publickey for u1 from 192.0.2.1 port 1 ssh2", t0.Add(Window+time.Minute), nil); got != "" {
		t.Fatalf("paired past the window: %q", got)
	}
}
