package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
)

func TestOperatorSettings(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Fresh(t)
	svc := billing.NewService(store.New(db), billing.Options{Now: func() time.Time { return noon }})
	type margin struct {
		Percent int `json:"percent"`
	}
	got := margin{Percent: 40} // the caller's default
	if found, err := svc.OperatorSetting(ctx, "pricing.target_margin", &got); err != nil || found || got.Percent != 40 {
		t.Fatalf("unset: found=%v err=%v got=%+v, want the default kept", found, err, got)
	}
	op := billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "finance asked for 35%"}
	if err := svc.SetOperatorSetting(ctx, op, "pricing.target_margin", margin{35}); err != nil {
		t.Fatal(err)
	}
	// The same value again writes no second audit entry.
	if err := svc.SetOperatorSetting(ctx, op, "pricing.target_margin", margin{35}); err != nil {
		t.Fatal(err)
	}
	if found, err := svc.OperatorSetting(ctx, "pricing.target_margin", &got); err != nil || !found || got.Percent != 35 {
		t.Fatalf("after set: found=%v err=%v got=%+v", found, err, got)
	}
	var audits int
	if err := db.Get(&audits, `SELECT count(*) FROM audit_log WHERE action = $1 AND reason = $2`, billing.AuditSettingUpdate, op.Reason); err != nil || audits != 1 {
		t.Fatalf("audit entries = %d (%v), want 1", audits, err)
	}

	bad := []struct {
		name  string
		op    billing.Op
		key   string
		field string
	}{
		{"no reason", billing.Op{Actor: op.Actor}, "pricing.target_margin", "reason"},
		{"bad key", op, "Pricing Margin", "key"},
		{"control character in key", op, "pricing\x00", "key"},
	}
	for _, c := range bad {
		err := svc.SetOperatorSetting(ctx, c.op, c.key, margin{1})
		var e *billing.Error
		if !errors.As(err, &e) || e.Code != billing.EInvalid || e.Fields[c.field] == "" {
			t.Errorf("%s: err = %v, want invalid_request on %s", c.name, err, c.field)
		}
	}
	if err := svc.SetOperatorSetting(ctx, op, "big", string(make([]byte, 70<<10))); err == nil {
		t.Error("a 70 KiB value was stored")
	}
	if found, _ := svc.OperatorSetting(ctx, "pricing.target_margin", &got); !found || got.Percent != 35 {
		t.Fatalf("refused changes changed the setting: %+v", got)
	}
}
