package mail

import (
	"context"
	"net"
)

// The SMTP server these tests send to is mailtest's (a real go-smtp server on loopback).

// redirect dials addr whatever host the client asked for (a name that is not in DNS).
func redirect(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}
