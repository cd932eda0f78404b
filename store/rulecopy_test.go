package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
)

// The triggers of migration 0033 and this package agree on an account's copy of its rules:
// for random sets of rules of every kind (enabled or not, firing or not), the copy the
// triggers leave on the row is the one EncodeRuleCopy writes, and it reads back as the
// enabled debit-path rules. Every kind the ledger cache evaluates has a letter; other kinds
// never reach the copy.
func TestRuleCopyMatchesTheTrigger(t *testing.T) {
	for _, k := range billing.CachedAlertKinds {
		if _, ok := store.RuleCopyCodes[k]; !ok {
			t.Fatalf("kind %s has no letter in the rules' copy", k)
		}
	}
	if len(store.RuleCopyCodes) != len(billing.CachedAlertKinds) {
		t.Fatalf("letters for %v, kinds on the debit path %v", store.RuleCopyCodes, billing.CachedAlertKinds)
	}
	db := pgtest.DB(t)
	ctx := context.Background()
	kinds := []string{billing.AlertBalanceBelow, billing.AlertBalanceBelowPercent, billing.AlertSpendPercent,
		billing.AlertCreditsExpiring, billing.AlertRechargeFailed, billing.AlertPaymentFailed}
	rng := rand.New(rand.NewPCG(22, 33))
	for i := 0; i < 40; i++ {
		acc := fmt.Sprintf("acc_rulecopy_%02d", i)
		if _, err := db.ExecContext(ctx, `INSERT INTO accounts (id, name) VALUES ($1, 'copy')`, acc); err != nil {
			t.Fatal(err)
		}
		var rules []billing.AlertRule
		for j := rng.IntN(7); j > 0; j-- {
			r := billing.AlertRule{ID: fmt.Sprintf("alr_rulecopy_%02d_%d", i, j), AccountID: acc, Kind: kinds[rng.IntN(len(kinds))],
				Enabled: rng.IntN(4) > 0, Firing: rng.IntN(3) == 0}
			switch r.Kind { // the bounds of alert_rules_threshold_check
			case billing.AlertBalanceBelow:
				r.Threshold = rng.Int64N(1_000_000_000_000_001)
			case billing.AlertBalanceBelowPercent:
				r.Threshold = 1 + rng.Int64N(100)
			case billing.AlertSpendPercent:
				r.Threshold = 1 + rng.Int64N(1000)
			case billing.AlertCreditsExpiring:
				r.Threshold = 1 + rng.Int64N(365)
			}
			rules = append(rules, r)
			if _, err := db.ExecContext(ctx, `INSERT INTO alert_rules (id, account_id, kind, threshold, channels, enabled, firing, created_at, updated_at)
				VALUES ($1, $2, $3, $4, '{in_app}', $5, $6, now(), now())`, r.ID, acc, r.Kind, r.Threshold, r.Enabled, r.Firing); err != nil {
				t.Fatal(err)
			}
		}
		if len(rules) > 0 && rng.IntN(2) == 0 { // a change after the insert: the update trigger
			r := &rules[rng.IntN(len(rules))]
			r.Firing, r.Enabled = !r.Firing, !r.Enabled
			if _, err := db.ExecContext(ctx, `UPDATE alert_rules SET firing = $2, enabled = $3 WHERE id = $1`, r.ID, r.Firing, r.Enabled); err != nil {
				t.Fatal(err)
			}
		}
		if len(rules) > 0 && rng.IntN(3) == 0 { // and the delete trigger
			k := rng.IntN(len(rules))
			if _, err := db.ExecContext(ctx, `DELETE FROM alert_rules WHERE id = $1`, rules[k].ID); err != nil {
				t.Fatal(err)
			}
			rules = append(rules[:k], rules[k+1:]...)
		}
		var got string
		if err := db.GetContext(ctx, &got, `SELECT debit_rules FROM accounts WHERE id = $1`, acc); err != nil {
			t.Fatal(err)
		}
		if want := store.EncodeRuleCopy(rules); got != want {
			t.Fatalf("account %d: the triggers wrote %q, want %q for %+v", i, got, want, rules)
		}
		back, err := store.ParseRuleCopy(acc, got)
		if err != nil {
			t.Fatal(err)
		}
		var want []billing.AlertRule
		for _, r := range rules {
			if r.Enabled && (r.Kind == billing.AlertBalanceBelow || r.Kind == billing.AlertBalanceBelowPercent || r.Kind == billing.AlertSpendPercent) {
				want = append(want, billing.AlertRule{AccountID: acc, Kind: r.Kind, Threshold: r.Threshold, Enabled: true, Firing: r.Firing})
			}
		}
		if store.EncodeRuleCopy(back) != got || len(back) != len(want) {
			t.Fatalf("account %d: %q read back as %+v, want %+v", i, got, back, want)
		}
	}
	for _, bad := range []string{",", "p", "!", "x20", "p20,", "p2x", "p20!!", "s-", "b99999999999999999999"} {
		if got, err := store.ParseRuleCopy("acc_x", bad); err == nil {
			t.Errorf("%q read as %+v, want an error", bad, got)
		}
	}
	if got, err := store.ParseRuleCopy("acc_x", "b5,p20!,s-3"); err != nil || !reflect.DeepEqual(got, []billing.AlertRule{
		{AccountID: "acc_x", Kind: billing.AlertBalanceBelow, Threshold: 5, Enabled: true},
		{AccountID: "acc_x", Kind: billing.AlertBalanceBelowPercent, Threshold: 20, Enabled: true, Firing: true},
		{AccountID: "acc_x", Kind: billing.AlertSpendPercent, Threshold: -3, Enabled: true}}) {
		t.Errorf("read %+v, %v", got, err)
	}
}

// The copy's reader never panics, and what it accepts it writes back in the canonical form,
// which reads again as the same rules.
func FuzzRuleCopy(f *testing.F) {
	for _, s := range []string{"", "p20,s100,s80", "b5!,p20", "s-1", "p", ",", "b1,,b2", "x9", "b99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := store.ParseRuleCopy("acc_fuzz", s)
		if err != nil {
			return
		}
		canon := store.EncodeRuleCopy(rules)
		again, err := store.ParseRuleCopy("acc_fuzz", canon)
		if err != nil || len(again) != len(rules) || store.EncodeRuleCopy(again) != canon {
			t.Fatalf("%q read as %+v, written %q, read again as %+v (%v)", s, rules, canon, again, err)
		}
	})
}
