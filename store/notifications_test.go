package store_test

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
)

// ListNotifications (the billing page's and the overview's list) carries the alert rule that
// raised a notice, nil for a payment notice, as the notification centre's page does.
func TestListNotificationsCarriesRuleID(t *testing.T) {
	ctx := context.Background()
	st := store.New(pgtest.DB(t))
	svc := billing.NewService(st, billing.Options{Now: func() time.Time { return noon }})
	acc, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "Notified", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	n := billing.Notification{AccountID: acc.ID, Kind: "payment_failed", Level: "error", Message: "m", Link: "/billing", CreatedAt: noon}
	err = st.InTx(ctx, func(tx billing.Tx) error {
		ruled, plain := n, n
		ruled.Key, plain.Key = "ruled", "plain"
		plain.CreatedAt = noon.Add(-time.Minute)
		if err := tx.InsertAlertNotification(ctx, ruled, "rule_x"); err != nil {
			return err
		}
		return tx.InsertNotification(ctx, plain)
	})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := st.ListNotifications(ctx, acc.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2 || ns[0].Key != "ruled" || ns[0].RuleID == nil || *ns[0].RuleID != "rule_x" || ns[1].RuleID != nil {
		t.Fatalf("notifications %+v", ns)
	}
}
