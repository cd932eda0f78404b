package ledgertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"creditline/billing"
)

func TestAuthorizeAccountScopeAndRateLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mine, other := e.account(), e.account()
	ak := billing.APIKey{ID: "key_acct", Kind: billing.KeyAccount, AccountID: &mine}
	platform := billing.APIKey{ID: "key_platform", Kind: billing.KeyPlatform}
	if _, err := e.svc.AuthorizeAccount(ctx, ak, other); billing.ErrorCode(err) != billing.ENotFound {
		t.Fatalf("account key on another account: %v", err)
	}
	if a, err := e.svc.AuthorizeAccount(ctx, platform, other); err != nil || a.ID != other {
		t.Fatalf("platform key: %v %v", a.ID, err)
	}
	if _, err := e.svc.AuthorizeAccount(ctx, platform, " "); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("no account: %v", err)
	}
	// The free plan allows 60 requests a minute per key and account.
	for i := 0; i < 60; i++ {
		if _, err := e.svc.AuthorizeAccount(ctx, ak, mine); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	e.clock.Advance(45 * time.Second)
	_, err := e.svc.AuthorizeAccount(ctx, ak, mine)
	var be *billing.Error
	if billing.ErrorCode(err) != billing.ERateLimited || !errors.As(err, &be) || be.Details["limit_per_min"] != 60 || be.Details["retry_after"] != 15 {
		t.Fatalf("61st request: %v %v", err, be)
	}
	if _, err := e.svc.AuthorizeAccount(ctx, platform, mine); err != nil {
		t.Fatalf("another key on the same account: %v", err)
	}
	e.clock.Advance(15 * time.Second)
	if _, err := e.svc.AuthorizeAccount(ctx, ak, mine); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// A batch counts once per account it names, by id or external id, however many events.
func TestUsageBatchCountsOncePerAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "batch", ExternalID: "ext-" + key()})
	if err != nil {
		t.Fatal(err)
	}
	platform := billing.APIKey{ID: "key_batch", Kind: billing.KeyPlatform}
	var ins []billing.UsageInput
	for i := 0; i < 100; i++ {
		ref := a.ID
		if i%2 == 1 {
			ref = "external:" + *a.ExternalID
		}
		ins = append(ins, billing.UsageInput{AccountID: ref, Key: &platform, Action: "no.such.action", IdempotencyKey: key()})
	}
	rs, err := e.svc.ChargeUsageBatch(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if billing.ErrorCode(r.Err) == billing.ERateLimited {
			t.Fatalf("event %d: %v", i, r.Err)
		}
	}
	for i := 0; i < 59; i++ {
		if _, err := e.svc.AuthorizeAccount(ctx, platform, a.ID); err != nil {
			t.Fatalf("request %d after the batch: %v", i, err)
		}
	}
	if _, err := e.svc.AuthorizeAccount(ctx, platform, a.ID); billing.ErrorCode(err) != billing.ERateLimited {
		t.Fatalf("the batch and 60 requests: %v", err)
	}
	// Once refused, every event of a batch naming the account is refused, with the details.
	rs, err = e.svc.ChargeUsageBatch(ctx, ins[:3])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if billing.ErrorCode(r.Err) != billing.ERateLimited {
			t.Errorf("event %d over the limit: %v", i, r.Err)
		}
	}
}
