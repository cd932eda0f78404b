package webhooks

import (
	"net/netip"
	"testing"
)

func TestBlockedIP(t *testing.T) {
	for s, blocked := range map[string]bool{
		"127.0.0.1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "100.127.255.254": true, "0.0.0.0": true, "224.0.0.251": true, "255.255.255.255": true,
		"::1": true, "::": true, "fd00::1": true, "fe80::1": true, "ff02::1": true, "::ffff:10.0.0.1": true,
		"::ffff:127.0.0.1": true, "64:ff9b::a00:1": true, "::127.0.0.1": true,
		"64:ff9b:1::a00:1": true, "2002:7f00:1::1": true, "2001:0:4136:e378::1": true, "fec0::1": true, "100::1": true, "2001:db8::1": true,
		"93.184.215.14": false, "100.128.0.1": false, "8.8.8.8": false, "2606:4700::1111": false, "::ffff:8.8.8.8": false,
	} {
		if got := BlockedIP(netip.MustParseAddr(s)) != ""; got != blocked {
			t.Errorf("BlockedIP(%s) = %v, want %v", s, got, blocked)
		}
	}
}

// FuzzParseURL: whatever a customer types, ParseURL does not panic, and what it accepts is an
// https URL with a host, no credentials, no blocked address literal, and stays accepted when
// printed and parsed again (what is stored is what is checked).
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "https://127.0.0.1/", "https://[::ffff:127.0.0.1]:8443/x",
		"http://localhost", "https://user@h/", "https://0x7f.1/", "https://2130706433", "https://h:99999/", "https://[fe80::1%25eth0]/",
		"https://ex%61mple.com/", "https://example.com./a?b=c", " https://a.b ", "https://\u00e9.com/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseURL(raw, false)
		if _, laxErr := ParseURL(raw, true); err == nil && laxErr != nil {
			t.Fatalf("%q passes the strict check but not the lax one: %v", raw, laxErr)
		}
		if err != nil {
			return
		}
		if u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("%q accepted as %#v", raw, u)
		}
		if ip, perr := netip.ParseAddr(u.Hostname()); perr == nil && BlockedIP(ip) != "" {
			t.Fatalf("%q accepted with blocked address %s", raw, ip)
		}
		if _, err := ParseURL(u.String(), false); err != nil {
			t.Fatalf("%q accepted, but its printed form %q is not: %v", raw, u.String(), err)
		}
	})
}
