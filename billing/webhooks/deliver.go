package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"creditline/billing"
)

// Delivery timing: a POST gets SendTimeout; a failed one is tried again after FirstRetry,
// doubling up to MaxRetryGap (plus up to a fifth of jitter), until RetryWindow after the
// delivery was created; the last try happens at the window's end, then the delivery fails.
const (
	SendTimeout = 10 * time.Second
	FirstRetry  = time.Minute
	MaxRetryGap = 4 * time.Hour
	RetryWindow = 24 * time.Hour
	// ExcerptBytes bounds the response excerpt kept per attempt.
	ExcerptBytes = 1024
)

// SignatureHeader carries t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
const SignatureHeader = "Creditline-Signature"

// Sign is the header value for body sent at t, keyed with the secret's bytes.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// RetryDelay is the wait after the n-th failed attempt (1-based), jitter included.
func RetryDelay(n int) time.Duration {
	d := min(FirstRetry<<min(max(n-1, 0), 20), MaxRetryGap)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

type sender struct{ client *http.Client }

// newSender builds a client that follows no redirect, ignores proxy settings (a proxy would
// dial for us, past the guard), and unless allowPrivate dials only addresses BlockedIP allows.
func newSender(allowPrivate bool) *sender {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = dialGuard
	}
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext, TLSHandshakeTimeout: 5 * time.Second,
		ResponseHeaderTimeout: SendTimeout, MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second}
	return &sender{client: &http.Client{Transport: tr, Timeout: SendTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// send POSTs the delivery's body and reports the attempt (never an error: a failure is an
// attempt with its reason).
func (s *sender) send(ctx context.Context, e Endpoint, d Delivery, now time.Time) Attempt {
	a := Attempt{DeliveryID: d.ID, At: now}
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = bounded("bad URL: " + err.Error())
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Creditline-Webhooks/1")
	req.Header.Set(SignatureHeader, Sign(e.Secret, now, body))
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		a.DurationMS = int(time.Since(start).Milliseconds())
		a.Error = bounded(sendError(err))
		return a
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 4*ExcerptBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	a.DurationMS = int(time.Since(start).Milliseconds())
	a.HTTPStatus, a.ResponseExcerpt = resp.StatusCode, bounded(string(excerpt))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			a.Error += ": redirects are not followed"
		}
	}
	return a
}

// sendError names why no answer came, without Go's wrapping noise.
func sendError(err error) string {
	var ne net.Error
	msg := err.Error()
	if i := strings.LastIndex(msg, "refused: "); i >= 0 {
		return msg[i:]
	}
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// bounded is s as the log keeps it: valid UTF-8, control characters as spaces, at most
// ExcerptBytes bytes (cut at a character boundary).
func bounded(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	if len(s) <= ExcerptBytes {
		return s
	}
	cut := ExcerptBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// handleDeliver makes one attempt of a delivery. It sends nothing when the delivery is no
// longer pending or has moved past this attempt (a replayed or duplicated job).
func (s *Service) handleDeliver(ctx context.Context, payload json.RawMessage) error {
	var j billing.DeliverJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("webhooks: job payload: %w", err)
	}
	d, err := s.store.DeliveryByID(ctx, j.DeliveryID)
	if billing.ErrorCode(err) == billing.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if d.Status != StatusPending || d.Attempts != j.Attempt-1 {
		return nil
	}
	e, err := s.store.EndpointByID(ctx, d.EndpointID)
	if err != nil {
		return err
	}
	now := s.now()
	var a Attempt
	if e.DisabledAt != nil {
		a = Attempt{DeliveryID: d.ID, At: now, Error: "endpoint deleted"}
	} else {
		a = s.sender.send(ctx, e, d, now)
	}
	a.N = j.Attempt
	status, next := s.outcome(d, a, e.DisabledAt != nil)
	return s.store.InTx(ctx, func(tx Tx) error {
		settled, err := tx.SettleAttempt(ctx, a, status, next)
		if err != nil || !settled || next == nil {
			return err
		}
		return tx.Enqueue(ctx, billing.NewDeliverJob(d.ID, a.N+1, *next))
	})
}

// outcome is the delivery's state after attempt a: succeeded on a 2xx; else pending until the
// retry window ends (the next try no later than its end), then failed.
func (s *Service) outcome(d Delivery, a Attempt, gone bool) (string, *time.Time) {
	if a.HTTPStatus >= 200 && a.HTTPStatus <= 299 {
		return StatusSucceeded, nil
	}
	end := d.CreatedAt.Add(RetryWindow)
	if gone || !a.At.Before(end) {
		return StatusFailed, nil
	}
	next := a.At.Add(RetryDelay(a.N))
	if next.After(end) {
		next = end
	}
	return StatusPending, &next
}
