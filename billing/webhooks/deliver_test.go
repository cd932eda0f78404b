package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"creditline/billing"
	"creditline/billing/webhooks"
)

// verify checks a Creditline-Signature the way a customer would: recompute the HMAC of
// "<t>.<body>" with the secret and compare in constant time.
func verify(t *testing.T, secret, header string, body []byte) time.Time {
	t.Helper()
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		t.Fatalf("signature %q does not verify (want v1=%s)", header, want)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("signature timestamp %q: %v", ts, err)
	}
	return time.Unix(n, 0)
}

func TestDeliverySignedReceivedAndReplayedOnce(t *testing.T) {
	e := newEnv(t, false)
	rcv := newReceiver(t, 200, `{"ok":true}`)
	ep := e.endpoint(rcv.URL + "/hook")
	if !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("secret %q", ep.Secret)
	}
	e.emit(billing.EventAutoRechargeSucceeded, map[string]any{"credits": "500"})
	e.runDue()

	got := rcv.got()
	if len(got) != 1 {
		t.Fatalf("received %d requests, want 1", len(got))
	}
	ts := verify(t, ep.Secret, got[0].header.Get(webhooks.SignatureHeader), got[0].body)
	if !ts.Equal(e.clock.Now()) {
		t.Errorf("signed at %v, want the service clock %v", ts, e.clock.Now())
	}
	if ct := got[0].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body struct {
		ID        string         `json:"id"`
		Type      string         `json:"type"`
		CreatedAt time.Time      `json:"created_at"`
		Account   string         `json:"account"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(body.ID, "evt_") || body.Type != billing.EventAutoRechargeSucceeded || body.Account != e.acc.ID ||
		body.Data["credits"] != "500" || !body.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("body %s", got[0].body)
	}
	ds := e.deliveries(ep)
	if len(ds) != 1 || ds[0].Status != webhooks.StatusSucceeded || ds[0].Attempts != 1 || len(ds[0].Log) != 1 {
		t.Fatalf("deliveries %+v", ds)
	}
	if a := ds[0].Log[0]; a.HTTPStatus != 200 || a.ResponseExcerpt != `{"ok":true}` || a.Error != "" {
		t.Errorf("attempt %+v", a)
	}

	// The same job again (a crash after the send, before the job was marked done) sends nothing.
	if err := e.store.EnqueueJob(e.ctx, billing.NewDeliverJob(ds[0].ID, 1, e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	e.runDue()
	if n := len(rcv.got()); n != 1 {
		t.Fatalf("a replayed job sent again: %d requests", n)
	}

	// Send again is a new delivery of the same event, signed anew, with the same body.
	e.clock.Add(time.Minute)
	d2, err := e.hooks.SendAgain(e.ctx, e.acc.ID, webhooks.RoleAPIKey, ds[0].ID, keyOp())
	if err != nil {
		t.Fatal(err)
	}
	e.runDue()
	got = rcv.got()
	if len(got) != 2 || string(got[1].body) != string(got[0].body) || d2.EventID != body.ID {
		t.Fatalf("send again: %d requests, event %s", len(got), d2.EventID)
	}
	if ts := verify(t, ep.Secret, got[1].header.Get(webhooks.SignatureHeader), got[1].body); !ts.Equal(e.clock.Now()) {
		t.Errorf("resent signed at %v", ts)
	}
}

func TestFailingEndpointRetriedWithGrowingDelaysForADayThenFailed(t *testing.T) {
	e := newEnv(t, false)
	// A large answer with control characters: the log keeps 1 KiB of it, cleaned.
	rcv := newReceiver(t, 503, "down\x00\x1b[31m"+strings.Repeat("é", 2000))
	ep := e.endpoint(rcv.URL)
	e.emit(billing.EventPaymentFailed, nil)
	created := e.clock.Now()

	var gaps []time.Duration
	for i := 0; i < 100; i++ {
		e.runDue()
		ds := e.deliveries(ep)
		if ds[0].Status != webhooks.StatusPending {
			break
		}
		if ds[0].NextAttemptAt == nil {
			t.Fatal("pending without a next attempt")
		}
		gap := ds[0].NextAttemptAt.Sub(e.clock.Now())
		gaps = append(gaps, gap)
		// Nothing is sent before the next attempt is due.
		e.clock.Set(ds[0].NextAttemptAt.Add(-time.Second))
		before := len(rcv.got())
		e.runDue()
		if len(rcv.got()) != before {
			t.Fatalf("attempt %d sent %v early", i+2, time.Second)
		}
		e.clock.Set(*ds[0].NextAttemptAt)
	}
	ds := e.deliveries(ep)
	d := ds[0]
	if d.Status != webhooks.StatusFailed {
		t.Fatalf("after %d attempts the delivery is %s", d.Attempts, d.Status)
	}
	if len(d.Log) != d.Attempts || len(rcv.got()) != d.Attempts {
		t.Fatalf("%d attempts, %d in the log, %d received", d.Attempts, len(d.Log), len(rcv.got()))
	}
	last := d.Log[len(d.Log)-1]
	if !last.At.Equal(created.Add(webhooks.RetryWindow)) {
		t.Errorf("last attempt at %v, want the end of the window %v", last.At.Sub(created), webhooks.RetryWindow)
	}
	for i := 1; i < len(gaps); i++ {
		if gaps[i-1] < webhooks.MaxRetryGap && gaps[i] < gaps[i-1]*3/2 && gaps[i] != last.At.Sub(d.Log[len(d.Log)-2].At) {
			t.Errorf("delay %d is %v after %v: not growing", i+1, gaps[i], gaps[i-1])
		}
		if gaps[i] > webhooks.MaxRetryGap*6/5 {
			t.Errorf("delay %d is %v, over the cap", i+1, gaps[i])
		}
	}
	if gaps[0] < webhooks.FirstRetry || gaps[0] > webhooks.FirstRetry*6/5 {
		t.Errorf("first delay %v", gaps[0])
	}
	t.Logf("%d attempts over %v; delays %v", d.Attempts, last.At.Sub(created), gaps)
	for _, a := range d.Log {
		if a.HTTPStatus != 503 || a.Error != "HTTP 503" || len(a.ResponseExcerpt) > webhooks.ExcerptBytes ||
			strings.ContainsFunc(a.ResponseExcerpt, unicode.IsControl) || !strings.HasPrefix(a.ResponseExcerpt, "down ") {
			t.Fatalf("attempt %+v", a)
		}
	}
}

func TestEmitEventReachesSubscribedLiveEndpointsOnly(t *testing.T) {
	e := newEnv(t, false)
	rcv := newReceiver(t, 204, "")
	all := e.endpoint(rcv.URL + "/all")
	pay := e.endpoint(rcv.URL+"/pay", billing.EventPaymentFailed)
	gone := e.endpoint(rcv.URL + "/gone")
	if err := e.hooks.DeleteEndpoint(e.ctx, e.acc.ID, webhooks.RoleAPIKey, gone.ID, keyOp()); err != nil {
		t.Fatal(err)
	}
	e.emit(billing.EventAlertFired, nil)
	e.emit(billing.EventPaymentFailed, nil)
	e.runDue()
	if n := len(e.deliveries(all)); n != 2 {
		t.Errorf("all-events endpoint: %d deliveries, want 2", n)
	}
	if ds := e.deliveries(pay); len(ds) != 1 || ds[0].Type != billing.EventPaymentFailed || ds[0].Status != webhooks.StatusSucceeded {
		t.Errorf("payment.failed endpoint: %+v", ds)
	}
	if _, err := e.hooks.Deliveries(e.ctx, e.acc.ID, gone.ID, 10); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("a deleted endpoint's log: %v", err)
	}
	if n := len(rcv.got()); n != 3 {
		t.Errorf("received %d, want 3", n)
	}
	// Another account's endpoint id is not found.
	other, err := e.svc.CreateAccount(e.ctx, billing.CreateAccountInput{Name: "Other", ExternalID: billing.NewID("ext")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.hooks.Deliveries(e.ctx, other.ID, all.ID, 10); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("another account reads the log: %v", err)
	}
	if err := e.hooks.DeleteEndpoint(e.ctx, other.ID, webhooks.RoleAPIKey, all.ID, keyOp()); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("another account deletes: %v", err)
	}
}

func TestSSRFRefusedAtCreation(t *testing.T) {
	e := newEnv(t, true)
	for _, u := range []string{
		"http://example.com/hook",           // not https
		"https://127.0.0.1/hook",            // loopback
		"https://10.1.2.3/",                 // RFC 1918
		"https://192.168.0.10/",             // RFC 1918
		"https://169.254.169.254/latest",    // link-local (cloud metadata)
		"https://100.64.0.1/",               // CGNAT
		"https://0.0.0.0/",                  // unspecified
		"https://[::1]/",                    // loopback v6
		"https://[fd12::1]/",                // ULA
		"https://[fe80::1]/",                // link-local v6
		"https://[::ffff:127.0.0.1]/",       // IPv4-mapped loopback
		"https://[::ffff:a9fe:a9fe]/",       // IPv4-mapped link-local
		"https://[64:ff9b::7f00:1]/",        // NAT64 of loopback
		"https://224.0.0.1/",                // multicast
		"https://2130706433/",               // 127.0.0.1 as one number
		"https://0x7f.1/",                   // hex form
		"https://localhost/hook",            // a name that resolves to loopback
		"https://user:pw@example.com/",      // credentials
		"ftp://example.com/",                // scheme
		"https://example.com/#frag",         // fragment
		"https://no-such-host.invalid/hook", // does not resolve
	} {
		_, err := e.hooks.CreateEndpoint(e.ctx, e.acc.ID, webhooks.RoleAPIKey, webhooks.EndpointInput{URL: u}, keyOp())
		var be *billing.Error
		if billing.ErrorCode(err) != billing.EInvalid || !asBilling(err, &be) || be.Fields["url"] == "" {
			t.Errorf("%s: %v, want invalid_request on url", u, err)
		}
	}
	// A public address literal needs no lookup and passes.
	if _, err := e.hooks.CreateEndpoint(e.ctx, e.acc.ID, webhooks.RoleAPIKey, webhooks.EndpointInput{URL: "https://93.184.215.14/hook"}, keyOp()); err != nil {
		t.Errorf("public address: %v", err)
	}
	if _, err := e.hooks.CreateEndpoint(e.ctx, e.acc.ID, webhooks.RoleAPIKey, webhooks.EndpointInput{URL: "https://93.184.215.14/", Events: []string{"nope"}}, keyOp()); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("unknown event type: %v", err)
	}
	if _, err := e.hooks.CreateEndpoint(e.ctx, e.acc.ID, billing.RoleMember, webhooks.EndpointInput{URL: "https://93.184.215.14/"}, keyOp()); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("a member: %v", err)
	}
}

// A name that resolves to 127.0.0.1 when the delivery is made is refused at the dial, whatever
// it resolved to at creation (DNS rebinding): the endpoint is created by a lax service and
// delivered by a strict one.
func TestSSRFRefusedAtDelivery(t *testing.T) {
	e := newEnv(t, false)
	rcv := newReceiver(t, 200, "")
	port := rcv.URL[strings.LastIndex(rcv.URL, ":")+1:]
	ep := e.endpoint("http://localhost:" + port + "/hook")
	strict := webhooks.New(e.svc, e.store.Webhooks(), webhooks.Options{})
	strict.Register(e.worker)
	e.emit(billing.EventAlertFired, nil)
	e.runDue()
	if n := len(rcv.got()); n != 0 {
		t.Fatalf("the strict sender reached 127.0.0.1: %d requests", n)
	}
	ds := e.deliveries(ep)
	if len(ds) != 1 || ds[0].Status != webhooks.StatusPending || len(ds[0].Log) != 1 {
		t.Fatalf("deliveries %+v", ds)
	}
	if a := ds[0].Log[0]; a.HTTPStatus != 0 || !strings.Contains(a.Error, "refused") || !strings.Contains(a.Error, "loopback") {
		t.Errorf("attempt %+v, want refused: loopback", a)
	}
}
