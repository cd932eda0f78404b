package payments_test

import (
	"context"
	"strings"
	"testing"

	"creditline/billing"
)

// TestDeclinedRechargeFiresItsAlertOnce: a declined auto-recharge fires the account's
// recharge_failed rule once (in-app and an email job), however often the jobs run again.
func TestDeclinedRechargeFiresItsAlertOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, acc := e.rechargeUser("400", "10", "500")
	e.pay.Plan(acc, billing.ChargeDeclined)
	e.debit(acc, "200")
	e.runJobs()
	e.runJobs()
	ns, err := e.svc.Notifications(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range ns {
		if x.Kind == billing.AlertFired && strings.Contains(x.Message, "auto-recharge failed") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d recharge_failed alerts, want 1: %+v", n, ns)
	}
}
