package webhooks

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"creditline/billing"
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

// ParseURL refuses what cannot be stored and checked as typed: a byte that is not UTF-8, a C1
// control character, an IPv6 zone (found by FuzzParseURL: "https://[1::%25\x85]" was accepted
// and printed in a form it then refused), each with its own message beside the field.
func TestParseURLRefusesBytesControlsAndZones(t *testing.T) {
	for raw, want := range map[string]string{
		"https://[1::%25\x85]":           "Use UTF-8 text",
		"https://example.com/\xff":       "Use UTF-8 text",
		"https://example.com/a\u0085b":   "Remove spaces and control characters.",
		"https://example.com/a\u009fb":   "Remove spaces and control characters.",
		"https://[2606:4700::1%25eth0]/": "Remove the %zone from the address.",
		"https://[1::%25\u00e9]/":        "Remove the %zone from the address.",
	} {
		for _, lax := range []bool{false, true} {
			_, err := ParseURL(raw, lax)
			var e *billing.Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Fields["url"], want) {
				t.Errorf("ParseURL(%q, %v) = %v, want the url field to say %q", raw, lax, err, want)
			}
		}
	}
	for _, raw := range []string{"https://example.com/caf\u00e9", "https://\u00e9.com/", "https://[2606:4700::1111]:8443/x"} {
		if _, err := ParseURL(raw, false); err != nil {
			t.Errorf("ParseURL(%q) = %v, want it accepted", raw, err)
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
