package ledgertest

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"creditline/billing"
)

// An account's row carries its enabled debit-path alert rules (debit_rules, migration 0033),
// which is what a cold read hands the ledger cache. Whatever changes the rules (new, edited,
// disabled, enabled, fired, resolved, deleted; rules of every kind, so the triggers' list of
// kinds is checked against billing.CachedAlertKinds) leaves the copy equal to the rules, and
// verify agrees. A firing flip rewrites the copy and so bumps the account's version: the
// cache counts that bump, so the debit after an alert is still decided lock-free.
func TestAccountRowCarriesItsDebitRules(t *testing.T) {
	e := alertEnv(t)
	e.clock.Advance(24 * time.Hour) // see TestMixedBatchDecidesPerAccount
	ctx := context.Background()
	op := billing.Op{Actor: billing.UserActor("usr_test")}
	acc := e.account()
	e.grant(acc, "100")
	violations := func() []billing.Violation { // this account's
		t.Helper()
		vs, err := e.svc.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(vs, func(v billing.Violation) bool { return v.AccountID != acc })
	}
	check := func(step string) {
		t.Helper()
		_, _, got, err := e.store.LedgerAccounts(ctx, []string{acc})
		if err != nil {
			t.Fatal(err)
		}
		all, err := e.store.ListAlertRules(ctx, acc)
		if err != nil {
			t.Fatal(err)
		}
		var want []billing.AlertRule
		for _, r := range all {
			if r.Enabled && slices.Contains(billing.CachedAlertKinds, r.Kind) {
				want = append(want, billing.AlertRule{AccountID: acc, Kind: r.Kind, Threshold: r.Threshold, Enabled: true, Firing: r.Firing})
			}
		}
		byRule := func(x, y billing.AlertRule) int {
			return cmp.Or(strings.Compare(x.Kind, y.Kind), cmp.Compare(x.Threshold, y.Threshold))
		}
		slices.SortFunc(want, byRule)
		slices.SortFunc(got, byRule)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the account's copy of its rules\n%+v\nwant\n%+v", step, got, want)
		}
		if vs := violations(); len(vs) > 0 {
			t.Fatalf("%s: %v", step, vs)
		}
	}
	check("default rules")
	kinds := map[string]bool{}
	all, err := e.store.ListAlertRules(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		kinds[r.Kind] = true
	}
	below := e.addRule(acc, billing.AlertBalanceBelow, "60", billing.ChannelInApp)
	kinds[below.Kind] = true
	for _, k := range []string{billing.AlertBalanceBelow, billing.AlertBalanceBelowPercent, billing.AlertSpendPercent,
		billing.AlertCreditsExpiring, billing.AlertRechargeFailed, billing.AlertPaymentFailed} {
		if !kinds[k] {
			t.Fatalf("no rule of kind %s to check the copy against: %v", k, kinds)
		}
	}
	check("a new rule")
	edit := func(th string, enabled bool) {
		t.Helper()
		if _, err := e.svc.UpdateAlertRule(ctx, acc, below.ID, billing.AlertRuleInput{Threshold: th,
			Channels: []string{billing.ChannelInApp}, Enabled: &enabled}, op); err != nil {
			t.Fatal(err)
		}
	}
	edit("50", true)
	check("a new threshold")
	edit("50", false)
	check("disabled")
	edit("50", true)
	check("enabled again")

	stats := e.svc.LedgerStats()
	if _, err := debitOn(t, e.svc, acc, "1", key(), false); err != nil { // 100 -> 99: caches the account
		t.Fatal(err)
	}
	if _, err := debitOn(t, e.svc, acc, "50", key(), false); err != nil { // 99 -> 49: below 50, fires
		t.Fatal(err)
	}
	wantAlerts(t, e.alertCounts(acc), map[string]int{below.ID + " alert.fired in_app": 1})
	check("fired")
	lockFree, fallbacks := stats.LockFree.Load(), stats.Fallbacks.Load()
	if _, err := debitOn(t, e.svc, acc, "1", key(), false); err != nil { // 49 -> 48: still below
		t.Fatal(err)
	}
	if stats.LockFree.Load() != lockFree+1 || stats.Fallbacks.Load() != fallbacks {
		t.Fatalf("the debit after the alert: lock-free %d -> %d, refused %d -> %d; want one lock-free and none refused",
			lockFree, stats.LockFree.Load(), fallbacks, stats.Fallbacks.Load())
	}
	e.grant(acc, "100") // 148: resolves
	check("resolved")
	if err := e.svc.DeleteAlertRule(ctx, acc, below.ID, op); err != nil {
		t.Fatal(err)
	}
	check("deleted")

	// A copy that disagrees with the rules is a broken invariant.
	e.db.MustExec(`UPDATE accounts SET debit_rules = 'b1' WHERE id = $1`, acc)
	if vs := violations(); len(vs) != 1 || vs[0].AccountID != acc || vs[0].Invariant != 2 {
		t.Errorf("verify of a wrong copy: %v", vs)
	}
	e.db.MustExec(`UPDATE accounts SET debit_rules = account_debit_rules(id) WHERE id = $1`, acc)
	check("mended")
}
