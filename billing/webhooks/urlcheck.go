package webhooks

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"creditline/billing"
)

// MaxURLBytes bounds an endpoint URL (the schema's CHECK agrees).
const MaxURLBytes = 2048

// blockedRanges are the IPv4 and IPv6 ranges no endpoint may reach, beyond what netip's
// predicates name: CGNAT, "this network", IETF protocol assignments, benchmarking, reserved,
// broadcast, and the IPv6 blocks that embed or tunnel to IPv4 addresses (IPv4-compatible,
// local-use NAT64, 6to4, Teredo) or are not routable (site-local, discard-only, documentation).
var blockedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("fec0::/10"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// nat64 embeds an IPv4 address in its last 32 bits; the embedded one is checked.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// BlockedIP says why an address may not be dialled ("" when it may): loopback, private (RFC
// 1918, ULA), link-local, unspecified, multicast, CGNAT and the ranges above, in IPv4-mapped
// and NAT64 forms too.
func BlockedIP(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case !ip.IsValid():
		return "an invalid address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range blockedRanges {
		if p.Contains(ip) {
			return "a reserved or shared address"
		}
	}
	return ""
}

// ParseURL checks an endpoint URL as typed, without DNS: absolute https (http too when
// allowPrivate), a host, no user info or fragment, at most MaxURLBytes; an IP literal host
// must not be blocked (unless allowPrivate), and numeric forms other than dotted IPv4 (which
// resolvers read as addresses, e.g. 2130706433 or 0x7f.1) are refused. Errors: invalid_request
// on field "url".
func ParseURL(raw string, allowPrivate bool) (*url.URL, error) {
	bad := func(format string, args ...any) (*url.URL, error) {
		return nil, billing.FieldError("url", format, args...)
	}
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return bad("Required: the https URL that should receive events.")
	case len(raw) > MaxURLBytes:
		return bad("Use at most %d characters.", MaxURLBytes)
	case !utf8.ValidString(raw):
		return bad("Use UTF-8 text: the URL has a byte that is not.")
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || (r >= 0x7f && r <= 0x9f) }):
		return bad("Remove spaces and control characters.")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return bad("Enter a full URL such as https://example.com/webhooks.")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	default:
		return bad("Use an https:// URL.")
	}
	if u.User != nil {
		return bad("Remove the user name and password from the URL.")
	}
	if u.Fragment != "" || u.RawFragment != "" || strings.Contains(raw, "#") {
		return bad("Remove the #fragment: it is never sent.")
	}
	host := u.Hostname()
	if host == "" {
		return bad("Enter a host name, e.g. https://example.com/webhooks.")
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return bad("The port must be a number from 1 to 65535.")
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		// A zone (fe80::1%eth0) names an interface of the sending machine: it means nothing in
		// a URL given to another system, and Go prints some zones in a form it then refuses.
		if ip.Zone() != "" {
			return bad("Remove the %%zone from the address.")
		}
		if why := BlockedIP(ip); why != "" && !allowPrivate {
			return bad("%s is %s; use a public address.", ip, why)
		}
		return u, nil
	}
	if strings.Contains(host, ":") || strings.Contains(host, "%") {
		return bad("The host is not a valid name or address.")
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	if last := strings.ToLower(labels[len(labels)-1]); last == "" || strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return bad("Use a host name or a dotted IPv4 address.")
	}
	return u, nil
}

func parsePort(p string) (int, error) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' || n > 65535 {
			return 0, fmt.Errorf("port %q", p)
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0, fmt.Errorf("port %q", p)
	}
	return n, nil
}

// checkURL is ParseURL and, unless private addresses are allowed, a DNS lookup whose every
// answer must be a public address. Errors: invalid_request on field "url".
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	u, err := ParseURL(raw, s.allowPrivate)
	if err != nil {
		return "", err
	}
	if s.allowPrivate {
		return u.String(), nil
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		return u.String(), nil
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := s.resolver.LookupNetIP(lctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return "", billing.FieldError("url", "%s does not resolve; check the host name.", host)
	}
	for _, ip := range ips {
		if why := BlockedIP(ip); why != "" {
			return "", billing.FieldError("url", "%s resolves to %s (%s); use a public address.", host, ip.Unmap(), why)
		}
	}
	return u.String(), nil
}

// dialGuard refuses, at connect time, an address BlockedIP blocks: the address dialled is
// the one DNS gave this time, so a name that resolved to a public address at creation and to
// a private one now (DNS rebinding) is still refused.
func dialGuard(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhooks: refused to connect to %q", address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhooks: refused to connect to %q", address)
	}
	if why := BlockedIP(ip); why != "" {
		return fmt.Errorf("refused: %s is %s", ip.Unmap(), why)
	}
	return nil
}
