package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"creditline/billing"
	"github.com/lib/pq"
)

// The channels migration 0014's triggers notify on.
const (
	channelAccounts   = "creditline_accounts"
	channelPlans      = "creditline_plans"
	channelPriceBooks = "creditline_price_books"
	channelAPIKeys    = "creditline_api_keys"
)

// Listen subscribes a dedicated connection to the change notifications and calls apply for
// each committed change, from one goroutine, until ctx ends. It returns once subscribed (every
// change committed after that is seen), or with ctx's error. Once subscribed, apply gets
// EventsLost (what was cached before went unannounced) then EventsLive, before any change.
// The connection is re-established when lost: apply gets EventsLost when it is lost, and
// EventsLost then EventsLive once subscribed again (changes made meanwhile went unannounced).
func Listen(ctx context.Context, dsn string, apply func(billing.CacheEvent)) error {
	lost := make(chan struct{}, 1)
	l := pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, _ error) {
		if ev == pq.ListenerEventDisconnected {
			select {
			case lost <- struct{}{}:
			default:
			}
		}
	})
	subscribed := make(chan error, 1)
	go func() {
		for _, ch := range []string{channelAccounts, channelPlans, channelPriceBooks, channelAPIKeys} {
			if err := l.Listen(ch); err != nil {
				subscribed <- fmt.Errorf("store: listen %s: %w", ch, err)
				return
			}
		}
		subscribed <- nil
	}()
	select {
	case err := <-subscribed:
		if err != nil {
			l.Close()
			return err
		}
	case <-ctx.Done():
		l.Close()
		return ctx.Err()
	}
	// Here, before the loop: a loss noticed meanwhile waits in lost, so it is applied after.
	apply(billing.CacheEvent{Kind: billing.EventsLost})
	apply(billing.CacheEvent{Kind: billing.EventsLive})
	go func() {
		defer l.Close()
		ping := time.NewTicker(30 * time.Second) // a dead connection is noticed by a ping
		defer ping.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-lost:
				apply(billing.CacheEvent{Kind: billing.EventsLost})
			case <-ping.C:
				go l.Ping() //nolint:errcheck // a failure shows as a disconnection
			case n := <-l.Notify:
				if n == nil { // subscribed again, after the loss it signalled first
					select {
					case <-lost: // not seen yet: applied now, in its order
					default:
					}
					apply(billing.CacheEvent{Kind: billing.EventsLost})
					apply(billing.CacheEvent{Kind: billing.EventsLive})
				} else if c, ok := parseChange(n); ok {
					apply(c)
				}
			}
		}
	}()
	return nil
}

// parseChange reads a notification; nil (sent after a reconnection) means changes were missed.
func parseChange(n *pq.Notification) (billing.CacheEvent, bool) {
	if n == nil {
		return billing.CacheEvent{Kind: billing.EventsLost}, true
	}
	switch n.Channel {
	case channelAccounts:
		id, ver, _ := strings.Cut(n.Extra, " ")
		v, _ := strconv.ParseInt(ver, 10, 64)
		return billing.CacheEvent{Kind: billing.EventAccount, AccountID: id, Version: v}, id != ""
	case channelPlans:
		return billing.CacheEvent{Kind: billing.EventPlans}, true
	case channelPriceBooks:
		return billing.CacheEvent{Kind: billing.EventPriceBooks}, true
	case channelAPIKeys:
		return billing.CacheEvent{Kind: billing.EventAPIKeyRevoked, KeyID: n.Extra}, n.Extra != ""
	}
	return billing.CacheEvent{}, false
}
