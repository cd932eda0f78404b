package ledgertest

import (
	"context"
	"testing"

	"creditline/billing"
	"creditline/store"
)

// outageStore is the real store whose reads by id fail the way they do when the database is
// lost mid-request: the query runs with a cancelled context.
type outageStore struct{ *store.Store }

func gone(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	return ctx
}

func (s outageStore) CheckoutByID(ctx context.Context, id string) (billing.CheckoutRecord, error) {
	return s.Store.CheckoutByID(gone(ctx), id)
}

func (s outageStore) PaymentByID(ctx context.Context, id string) (billing.Payment, error) {
	return s.Store.PaymentByID(gone(ctx), id)
}

func (s outageStore) RechargeByID(ctx context.Context, id string) (billing.Recharge, error) {
	return s.Store.RechargeByID(gone(ctx), id)
}

func (s outageStore) HoldByID(ctx context.Context, id string) (billing.Hold, error) {
	return s.Store.HoldByID(gone(ctx), id)
}

// Reads on behalf of a user or a key turn only "missing" (or "someone else's") into
// not_found; a failed read passes through, so it is logged and answered as a 500, not a 404.
func TestOwnershipReadsPassStoreErrorsThrough(t *testing.T) {
	e := newMoneyEnv(t) // runs after the model tests
	ctx := context.Background()
	u, _, err := e.svc.SignUp(ctx, billing.SignUpInput{Name: "Owner", Email: key() + "@example.com", Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	down := billing.NewService(outageStore{e.store}, billing.Options{Now: e.clock.Now})
	platform := billing.APIKey{ID: "key_test", Kind: billing.KeyPlatform}
	reads := map[string]func(*billing.Service) error{
		"checkout": func(s *billing.Service) error { _, err := s.CheckoutForUser(ctx, u.ID, "cs_missing"); return err },
		"payment":  func(s *billing.Service) error { _, err := s.PaymentForUser(ctx, u.ID, "pay_missing"); return err },
		"recharge": func(s *billing.Service) error { _, err := s.RechargeForUser(ctx, u.ID, "rch_missing"); return err },
		"reservation": func(s *billing.Service) error {
			_, err := s.Reservation(ctx, "hold_missing", "")
			return err
		},
		"release": func(s *billing.Service) error { _, err := s.ReleaseForKey(ctx, platform, "hold_missing"); return err },
		"commit": func(s *billing.Service) error {
			_, err := s.CommitAction(ctx, billing.CommitActionInput{HoldID: "hold_missing", Key: &platform, IdempotencyKey: key()})
			return err
		},
	}
	for name, read := range reads {
		if code := billing.ErrorCode(read(e.svc)); code != billing.ENotFound {
			t.Errorf("%s, missing: %s, want not_found", name, code)
		}
		if err := read(down); err == nil || billing.ErrorCode(err) == billing.ENotFound {
			t.Errorf("%s, database lost: %v, want the store's error", name, err)
		}
	}
}
