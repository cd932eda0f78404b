package payments_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditline/billing"
)

// rechargeUser buys the growth pack in test mode (saving the card; 550 credits with the
// trial) and switches auto-recharge on with the starter pack (100 credits, $10).
func (e *env) rechargeUser(threshold, capCount, capAmount string) (string, string) {
	e.t.Helper()
	ctx := context.Background()
	uid, acc := e.user()
	start, err := e.svc.StartCheckout(ctx, uid, billing.KindPack, "growth")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.CompleteTestCheckout(ctx, uid, start.SessionID); err != nil {
		e.t.Fatal(err)
	}
	_, err = e.svc.SaveAutoRecharge(ctx, uid, billing.AutoRechargeForm{Enabled: true, Threshold: threshold, PackKey: "starter",
		CapCount: capCount, CapAmount: capAmount})
	if err != nil {
		e.t.Fatal(err)
	}
	return uid, acc.ID
}

func (e *env) debit(acc, credits string) {
	e.t.Helper()
	_, err := e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c(credits), IdempotencyKey: fmt.Sprint("d-", seq.Add(1))})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) recharges(acc string) []billing.Recharge {
	rs, err := e.st.ListRecharges(context.Background(), acc, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

func (e *env) settings(acc string) billing.AutoRechargeSettings {
	s, err := e.st.AutoRechargeSettingsOf(context.Background(), acc)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestBurstOfDebitsStartsExactlyOneRecharge(t *testing.T) {
	e := newEnv(t)
	_, acc := e.rechargeUser("400", "10", "500")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ { // 20 × 10 credits: 550 → 350, below 400
		wg.Add(1)
		go func() { defer wg.Done(); e.debit(acc, "10") }()
	}
	wg.Wait()
	e.runJobs()
	rs := e.recharges(acc)
	if len(rs) != 1 || rs[0].Status != billing.RechargeSucceeded || e.pay.Charges() != 1 {
		t.Fatalf("recharges %+v, charges %d", rs, e.pay.Charges())
	}
	// One pack lifts 350 above 400; the credits come as an auto_recharge grant.
	if got := e.available(acc); got != c("450") {
		t.Fatalf("available %s, want 450", got)
	}
	b, _ := e.svc.Balance(context.Background(), acc)
	found := false
	for _, g := range b.Grants {
		found = found || (g.Source == "auto_recharge" && g.Amount == c("100") && g.PaidAmount == 1000)
	}
	if !found {
		t.Fatalf("no auto_recharge grant in %+v", b.Grants)
	}
}

func TestRechargeBuysEnoughPacksInOneCharge(t *testing.T) {
	e := newEnv(t)
	_, acc := e.rechargeUser("400", "10", "500")
	e.debit(acc, "500") // 550 → 50: 4 packs lift it to 450
	e.runJobs()
	rs := e.recharges(acc)
	if len(rs) != 1 || rs[0].Packs != 4 || rs[0].Amount != 4000 || e.available(acc) != c("450") {
		t.Fatalf("recharges %+v, available %s", rs, e.available(acc))
	}
}

func TestDeclineBacksOffUntilAnHourHasPassed(t *testing.T) {
	e := newEnv(t)
	_, acc := e.rechargeUser("400", "10", "500")
	e.pay.Plan(acc, billing.ChargeDeclined)
	e.debit(acc, "200")
	e.runJobs()
	s := e.settings(acc)
	if s.ConsecutiveDeclines != 1 || s.BackoffUntil == nil || !s.Enabled || e.available(acc) != c("350") {
		t.Fatalf("after a decline: %+v, available %s", s, e.available(acc))
	}
	e.clock.Advance(30 * time.Minute)
	e.debit(acc, "10")
	e.runJobs()
	if e.pay.Charges() != 1 {
		t.Fatalf("charged during the back-off: %d charges", e.pay.Charges())
	}
	e.clock.Advance(31 * time.Minute)
	e.debit(acc, "10")
	e.runJobs()
	s = e.settings(acc)
	if e.pay.Charges() != 2 || s.ConsecutiveDeclines != 0 || s.BackoffUntil != nil || e.available(acc) != c("430") {
		t.Fatalf("after the hour: charges %d, %+v, available %s", e.pay.Charges(), s, e.available(acc))
	}
}

func TestThreeDeclinesSwitchAutoRechargeOff(t *testing.T) {
	e := newEnv(t)
	_, acc := e.rechargeUser("400", "10", "500")
	e.pay.Plan(acc, billing.ChargeDeclined, billing.ChargeDeclined, billing.ChargeDeclined)
	e.debit(acc, "200") // 550 → 350, below 400; each later debit keeps it below
	for i := 0; i < 4; i++ {
		e.debit(acc, "10")
		e.runJobs()
		e.clock.Advance(61 * time.Minute)
	}
	s := e.settings(acc)
	if s.Enabled || s.ConsecutiveDeclines != 3 || s.DisabledReason == "" || e.pay.Charges() != 3 {
		t.Fatalf("settings %+v, charges %d", s, e.pay.Charges())
	}
	ns, _ := e.svc.Notifications(context.Background(), acc)
	if len(ns) == 0 || ns[0].Level != "error" || ns[0].Kind != "auto_recharge" {
		t.Fatalf("the customer must be told why: %+v", ns)
	}
}

func TestMonthlyCapHoldsUnderABurst(t *testing.T) {
	e := newEnv(t)
	_, acc := e.rechargeUser("500", "2", "1000") // at most 2 recharges this month
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				// Once the cap is reached the account runs dry: refusals are expected.
				_, err := e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c("30"), IdempotencyKey: fmt.Sprint("b-", seq.Add(1))})
				if err != nil && billing.ErrorCode(err) != billing.EInsufficient {
					t.Error(err)
				}
				e.runJobs()
			}
		}()
	}
	wg.Wait()
	e.runJobs()
	// However the burst interleaved with the jobs, spending on until the account is dry asks
	// for a third recharge, which the cap refuses (and announces).
	for i := 0; i < 200; i++ {
		_, err := e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c("30"), IdempotencyKey: fmt.Sprint("b-", seq.Add(1))})
		e.runJobs()
		if billing.ErrorCode(err) == billing.EInsufficient {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	ok := 0
	for _, r := range e.recharges(acc) {
		if r.Status != billing.RechargeFailed {
			ok++
		}
	}
	if ok != 2 || e.pay.Charges() != 2 {
		t.Fatalf("%d recharges, %d charges; cap is 2", ok, e.pay.Charges())
	}
	ns, _ := e.svc.Notifications(context.Background(), acc)
	if len(ns) == 0 {
		t.Fatal("the cap should be announced")
	}
}

func TestMoneyCapCutsThePacksBought(t *testing.T) {
	e := newEnv(t)
	_, acc := e.rechargeUser("1000", "10", "25") // $25 a month: two $10 packs
	e.debit(acc, "500")
	e.runJobs()
	e.debit(acc, "10")
	e.runJobs()
	rs := e.recharges(acc)
	if len(rs) != 1 || rs[0].Packs != 2 || rs[0].Amount != 2000 {
		t.Fatalf("recharges %+v", rs)
	}
}

func TestAuthenticationRequiredNotifiesAndWaitsForTheCustomer(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.rechargeUser("400", "10", "500")
	e.pay.Plan(acc, billing.ChargeRequiresAction)
	e.debit(acc, "200")
	e.runJobs()
	rs := e.recharges(acc)
	if len(rs) != 1 || rs[0].Status != billing.RechargeRequiresAction || e.available(acc) != c("350") {
		t.Fatalf("recharges %+v", rs)
	}
	ns, _ := e.svc.Notifications(context.Background(), acc)
	if len(ns) == 0 || ns[0].Link != "/billing/recharges/"+rs[0].ID {
		t.Fatalf("notifications %+v", ns)
	}
	e.debit(acc, "10") // one in flight: nothing new starts
	e.runJobs()
	if e.pay.Charges() != 1 {
		t.Fatalf("charges %d", e.pay.Charges())
	}
	if err := e.svc.CompleteTestRecharge(context.Background(), uid, rs[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := e.available(acc); got != c("440") {
		t.Fatalf("available %s after confirming", got)
	}
}

func TestSettingsAreValidated(t *testing.T) {
	e := newEnv(t)
	uid, _ := e.user()
	_, err := e.svc.SaveAutoRecharge(context.Background(), uid, billing.AutoRechargeForm{Enabled: true, Threshold: "1.2345",
		PackKey: "nope", CapCount: "0", CapAmount: "abc"})
	var be *billing.Error
	if !asError(err, &be) || len(be.Fields) != 5 {
		t.Fatalf("err %v", err)
	}
}

func asError(err error, target **billing.Error) bool {
	e, ok := err.(*billing.Error)
	*target = e
	return ok
}
