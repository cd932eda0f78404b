package ledgertest

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
)

// Accounts a fresh process has not seen, asked for at once (as a million-account customer
// base asks a new server), are read together, not one statement each, and land in the ledger
// cache with their grants and rules: the debits that follow are decided lock-free without
// another read. An unknown account is not_found, and does not fail the others read with it.
func TestColdReadsAreShared(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(24 * time.Hour) // see TestMixedBatchDecidesPerAccount
	ctx := context.Background()
	const n = 60
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.account()
		e.grant(ids[i], "10", func(in *billing.GrantInput) { in.Source = "promo" })
	}
	fresh := billing.NewService(e.store, billing.Options{Now: e.clock.Now}) // nothing cached
	stats := fresh.LedgerStats()
	start := make(chan struct{})
	var wg sync.WaitGroup
	got := make([]billing.Account, n+1)
	errs := make([]error, n+1)
	for i := 0; i <= n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ref := "acc_nobody_here"
			if i < n {
				ref = ids[i]
			}
			<-start
			got[i], errs[i] = fresh.AccountSnapshot(ctx, ref)
		}(i)
	}
	close(start)
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil || got[i].ID != ids[i] || got[i].Balance != c("10") {
			t.Fatalf("account %d: %+v, %v", i, got[i], errs[i])
		}
	}
	if billing.ErrorCode(errs[n]) != billing.ENotFound {
		t.Fatalf("unknown account: %v, want not_found", errs[n])
	}
	reads := stats.ColdReads.Load()
	if reads < 1 || reads > n/4 {
		t.Fatalf("%d cold reads for %d accounts asked for at once, want them shared (at most %d)", reads, n+1, n/4)
	}
	if fresh.LedgerCacheLen() != n {
		t.Fatalf("ledger cache holds %d accounts, want the %d read", fresh.LedgerCacheLen(), n)
	}

	ins := make([]billing.DebitInput, n)
	for i, id := range ids {
		ins[i] = billing.DebitInput{AccountID: id, Amount: c("1"), IdempotencyKey: key()}
	}
	lockFree, locked := stats.LockFree.Load(), stats.Locked.Load()
	outs, err := fresh.DebitBatch(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if o.Err != nil || o.Debit.BalanceAfter != c("9") {
			t.Fatalf("debit %d: %+v", i, o)
		}
	}
	if stats.ColdReads.Load() != reads || stats.LockFree.Load() != lockFree+1 || stats.Locked.Load() != locked {
		t.Fatalf("cold reads %d -> %d, lock-free %d -> %d, locked %d -> %d: want one lock-free statement and no read",
			reads, stats.ColdReads.Load(), lockFree, stats.LockFree.Load(), locked, stats.Locked.Load())
	}
}

// LedgerAccounts reads, in one statement, what the ledger cache keeps: the same accounts and
// live grants (in the order the ledger draws them, times to the microsecond) as
// LedgerAccountsAfter (the warm-up's read: three statements in one snapshot), and the enabled
// rules of the kinds the debit path evaluates, as the rules list has them.
func TestLedgerAccountsMatchesTheWarmUpRead(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	a, b := e.account(), e.account()
	later := now.Add(36*time.Hour + 123456*time.Microsecond)
	prio := 5
	e.grant(a, "3")
	e.grant(a, "4", func(in *billing.GrantInput) { in.ExpiresAt = &later })
	e.grant(a, "2", func(in *billing.GrantInput) { in.Priority = &prio; in.Source = "promo" })
	e.grant(a, "1", func(in *billing.GrantInput) { in.Source = "promo" })
	e.grant(b, "7")
	if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: a, Amount: c("1"), IdempotencyKey: key()}); err != nil {
		t.Fatal(err)
	}
	op := billing.Op{Actor: billing.UserActor("usr_test")}
	off := false
	rule, err := e.svc.CreateAlertRule(ctx, a, billing.AlertRuleInput{Kind: billing.AlertBalanceBelow, Threshold: "2", Channels: []string{"in_app"}}, op)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateAlertRule(ctx, a, rule.ID, billing.AlertRuleInput{Kind: billing.AlertBalanceBelow, Threshold: "2", Channels: []string{"in_app"}, Enabled: &off}, op); err != nil {
		t.Fatal(err)
	}

	accs, grants, rules, err := e.store.LedgerAccounts(ctx, []string{a, b, "acc_nobody_here"})
	if err != nil {
		t.Fatal(err)
	}
	wAccs, wGrants, _, err := e.store.LedgerAccountsAfter(ctx, "", 100_000)
	if err != nil {
		t.Fatal(err)
	}
	keep := func(id string) bool { return id == a || id == b } // the database is the package's
	wAccs = slices.DeleteFunc(wAccs, func(x billing.Account) bool { return !keep(x.ID) })
	wGrants = slices.DeleteFunc(wGrants, func(x billing.Grant) bool { return !keep(x.AccountID) })
	if len(accs) != 2 || accs[0].ID != a || accs[1].ID != b || !reflect.DeepEqual(accs, wAccs) {
		t.Fatalf("accounts:\n%+v\nwant\n%+v", accs, wAccs)
	}
	if len(grants) != len(wGrants) || len(grants) < 4 {
		t.Fatalf("%d grants, want the %d live ones (at least 4): %+v", len(grants), len(wGrants), grants)
	}
	for i, g := range grants {
		w := wGrants[i]
		same := g.ID == w.ID && g.AccountID == w.AccountID && g.Source == w.Source && g.Amount == w.Amount &&
			g.Remaining == w.Remaining && g.Priority == w.Priority && g.EffectiveAt.Equal(w.EffectiveAt) &&
			g.CreatedAt.Equal(w.CreatedAt) && equalTime(g.ExpiresAt, w.ExpiresAt) && equalTime(g.ExpiredAt, w.ExpiredAt)
		if !same {
			t.Fatalf("grant %d:\n%+v\nwant\n%+v", i, g, w)
		}
		if g.ExpiresAt != nil && !g.ExpiresAt.Equal(later) {
			t.Fatalf("expiry read as %v, want %v", g.ExpiresAt, later)
		}
	}
	var want []billing.AlertRule
	for _, id := range []string{a, b} {
		all, err := e.store.ListAlertRules(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			if r.Enabled && slices.Contains(billing.CachedAlertKinds, r.Kind) {
				want = append(want, billing.AlertRule{AccountID: r.AccountID, Kind: r.Kind, Threshold: r.Threshold, Enabled: true, Firing: r.Firing})
			}
		}
	}
	byRule := func(x, y billing.AlertRule) int { // a copy carries no rule ids (store/rulecopy.go)
		return cmp.Or(cmp.Compare(x.AccountID, y.AccountID), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Threshold, y.Threshold))
	}
	slices.SortFunc(want, byRule)
	slices.SortFunc(rules, byRule)
	if len(want) == 0 || !reflect.DeepEqual(rules, want) {
		t.Fatalf("rules:\n%+v\nwant\n%+v", rules, want)
	}
	for _, r := range rules {
		if r.Kind == rule.Kind {
			t.Fatalf("disabled rule read: %+v", r)
		}
	}
}

func equalTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// A cached copy that stopped routing (notifications were lost, so its epoch ended) is read
// again once and then routes again: an unchanged account is not read on every request.
func TestColdReadRenewsAnUnchangedCopy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "5")
	fresh := billing.NewService(e.store, billing.Options{Now: e.clock.Now})
	stats := fresh.LedgerStats()
	snap := func() {
		t.Helper()
		if a, err := fresh.AccountSnapshot(ctx, acc); err != nil || a.ID != acc {
			t.Fatalf("snapshot: %+v %v", a, err)
		}
	}
	snap() // read, cached
	snap()
	if n := stats.ColdReads.Load(); n != 1 {
		t.Fatalf("%d cold reads for two snapshots of one account, want 1", n)
	}
	fresh.ForgetAccounts() // the listener's connection was lost: no copy routes
	snap()
	snap()
	snap()
	if n := stats.ColdReads.Load(); n != 2 {
		t.Fatalf("%d cold reads, want 2: the read after the loss renews the unchanged copy", n)
	}
}

// gatedStore holds every LedgerAccounts answer, once read, until gate is closed: a cold read
// then straddles whatever the test does meanwhile.
type gatedStore struct {
	*store.Store
	read chan struct{} // one send per read, once the rows are read
	gate chan struct{}
}

func (g *gatedStore) LedgerAccounts(ctx context.Context, ids []string) ([]billing.Account, []billing.Grant, []billing.AlertRule, error) {
	accs, grants, rules, err := g.Store.LedgerAccounts(ctx, ids)
	g.read <- struct{}{}
	<-g.gate
	return accs, grants, rules, err
}

// A cold read that began before this instance changed the account (here: suspended it) is
// not what a later request gets, and not what the ledger cache keeps: a miss after the change
// waits for a read of its own, and the old state is not recorded, so routing sees the change
// at once, not when its notification arrives.
func TestColdReadStraddlingALocalChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, joinAfter := range []bool{false, true} {
		acc := e.account()
		e.grant(acc, "5")
		g := &gatedStore{Store: e.store, read: make(chan struct{}, 8), gate: make(chan struct{})}
		fresh := billing.NewService(g, billing.Options{Now: e.clock.Now})
		first := make(chan billing.Account, 1)
		go func() {
			a, err := fresh.AccountSnapshot(ctx, acc)
			if err != nil {
				t.Error(err)
			}
			first <- a
		}()
		<-g.read // read as active, not answered yet
		if err := fresh.SetAccountStatus(ctx, acc, billing.StatusSuspended, "test"); err != nil {
			t.Fatal(err)
		}
		later := make(chan billing.Account, 1)
		if joinAfter {
			go func() {
				a, err := fresh.AccountSnapshot(ctx, acc)
				if err != nil {
					t.Error(err)
				}
				later <- a
			}()
			time.Sleep(50 * time.Millisecond) // let it join the read in flight, if it would
		}
		close(g.gate)
		if a := <-first; a.Status != billing.StatusActive {
			t.Fatalf("the request made before the change: %s", a.Status)
		}
		if joinAfter {
			if a := <-later; a.Status != billing.StatusSuspended {
				t.Fatalf("a request made after the change got the read begun before it: %s", a.Status)
			}
		}
		a, err := fresh.AccountSnapshot(ctx, acc)
		if err != nil || a.Status != billing.StatusSuspended {
			t.Fatalf("after the change, join %v: %s %v (a state read before the change was kept)", joinAfter, a.Status, err)
		}
	}
}
