package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/webhooks"
	"creditline/store"
)

// alertEnv is newEnv whose alert jobs are run at the end: the package shares one database,
// and later tests count the jobs they find due.
func alertEnv(t *testing.T, o ...billing.Options) *env {
	e := newEnv(t, o...)
	t.Cleanup(func() {
		w := e.svc.NewWorker(nil)
		for w.RunDue(context.Background()) > 0 {
		}
	})
	return e
}

// alertCounts counts, per "rule event channel", the alert events the account's channels got:
// in-app notifications and email jobs.
func (e *env) alertCounts(acc string) map[string]int {
	e.t.Helper()
	var rows []struct {
		Rule  string `db:"rule"`
		Event string `db:"event"`
		Ch    string `db:"ch"`
		N     int    `db:"n"`
	}
	err := e.db.Select(&rows, `SELECT rule_id AS rule, kind AS event, 'in_app' AS ch, count(*) AS n FROM notifications
			WHERE account_id = $1 AND rule_id IS NOT NULL GROUP BY 1, 2
		UNION ALL SELECT payload->>'rule_id', payload->>'type', 'email', count(*) FROM jobs
			WHERE kind = $2 AND payload->>'account' = $1 GROUP BY 1, 2`, acc, billing.JobAlertEmail)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Rule+" "+r.Event+" "+r.Ch] = r.N
	}
	return out
}

func (e *env) addRule(acc, kind, threshold string, channels ...string) billing.AlertRule {
	e.t.Helper()
	r, err := e.svc.CreateAlertRule(context.Background(), acc, billing.AlertRuleInput{Kind: kind, Threshold: threshold, Channels: channels},
		billing.Op{Actor: billing.UserActor("usr_test")})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// wantAlerts fails unless the counts are exactly want (rule ids, events and channels).
func wantAlerts(t *testing.T, got map[string]int, want map[string]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("alert deliveries\n got %v\nwant %v", got, want)
	}
}

// debitMany runs n debits of amount at once from 50 goroutines; every one must pass.
func debitMany(t *testing.T, svc *billing.Service, acc, amount string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c(amount), IdempotencyKey: key()}); err != nil {
					t.Errorf("debit: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestAlertFiresOncePerCrossing: 1,000 concurrent debits that take the balance across two
// thresholds fire each rule once on each of its channels; more debits below change nothing; a
// top-up resolves each once; thousands of debits that stay above after it, nothing again. On the
// lock-free path and on the locked path alone, through the batcher (so that 5,000 debits take
// seconds on a shared machine; TestAlertRuleChangeReachesOtherInstances debits without it).
func TestAlertFiresOncePerCrossing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		locked bool
	}{{"lock-free", false}, {"locked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := alertEnv(t, billing.Options{LockedDebits: tc.locked})
			startGC(t, e, 2, 0)
			acc := e.account()
			e.grant(acc, "1000") // a purchase: the last top-up, so the default 20% rule is at 200
			below := e.addRule(acc, billing.AlertBalanceBelow, "600", billing.ChannelInApp, billing.ChannelEmail)
			var pct billing.AlertRule
			rules, err := e.svc.AlertRules(context.Background(), acc)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rules {
				if r.Kind == billing.AlertBalanceBelowPercent {
					pct = r
				}
			}
			if pct.ID == "" || pct.Threshold != 20 {
				t.Fatalf("default rules: %+v", rules)
			}
			stats := e.svc.LedgerStats()
			debitMany(t, e.svc, acc, "0.85", 1000) // 1000 -> 150: crosses 600 and 200
			fired := map[string]int{}
			for _, id := range []string{below.ID, pct.ID} {
				fired[id+" alert.fired in_app"], fired[id+" alert.fired email"] = 1, 1
			}
			wantAlerts(t, e.alertCounts(acc), fired)

			debitMany(t, e.svc, acc, "0.01", 1000) // 150 -> 140, still below both
			wantAlerts(t, e.alertCounts(acc), fired)

			e.grant(acc, "1000") // 1140: above 600, and above 20% of the new top-up
			for _, id := range []string{below.ID, pct.ID} {
				fired[id+" alert.resolved in_app"], fired[id+" alert.resolved email"] = 1, 1
			}
			wantAlerts(t, e.alertCounts(acc), fired)

			debitMany(t, e.svc, acc, "0.1", 3000) // 1140 -> 840: above both
			wantAlerts(t, e.alertCounts(acc), fired)
			if !tc.locked && (stats.LockFree.Load() == 0 || stats.AlertFallbacks.Load() == 0) {
				t.Fatalf("lock-free %d, sent to the locked path for an alert %d: want both", stats.LockFree.Load(), stats.AlertFallbacks.Load())
			}
			t.Logf("lock-free %d locked %d fallbacks %d alert fallbacks %d", stats.LockFree.Load(), stats.Locked.Load(),
				stats.Fallbacks.Load(), stats.AlertFallbacks.Load())
		})
	}
}

// TestAlertRolledBackWithItsDebit: the alert's rows are written in the debit's transaction,
// so a debit that rolls back (here a hook fails after everything was written) leaves no alert,
// and the debit that then crosses fires it once.
func TestAlertRolledBackWithItsDebit(t *testing.T) {
	e := alertEnv(t)
	var fail atomic.Bool
	boom := errors.New("crash after the writes")
	e.svc.OnDebit(func(ctx context.Context, tx billing.Tx, cs []billing.AccountChange) error {
		if fail.Load() {
			return boom
		}
		return nil
	}, nil)
	acc := e.account()
	e.grant(acc, "10")
	r := e.addRule(acc, billing.AlertBalanceBelow, "5", billing.ChannelInApp, billing.ChannelEmail)
	fail.Store(true)
	if _, err := debitOn(t, e.svc, acc, "6", key(), false); !errors.Is(err, boom) {
		t.Fatalf("debit: %v, want the hook's error", err)
	}
	wantAlerts(t, e.alertCounts(acc), map[string]int{})
	if got := e.balance(acc).Available; got != c("10") {
		t.Fatalf("available %s after a rolled-back debit", got)
	}
	fail.Store(false)
	if _, err := debitOn(t, e.svc, acc, "6", key(), false); err != nil {
		t.Fatal(err)
	}
	wantAlerts(t, e.alertCounts(acc), map[string]int{r.ID + " alert.fired in_app": 1, r.ID + " alert.fired email": 1})
}

// TestAlertRuleChangeReachesOtherInstances: a rule added on one instance is seen by the next
// lock-free debit on another (the change bumps the account's version, so the cached account is
// refused at commit and read again with its rules).
func TestAlertRuleChangeReachesOtherInstances(t *testing.T) {
	e := alertEnv(t)
	other := billing.NewService(e.store, billing.Options{Now: e.clock.Now})
	acc := e.account()
	e.grant(acc, "100")
	for i := 0; i < 2; i++ { // the second is decided from the cache
		if _, err := debitOn(t, e.svc, acc, "1", key(), false); err != nil {
			t.Fatal(err)
		}
	}
	r, err := other.CreateAlertRule(context.Background(), acc, billing.AlertRuleInput{Kind: billing.AlertBalanceBelow, Threshold: "97",
		Channels: []string{billing.ChannelInApp}}, billing.Op{Actor: billing.UserActor("usr_test")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := debitOn(t, e.svc, acc, "1", key(), false); err != nil { // 98 -> 97: not below
		t.Fatal(err)
	}
	wantAlerts(t, e.alertCounts(acc), map[string]int{})
	if _, err := debitOn(t, e.svc, acc, "1", key(), false); err != nil { // 97 -> 96
		t.Fatal(err)
	}
	wantAlerts(t, e.alertCounts(acc), map[string]int{r.ID + " alert.fired in_app": 1})

	// Disabled on the other instance: the grant that lifts the balance resolves nothing.
	off := false
	if _, err := other.UpdateAlertRule(context.Background(), acc, r.ID, billing.AlertRuleInput{Threshold: "97",
		Channels: []string{billing.ChannelInApp}, Enabled: &off}, billing.Op{Actor: billing.UserActor("usr_test")}); err != nil {
		t.Fatal(err)
	}
	e.grant(acc, "10")
	for i := 0; i < 20; i++ {
		if _, err := debitOn(t, e.svc, acc, "1", key(), false); err != nil {
			t.Fatal(err)
		}
	}
	wantAlerts(t, e.alertCounts(acc), map[string]int{r.ID + " alert.fired in_app": 1})
}

// TestSpendPercentAlert: quiet without a limit; with one, 80% and 100% fire once each.
func TestSpendPercentAlert(t *testing.T) {
	e := alertEnv(t)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "1000")
	debitMany(t, e.svc, acc, "1", 100)
	wantAlerts(t, e.alertCounts(acc), map[string]int{})
	if _, err := e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, SpendLimit: &billing.SpendLimitChange{Credits: c("200"), Mode: billing.SpendSoft},
		Op: op("cap", "")}); err != nil {
		t.Fatal(err)
	}
	debitMany(t, e.svc, acc, "1", 150) // 250 spent of 200: past 80% and 100%
	rules, err := e.svc.AlertRules(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, r := range rules {
		if r.Kind == billing.AlertSpendPercent {
			want[r.ID+" alert.fired in_app"], want[r.ID+" alert.fired email"] = 1, 1
		}
	}
	if len(want) != 4 {
		t.Fatalf("default spend rules: %+v", rules)
	}
	wantAlerts(t, e.alertCounts(acc), want)
}

// TestCreditsExpiringAlertOncePerGrant: the sweep announces a grant expiring within the
// rule's days once, however often it runs.
func TestCreditsExpiringAlertOncePerGrant(t *testing.T) {
	e := alertEnv(t)
	ctx := context.Background()
	acc := e.account()
	soon := e.clock.Now().Add(3 * 24 * time.Hour)
	late := e.clock.Now().Add(30 * 24 * time.Hour)
	e.grant(acc, "10", func(in *billing.GrantInput) { in.Source = "promo"; in.ExpiresAt = &soon })
	e.grant(acc, "10", func(in *billing.GrantInput) { in.Source = "promo"; in.ExpiresAt = &late })
	for i := 0; i < 3; i++ {
		if _, err := e.svc.AlertExpiringCredits(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM notifications WHERE account_id = $1 AND rule_id IS NOT NULL AND message LIKE '10 credits%'`, acc); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d expiring-credits notifications, want 1", n)
	}
}

// TestAlertWebhookChannel: a rule on the webhook channel hands each crossing to the account's
// endpoints as alert.fired, then alert.resolved: one delivery each, in the debit's and the
// top-up's transactions.
func TestAlertWebhookChannel(t *testing.T) {
	e := alertEnv(t)
	ctx := context.Background()
	acc := e.account()
	hooks := webhooks.New(e.svc, store.New(e.db).Webhooks(), webhooks.Options{AllowPrivate: true})
	ep, err := hooks.CreateEndpoint(ctx, acc, billing.RoleOwner, webhooks.EndpointInput{URL: "http://127.0.0.1:9/hook"},
		billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}, Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.grant(acc, "1000")
	e.addRule(acc, billing.AlertBalanceBelow, "600", billing.ChannelWebhook)
	debitMany(t, e.svc, acc, "1", 500) // 1000 -> 500: crosses 600 once
	e.grant(acc, "1000")               // 1500: resolves it
	ds, err := hooks.Deliveries(ctx, acc, ep.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range ds {
		got[d.Type]++
	}
	if got[billing.EventAlertFired] != 1 || got[billing.EventAlertResolved] != 1 {
		t.Fatalf("deliveries by type %v: want one alert.fired and one alert.resolved", got)
	}
}

// TestAlertMailFollowsTheRuleAsItIsNow: an alert mail queued before its rule was deleted (or
// its email turned off) is not sent; one queued for a rule still mailing is.
func TestAlertMailFollowsTheRuleAsItIsNow(t *testing.T) {
	e := alertEnv(t)
	ctx := context.Background()
	email := "mail-" + key() + "@example.com"
	a, err := e.svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "alert mail", Email: email})
	if err != nil {
		t.Fatal(err)
	}
	e.grant(a.ID, "1000")
	kept := e.addRule(a.ID, billing.AlertBalanceBelow, "700", billing.ChannelEmail)
	gone := e.addRule(a.ID, billing.AlertBalanceBelow, "600", billing.ChannelEmail)
	debitMany(t, e.svc, a.ID, "1", 500) // crosses both: two mail jobs queued, not yet run
	if err := e.svc.DeleteAlertRule(ctx, a.ID, gone.ID, billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	w := e.svc.NewWorker(nil)
	for w.RunDue(ctx) > 0 {
	}
	var subjects []string
	if err := e.db.Select(&subjects, `SELECT subject FROM outbox WHERE kind = $1 AND to_addr = $2`, billing.MailAlert, email); err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 1 {
		t.Fatalf("alert mails %q: want one, for rule %s only (rule %s was deleted before its mail ran)", subjects, kept.ID, gone.ID)
	}
}

// TestEditingChannelsDoesNotFireAgain: changing a firing rule's channels alone keeps it
// firing; changing its threshold decides afresh.
func TestEditingChannelsDoesNotFireAgain(t *testing.T) {
	e := alertEnv(t)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "1000")
	r := e.addRule(acc, billing.AlertBalanceBelow, "600", billing.ChannelInApp)
	debitMany(t, e.svc, acc, "1", 500) // 500: fired
	op := billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}, Reason: "test"}
	if _, err := e.svc.UpdateAlertRule(ctx, acc, r.ID, billing.AlertRuleInput{Threshold: "600",
		Channels: []string{billing.ChannelInApp, billing.ChannelEmail}}, op); err != nil {
		t.Fatal(err)
	}
	debitMany(t, e.svc, acc, "1", 10)
	wantAlerts(t, e.alertCounts(acc), map[string]int{r.ID + " alert.fired in_app": 1})
	if _, err := e.svc.UpdateAlertRule(ctx, acc, r.ID, billing.AlertRuleInput{Threshold: "550",
		Channels: []string{billing.ChannelInApp}}, op); err != nil {
		t.Fatal(err)
	}
	debitMany(t, e.svc, acc, "1", 10) // still below the new threshold: decided afresh, fires
	wantAlerts(t, e.alertCounts(acc), map[string]int{r.ID + " alert.fired in_app": 2})
}
