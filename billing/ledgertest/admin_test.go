package ledgertest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"creditline/billing"
)

func op(reason, k string) billing.Op {
	return billing.Op{Actor: billing.UserActor("usr_admin"), RequestID: "req-1", Reason: reason, IdempotencyKey: k}
}

func (e *env) revoke(acc, grantID string, credits *billing.Credits, o billing.Op) (billing.RevokeGrantResult, error) {
	return e.svc.RevokeGrant(context.Background(), billing.RevokeGrantInput{AccountID: acc, GrantID: grantID, Credits: credits, Op: o})
}

func (e *env) auditOf(acc string) []billing.AuditEntry {
	e.t.Helper()
	p, err := e.svc.AuditLog(context.Background(), billing.AuditFilter{AccountID: acc, Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Entries
}

// Many operators revoking one credit each from a grant of ten: exactly ten succeed, the
// grant ends at zero and never below, and each success has its ledger and audit entry.
func TestRevokeGrantConcurrentlyNeverBelowZero(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	g := e.grant(acc, "10")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var revoked billing.Credits
	var ok, refused int
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			one := c("1")
			r, err := e.revoke(acc, g.ID, &one, op("abuse", key()))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
				revoked += r.Revoked
			case billing.ErrorCode(err) == billing.EInvalid:
				refused++
			default:
				t.Errorf("revoke: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 10 || refused != 14 || revoked != c("10") {
		t.Fatalf("ok %d refused %d revoked %s; want 10, 14, 10", ok, refused, revoked)
	}
	if b := e.balance(acc); b.Balance != 0 {
		t.Fatalf("balance %s after revoking everything", b.Balance)
	}
	if n := len(e.auditOf(acc)); n != 10 {
		t.Fatalf("%d audit entries, want 10", n)
	}
}

// Revoking "everything that remains" twice at once takes it once.
func TestRevokeAllConcurrentlyTakesTheRemainderOnce(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	g := e.grant(acc, "7.5")
	if _, err := debitOn(t, e.svc, acc, "2.5", key(), false); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total billing.Credits
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.revoke(acc, g.ID, nil, op("closing the account", key()))
			if err != nil && billing.ErrorCode(err) != billing.EInvalid {
				t.Errorf("revoke: %v", err)
			}
			mu.Lock()
			total += r.Revoked
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != c("5") {
		t.Fatalf("revoked %s in total, want the 5 that remained", total)
	}
}

func TestRevokeGrantIsIdempotentByKey(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	g := e.grant(acc, "10")
	three := c("3")
	first, err := e.revoke(acc, g.ID, &three, op("goodwill reversed", "rv-1"))
	if err != nil || first.Replayed || first.Grant.Remaining != c("7") {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := e.revoke(acc, g.ID, &three, op("goodwill reversed", "rv-1"))
	if err != nil || !again.Replayed || again.Grant.Remaining != c("7") || again.Revoked != three {
		t.Fatalf("replay: %+v %v", again, err)
	}
	four := c("4")
	if _, err := e.revoke(acc, g.ID, &four, op("goodwill reversed", "rv-1")); billing.ErrorCode(err) != billing.EIdempotencyConflict {
		t.Fatalf("same key, other amount: %v", err)
	}
	if b := e.balance(acc); b.Balance != c("7") {
		t.Fatalf("balance %s, want 7 (revoked once)", b.Balance)
	}
	if n := len(e.auditOf(acc)); n != 1 {
		t.Fatalf("%d audit entries, want 1", n)
	}
}

func TestRevokeGrantRefusalsChangeNothing(t *testing.T) {
	e := newEnv(t)
	acc, other := e.account(), e.account()
	g := e.grant(acc, "10")
	eleven, zero := c("11"), c("0")
	cases := []struct {
		name    string
		acc     string
		credits *billing.Credits
		o       billing.Op
		code    string
		field   string
	}{
		{"more than remains", acc, &eleven, op("x", key()), billing.EInvalid, "credits"},
		{"zero", acc, &zero, op("x", key()), billing.EInvalid, "credits"},
		{"no reason", acc, nil, op("  ", key()), billing.EInvalid, "reason"},
		{"no key", acc, nil, op("x", ""), billing.EInvalid, "idempotency_key"},
		{"another account's grant", other, nil, op("x", key()), billing.ENotFound, ""},
	}
	for _, tc := range cases {
		_, err := e.revoke(tc.acc, g.ID, tc.credits, tc.o)
		if billing.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			continue
		}
		var be *billing.Error
		if tc.field != "" && (!errors.As(err, &be) || be.Fields[tc.field] == "") {
			t.Errorf("%s: %v does not name %s", tc.name, err, tc.field)
		}
	}
	if b := e.balance(acc); b.Balance != c("10") {
		t.Fatalf("balance %s after refusals", b.Balance)
	}
	if n := len(e.auditOf(acc)); n != 0 {
		t.Fatalf("%d audit entries after refusals", n)
	}
}

// A revoke that takes credits reserved by a hold shrinks the hold (available never below
// -overdraft_limit), which verify checks at cleanup.
func TestRevokeGrantShrinksHolds(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	g := e.grant(acc, "10")
	if _, err := e.svc.Reserve(context.Background(), billing.ReserveInput{AccountID: acc, Amount: c("8"), IdempotencyKey: key(), TTL: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	six := c("6")
	if _, err := e.revoke(acc, g.ID, &six, op("chargeback", key())); err != nil {
		t.Fatal(err)
	}
	if b := e.balance(acc); b.Balance != c("4") || b.Reserved != c("4") || b.Available != 0 {
		t.Fatalf("after revoke: balance %s reserved %s available %s", b.Balance, b.Reserved, b.Available)
	}
}

func strp(s string) *string { return &s }

func (e *env) seedPlans() {
	e.t.Helper()
	if err := e.svc.SeedCatalog(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func TestUpdateAccountAuditsBeforeAndAfter(t *testing.T) {
	e := newEnv(t)
	e.seedPlans()
	ctx := context.Background()
	acc := e.account()
	res, err := e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, Plan: strp("pro"), Status: strp(billing.StatusSuspended),
		SpendLimit: &billing.SpendLimitChange{Credits: c("100"), Mode: billing.SpendHard}, Op: op("card testing from this account", "up-1")})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Account
	if a.PlanKey != "pro" || a.Status != billing.StatusSuspended || a.StatusReason != "card testing from this account" || a.SpendLimit == nil || *a.SpendLimit != c("100") {
		t.Fatalf("account after update: %+v", a)
	}
	stored, _ := e.store.AccountByID(ctx, acc)
	if stored.PlanKey != "pro" || stored.Status != billing.StatusSuspended {
		t.Fatalf("stored: %+v", stored)
	}
	if _, err := debitOn(t, e.svc, acc, "0", key(), true); billing.ErrorCode(err) != billing.EAccountSuspended {
		t.Fatalf("debit on a suspended account: %v", err)
	}
	es := e.auditOf(acc)
	if len(es) != 1 || es[0].Action != billing.AuditAccountUpdate || es[0].ActorKind != billing.ActorUser || es[0].RequestID != "req-1" {
		t.Fatalf("audit: %+v", es)
	}
	var before, after billing.AccountSettings
	_ = json.Unmarshal(es[0].Before, &before)
	_ = json.Unmarshal(es[0].After, &after)
	if before.Plan != "free" || after.Plan != "pro" || before.Status != "active" || after.Status != "suspended" {
		t.Fatalf("before %+v after %+v", before, after)
	}
	// The same key again is a replay: no second entry.
	if r, err := e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, Plan: strp("pro"), Status: strp(billing.StatusSuspended),
		SpendLimit: &billing.SpendLimitChange{Credits: c("100"), Mode: billing.SpendHard}, Op: op("card testing from this account", "up-1")}); err != nil || !r.Replayed {
		t.Fatalf("replay: %+v %v", r, err)
	}
	// Reinstating clears the reason; clearing the limit removes it.
	res, err = e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, Status: strp(billing.StatusActive), SpendLimit: &billing.SpendLimitChange{Clear: true}, Op: op("verified", "")})
	if err != nil || res.Account.Status != billing.StatusActive || res.Account.StatusReason != "" || res.Account.SpendLimit != nil {
		t.Fatalf("reinstate: %+v %v", res.Account, err)
	}
	if n := len(e.auditOf(acc)); n != 2 {
		t.Fatalf("%d audit entries, want 2", n)
	}
}

func TestUpdateAccountRefusals(t *testing.T) {
	e := newEnv(t)
	e.seedPlans()
	ctx := context.Background()
	acc := e.account()
	if _, err := e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, OverdraftLimit: ptrC(c("50")), Op: op("enterprise line", "")}); err != nil {
		t.Fatal(err)
	}
	if _, err := debitOn(t, e.svc, acc, "30", key(), true); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		u    billing.AccountUpdate
		code string
	}{
		{"overdraft below the debt", billing.AccountUpdate{OverdraftLimit: ptrC(c("20")), Op: op("x", "")}, billing.EInvalid},
		{"no reason", billing.AccountUpdate{Plan: strp("pro")}, billing.EInvalid},
		{"reason too long", billing.AccountUpdate{Plan: strp("pro"), Op: op(string(make([]byte, 501)), "")}, billing.EInvalid},
		{"unknown plan", billing.AccountUpdate{Plan: strp("gold"), Op: op("x", "")}, billing.EInvalid},
		{"nothing to change", billing.AccountUpdate{Op: op("x", "")}, billing.EInvalid},
		{"bad mode", billing.AccountUpdate{SpendLimit: &billing.SpendLimitChange{Credits: c("1"), Mode: "loud"}, Op: op("x", "")}, billing.EInvalid},
		{"account key setting a plan", billing.AccountUpdate{Plan: strp("pro"), Scope: billing.ScopeAccountKey, Op: op("x", "")}, billing.EForbidden},
		{"account key suspending", billing.AccountUpdate{Status: strp("suspended"), Scope: billing.ScopeAccountKey, Op: op("x", "")}, billing.EForbidden},
	}
	for _, tc := range cases {
		tc.u.AccountID = acc
		if _, err := e.svc.UpdateAccount(ctx, tc.u); billing.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	a, _ := e.store.AccountByID(ctx, acc)
	if a.OverdraftLimit != c("50") || a.PlanKey != "free" {
		t.Fatalf("refusals changed the account: %+v", a)
	}
	if n := len(e.auditOf(acc)); n != 1 {
		t.Fatalf("%d audit entries, want 1", n)
	}
	// An account key cannot lift an operator's suspension.
	if _, err := e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, Status: strp("suspended"), Op: op("fraud", "")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, Status: strp("active"), Scope: billing.ScopeAccountKey, Op: op("x", "")}); billing.ErrorCode(err) != billing.EAccountSuspended {
		t.Fatalf("account key reinstating: %v", err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	g := e.grant(acc, "1")
	if _, err := e.revoke(acc, g.ID, nil, op("x", key())); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_log SET reason = 'y'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := e.db.Exec(q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
}

func TestAuditedGrantAndFilters(t *testing.T) {
	e := newEnv(t)
	e.seedPlans()
	ctx := context.Background()
	acc := e.account()
	in := billing.GrantInput{AccountID: acc, Source: "promo", Amount: c("5"), IdempotencyKey: "g-1", Reason: "launch promo"}
	keyOp := billing.Op{Actor: billing.KeyActor("key_1"), RequestID: "r"}
	for i := 0; i < 2; i++ { // the replay writes no second entry
		if _, err := e.svc.AuditedGrant(ctx, in, keyOp); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, Plan: strp("basic"), Op: op("invoiced", "")}); err != nil {
		t.Fatal(err)
	}
	keys, _ := billing.ParseActor("key:key_1")
	p, err := e.svc.AuditLog(ctx, billing.AuditFilter{Actor: &keys, Limit: 10})
	if err != nil || len(p.Entries) != 1 || p.Entries[0].Action != billing.AuditGrant || p.Entries[0].Reason != "launch promo" {
		t.Fatalf("by key: %+v %v", p.Entries, err)
	}
	// Pagination: one per page, newest first.
	p1, _ := e.svc.AuditLog(ctx, billing.AuditFilter{AccountID: acc, Limit: 1})
	p2, _ := e.svc.AuditLog(ctx, billing.AuditFilter{AccountID: acc, Limit: 1, BeforeID: p1.Next})
	if len(p1.Entries) != 1 || p1.Entries[0].Action != billing.AuditAccountUpdate || p1.Next == 0 ||
		len(p2.Entries) != 1 || p2.Entries[0].Action != billing.AuditGrant || p2.Next != 0 {
		t.Fatalf("pages: %+v / %+v", p1, p2)
	}
}

func ptrC(v billing.Credits) *billing.Credits { return &v }

// One key sent many times at once revokes once; the others are replays of it.
func TestRevokeGrantSameKeyConcurrently(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	g := e.grant(acc, "10")
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh, replays := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			two := c("2")
			r, err := e.revoke(acc, g.ID, &two, op("double click", "same-key"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("revoke: %v", err)
			case r.Replayed:
				replays++
			default:
				fresh++
			}
		}()
	}
	wg.Wait()
	if fresh != 1 || replays != 7 || e.balance(acc).Balance != c("8") {
		t.Fatalf("fresh %d replays %d balance %s; want 1, 7, 8", fresh, replays, e.balance(acc).Balance)
	}
}

// An operator's change made through another instance (another Service on the same database)
// is honoured by this instance's next debit, even one it would decide from its cache.
func TestOperatorChangesReachLockFreeDebitsOnOtherInstances(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := billing.NewService(e.store, billing.Options{Now: e.clock.Now})
	acc := e.account()
	e.grant(acc, "100")
	for i := 0; i < 2; i++ { // the second is decided from the cache
		if _, err := debitOn(t, e.svc, acc, "1", key(), true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, SpendLimit: &billing.SpendLimitChange{Credits: c("2"), Mode: billing.SpendHard},
		Op: op("customer asked for a cap", "")}); err != nil {
		t.Fatal(err)
	}
	if _, err := debitOn(t, e.svc, acc, "1", key(), true); billing.ErrorCode(err) != billing.ESpendLimit {
		t.Fatalf("debit over a hard limit set on another instance: %v", err)
	}
	if _, err := other.UpdateAccount(ctx, billing.AccountUpdate{AccountID: acc, SpendLimit: &billing.SpendLimitChange{Clear: true},
		Status: strp(billing.StatusSuspended), Op: op("fraud", "")}); err != nil {
		t.Fatal(err)
	}
	if _, err := debitOn(t, e.svc, acc, "1", key(), true); billing.ErrorCode(err) != billing.EAccountSuspended {
		t.Fatalf("debit on an account suspended on another instance: %v", err)
	}
}

// TestTrialGrantIsAudited: the sign-up trial is a grant like any other, so it leaves one audit
// entry (actor system) in the transaction that creates the account.
func TestTrialGrantIsAudited(t *testing.T) {
	e := newMoneyEnv(t)
	ctx := context.Background()
	a, err := e.svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "trial audit", Trial: true})
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.AuditLog(ctx, billing.AuditFilter{AccountID: a.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var grants int
	for _, en := range page.Entries {
		if en.Action == billing.AuditGrant && en.ActorKind == billing.ActorSystem {
			grants++
		}
	}
	if grants != 1 {
		t.Fatalf("%d trial grant entries in %+v: want 1", grants, page.Entries)
	}
}
