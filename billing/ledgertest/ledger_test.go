package ledgertest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
)

func TestConsumptionOrderAndAllocations(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	ctx := context.Background()
	in := func(d time.Duration) func(*billing.GrantInput) {
		return func(g *billing.GrantInput) { x := e.clock.Now().Add(d); g.ExpiresAt = &x }
	}
	never := e.grant(acc, "10")                                                         // purchase, never expires
	late := e.grant(acc, "10", in(48*time.Hour))                                        // purchase, expires later
	soon := e.grant(acc, "10", in(24*time.Hour))                                        // purchase, expires sooner
	promo := e.grant(acc, "5", func(g *billing.GrantInput) { g.Source = "promo" })      // priority 10
	sub := e.grant(acc, "5", func(g *billing.GrantInput) { g.Source = "subscription" }) // priority 20
	e.clock.Advance(time.Millisecond)
	out, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("27"), IdempotencyKey: "order"})
	if err != nil {
		t.Fatal(err)
	}
	// promo 5, subscription 5, soon 10, late 7, never untouched.
	want := map[string]billing.Credits{promo.ID: 0, sub.ID: 0, soon.ID: 0, late.ID: c("3"), never.ID: c("10")}
	rows, err := e.store.UsableGrants(ctx, acc, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]billing.Credits{promo.ID: 0, sub.ID: 0, soon.ID: 0}
	for _, g := range rows {
		got[g.ID] = g.Remaining
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("grant %s remaining %s, want %s", id, got[id], w)
		}
	}
	var allocs []struct {
		GrantID string          `db:"grant_id"`
		Amount  billing.Credits `db:"amount"`
	}
	if err := e.db.Select(&allocs, `SELECT grant_id, -amount AS amount FROM ledger_entries WHERE debit_id = $1 ORDER BY id`, out.Debit.ID); err != nil {
		t.Fatal(err)
	}
	order := []string{promo.ID, sub.ID, soon.ID, late.ID}
	if len(allocs) != 4 {
		t.Fatalf("allocations %+v", allocs)
	}
	for i, a := range allocs {
		if a.GrantID != order[i] {
			t.Errorf("allocation %d from %s, want %s", i, a.GrantID, order[i])
		}
	}
}

func TestExpiredGrantStopsCountingAtOnceAndSweepWritesBreakage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	exp := e.clock.Now().Add(time.Hour)
	g := e.grant(acc, "30", func(in *billing.GrantInput) { in.ExpiresAt = &exp })
	e.grant(acc, "5")
	if b := e.balance(acc); b.Balance != c("35") {
		t.Fatalf("before expiry %s", b.Balance)
	}
	e.clock.Advance(time.Hour)
	if b := e.balance(acc); b.Balance != c("5") || b.Available != c("5") || len(b.Grants) != 1 {
		t.Fatalf("at expiry the read must drop the expired grant: %+v", b)
	}
	// A debit in the same instant can not use it either.
	if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("6"), IdempotencyKey: key()}); billing.ErrorCode(err) != billing.EInsufficient {
		t.Fatalf("debit against expired credits: %v", err)
	}
	// The debit transaction above already swept this account; the periodic sweep finds nothing.
	var expired billing.Credits
	if err := e.db.Get(&expired, `SELECT -sum(amount) FROM ledger_entries WHERE grant_id = $1 AND kind = 'expire'`, g.ID); err != nil || expired != c("30") {
		t.Fatalf("breakage %s, %v", expired, err)
	}
	// A second account whose grant expires with no debit is swept by the job sweep.
	acc2 := e.account()
	exp2 := e.clock.Now().Add(time.Minute)
	e.grant(acc2, "12", func(in *billing.GrantInput) { in.ExpiresAt = &exp2 })
	e.clock.Advance(2 * time.Minute)
	n, err := e.svc.ExpireGrants(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	a2, _ := e.store.AccountByID(ctx, acc2)
	if a2.Balance != 0 {
		t.Fatalf("cached balance after sweep %s", a2.Balance)
	}
}

func TestHolds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "100")
	reserve := func(amt string, ttl time.Duration) (billing.HoldResult, error) {
		return e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c(amt), TTL: ttl, IdempotencyKey: key()})
	}
	h, err := reserve("40", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if b := e.balance(acc); b.Balance != c("100") || b.Reserved != c("40") || b.Available != c("60") {
		t.Fatalf("after hold %+v", b)
	}
	if _, err := reserve("61", time.Hour); billing.ErrorCode(err) != billing.EInsufficient {
		t.Fatalf("hold beyond available: %v", err)
	}
	// Commit for less: 25 charged, 15 released.
	out, err := e.svc.CommitHold(ctx, billing.CommitInput{HoldID: h.Hold.ID, Amount: c("25"), IdempotencyKey: "commit-1"})
	if err != nil || out.Debit.Amount != c("25") || out.Debit.Capped() {
		t.Fatalf("commit: %+v %v", out, err)
	}
	if b := e.balance(acc); b.Balance != c("75") || b.Reserved != 0 {
		t.Fatalf("after commit %+v", b)
	}
	again, err := e.svc.CommitHold(ctx, billing.CommitInput{HoldID: h.Hold.ID, Amount: c("25"), IdempotencyKey: "commit-1"})
	if err != nil || !again.Replayed || again.Debit.ID != out.Debit.ID {
		t.Fatalf("commit replay: %+v %v", again, err)
	}
	if _, err := e.svc.CommitHold(ctx, billing.CommitInput{HoldID: h.Hold.ID, Amount: c("25"), IdempotencyKey: "commit-2"}); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("second commit of a committed hold: %v", err)
	}
	// Release.
	h2, _ := reserve("10", time.Hour)
	if r, err := e.svc.ReleaseHold(ctx, h2.Hold.ID, acc, "test"); err != nil || r.Status != billing.HoldReleased {
		t.Fatalf("release: %+v %v", r, err)
	}
	if b := e.balance(acc); b.Available != c("75") {
		t.Fatalf("after release %+v", b)
	}
	// Over-commit capped at hold + available: hold 20, 55 more available, actual 90 -> 75 charged.
	h3, _ := reserve("20", time.Hour)
	out, err = e.svc.CommitHold(ctx, billing.CommitInput{HoldID: h3.Hold.ID, Amount: c("90"), IdempotencyKey: key()})
	if err != nil || out.Debit.Amount != c("75") || out.Debit.Requested != c("90") || !out.Debit.Capped() {
		t.Fatalf("capped commit: %+v %v", out.Debit, err)
	}
	if b := e.balance(acc); b.Balance != 0 {
		t.Fatalf("after capped commit %+v", b)
	}
	// Scoped to another account: not found.
	other := e.account()
	if _, err := e.svc.ReleaseHold(ctx, h3.Hold.ID, other, "x"); billing.ErrorCode(err) != billing.ENotFound {
		t.Fatalf("foreign hold: %v", err)
	}
}

func TestHoldExpiresThroughTheJobWorker(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "10")
	w := e.svc.NewWorker(nil)
	for w.RunDue(ctx) > 0 { // what earlier tests left due in the shared database (alert mail)
	}
	h, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("4"), TTL: time.Second, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	if n := w.RunDue(ctx); n != 0 {
		t.Fatalf("%d jobs ran before the TTL", n)
	}
	e.clock.Advance(1500 * time.Millisecond)
	if n := w.RunDue(ctx); n < 1 {
		t.Fatal("the hold expiry job did not run")
	}
	got, _ := e.store.HoldByID(ctx, h.Hold.ID)
	if got.Status != billing.HoldExpired {
		t.Fatalf("hold status %s", got.Status)
	}
	if b := e.balance(acc); b.Reserved != 0 || b.Available != c("10") {
		t.Fatalf("after expiry %+v", b)
	}
	// A commit after expiry is refused, and the job is idempotent.
	if _, err := e.svc.CommitHold(ctx, billing.CommitInput{HoldID: h.Hold.ID, Amount: c("1"), IdempotencyKey: key()}); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("commit after expiry: %v", err)
	}
	if ok, err := e.svc.ExpireHold(ctx, h.Hold.ID); ok || err != nil {
		t.Fatalf("expire twice: %v %v", ok, err)
	}
}

func TestRevokeAdjustAndOverdraftRepayment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	g := e.grant(acc, "50")
	if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("20"), IdempotencyKey: key()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Revoke(ctx, billing.RevokeInput{GrantID: g.ID}); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("revoke without reason: %v", err)
	}
	r, err := e.svc.Revoke(ctx, billing.RevokeInput{GrantID: g.ID, Amount: c("40"), Reason: "refund"})
	if err != nil || r.Revoked != c("30") || r.Shortfall != c("10") {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	if _, err := e.svc.Adjust(ctx, billing.AdjustInput{GrantID: g.ID, Amount: c("60"), Reason: "x"}); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("adjust above amount: %v", err)
	}
	if _, err := e.svc.Adjust(ctx, billing.AdjustInput{GrantID: g.ID, Amount: c("5"), Reason: "goodwill"}); err != nil {
		t.Fatal(err)
	}
	// Overdraft: limit 20, spend 15 beyond the 5 left; a new grant repays the debt first.
	if err := e.svc.SetOverdraftLimit(ctx, acc, c("20")); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("20"), IdempotencyKey: key()})
	if err != nil || out.Debit.Overdraft != c("15") || out.Debit.BalanceAfter != c("-15") {
		t.Fatalf("overdraft debit: %+v %v", out.Debit, err)
	}
	if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("6"), IdempotencyKey: key()}); billing.ErrorCode(err) != billing.EInsufficient {
		t.Fatalf("beyond overdraft limit: %v", err)
	}
	e.grant(acc, "100")
	if b := e.balance(acc); b.Balance != c("85") {
		t.Fatalf("after repayment balance %s, want 85", b.Balance)
	}
}

func TestLedgerRefusesUpdateAndDelete(t *testing.T) {
	e := newEnv(t)
	e.grant(e.account(), "1")
	for _, q := range []string{`UPDATE ledger_entries SET amount = amount + 1`, `DELETE FROM ledger_entries`, `TRUNCATE ledger_entries CASCADE`} {
		if _, err := e.db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// failingTx fails one write after the earlier writes of the same transaction ran.
type failingStore struct {
	*store.Store
	failAt string
}

type failingTx struct {
	billing.Tx
	failAt string
}

var errCrash = errors.New("crash between steps")

func (s failingStore) InTx(ctx context.Context, fn func(billing.Tx) error) error {
	return s.Store.InTx(ctx, func(tx billing.Tx) error { return fn(failingTx{tx, s.failAt}) })
}

// WriteLedger fails after the transaction's earlier writes (new grants, holds) ran, or
// after its own statement ran ("after-write"), just before commit.
func (t failingTx) WriteLedger(ctx context.Context, w billing.LedgerWrites) error {
	if t.failAt == "before-write" {
		return errCrash
	}
	if err := t.Tx.WriteLedger(ctx, w); err != nil {
		return err
	}
	return errCrash
}

func TestTransactionCancelledHalfWayLeavesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "50")
	count := func() (n int) {
		e.db.Get(&n, `SELECT (SELECT count(*) FROM debits) + (SELECT count(*) FROM ledger_entries) + (SELECT count(*) FROM holds) + (SELECT count(*) FROM grants)`)
		return
	}
	before, bal := count(), e.balance(acc)
	for _, at := range []string{"before-write", "after-write"} {
		// Locked: the lock-free path writes with one statement, which cannot fail half-way.
		svc := billing.NewService(failingStore{e.store, at}, billing.Options{Now: e.clock.Now, LockedDebits: true})
		if _, err := svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("10"), IdempotencyKey: "crash"}); !errors.Is(err, errCrash) {
			t.Fatalf("%s: %v", at, err)
		}
		if _, err := svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("10"), TTL: time.Hour, IdempotencyKey: "crash"}); !errors.Is(err, errCrash) {
			t.Fatalf("%s: %v", at, err)
		}
		if _, err := svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "promo", Amount: c("10"), IdempotencyKey: "crash"}); !errors.Is(err, errCrash) {
			t.Fatalf("%s: %v", at, err)
		}
	}
	// A context cancelled mid-transaction rolls back too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.svc.Debit(cctx, billing.DebitInput{AccountID: acc, Amount: c("10"), IdempotencyKey: "cancelled"}); err == nil {
		t.Fatal("debit with a cancelled context succeeded")
	}
	if count() != before || e.balance(acc).Balance != bal.Balance {
		t.Fatalf("rows %d -> %d, balance %s -> %s", before, count(), bal.Balance, e.balance(acc).Balance)
	}
	// The key was never used, so it works now.
	if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("10"), IdempotencyKey: "crash"}); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyReportsBrokenInvariants(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	g := e.grant(acc, "10")
	if _, err := e.db.Exec(`UPDATE grants SET remaining = 7 WHERE id = $1`, g.ID); err != nil {
		t.Fatal(err)
	}
	vs, err := e.svc.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var inv1, inv2 bool
	for _, v := range vs {
		inv1 = inv1 || (v.AccountID == acc && v.Invariant == 1)
		inv2 = inv2 || (v.AccountID == acc && v.Invariant == 2)
	}
	if !inv1 || !inv2 {
		t.Fatalf("violations %v", vs)
	}
	// Repair so the cleanup verify passes.
	if _, err := e.db.Exec(`UPDATE grants SET remaining = 10000 WHERE id = $1`, g.ID); err != nil {
		t.Fatal(err)
	}
}

// Credits that back a hold may expire or be revoked; the newest holds shrink so available
// never goes below the overdraft limit, and a later commit is capped by what is left.
func TestHoldsShrinkWhenTheirCreditsExpireOrAreRevoked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	exp := e.clock.Now().Add(time.Hour)
	g := e.grant(acc, "50", func(in *billing.GrantInput) { in.ExpiresAt = &exp })
	keep := e.grant(acc, "10")
	old, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("15"), TTL: 3 * time.Hour, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Millisecond)
	young, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("25"), TTL: 3 * time.Hour, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	_ = g
	e.clock.Advance(time.Hour) // 50 expire: 10 left for 40 reserved -> shrink the newest hold first
	if _, err := e.svc.ExpireGrants(ctx); err != nil {
		t.Fatal(err)
	}
	y, _ := e.store.HoldByID(ctx, young.Hold.ID)
	o, _ := e.store.HoldByID(ctx, old.Hold.ID)
	if y.Status != billing.HoldReleased || o.Status != billing.HoldActive || o.Amount != c("10") {
		t.Fatalf("young %s %s, old %s %s", y.Status, y.Amount, o.Status, o.Amount)
	}
	if b := e.balance(acc); b.Balance != c("10") || b.Reserved != c("10") || b.Available != 0 {
		t.Fatalf("after expiry %+v", b)
	}
	// Revoking the remaining grant shrinks the old hold to nothing.
	if _, err := e.svc.Revoke(ctx, billing.RevokeInput{GrantID: keep.ID, Amount: c("4"), Reason: "refund"}); err != nil {
		t.Fatal(err)
	}
	o, _ = e.store.HoldByID(ctx, old.Hold.ID)
	if o.Amount != c("6") {
		t.Fatalf("old hold %s after revoke, want 6", o.Amount)
	}
	out, err := e.svc.CommitHold(ctx, billing.CommitInput{HoldID: old.Hold.ID, Amount: c("15"), IdempotencyKey: key()})
	if err != nil || out.Debit.Amount != c("6") || !out.Debit.Capped() {
		t.Fatalf("commit after shrink: %+v %v", out.Debit, err)
	}
}

func TestFinishedJobsArePruned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "10")
	if _, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("1"), TTL: time.Second, IdempotencyKey: key()}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second)
	if n := e.svc.NewWorker(nil).RunDue(ctx); n < 1 {
		t.Fatal("expiry job did not run")
	}
	count := func() (n int) { e.db.Get(&n, `SELECT count(*) FROM jobs WHERE status = 'done'`); return }
	done := count()
	if n, err := e.store.PruneJobs(ctx, e.clock.Now().Add(-time.Hour), 100000); err != nil || n != 0 {
		t.Fatalf("pruned %d recent jobs, %v", n, err)
	}
	if n, err := e.store.PruneJobs(ctx, e.clock.Now().Add(8*24*time.Hour), 100000); err != nil || n < 1 || count() != done-int(n) {
		t.Fatalf("pruned %d, %v", n, err)
	}
}
