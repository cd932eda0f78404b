package web_test

import (
	"context"
	"testing"

	"creditline/billing"
	"creditline/web/webtest"
)

// seedDemo seeds the demo (users, 30 days of usage) and returns the demo customer's account.
func seedDemo(t *testing.T, env *webtest.Env) billing.Account {
	t.Helper()
	ctx := context.Background()
	if _, err := env.Svc.SeedDemo(ctx); err != nil {
		t.Fatalf("seed demo: %v", err)
	}
	return accountOf(t, env, "demo@creditline.test")
}

func accountOf(t *testing.T, env *webtest.Env, email string) billing.Account {
	t.Helper()
	ctx := context.Background()
	u, err := env.Store.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	acc, _, err := env.Svc.AccountForUser(ctx, u.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestDemoSeedGivesThirtyDaysOfUsageAndKeepsTheLedgerClean(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	acc := seedDemo(t, env)
	if _, err := env.Svc.SeedDemo(ctx); err != nil { // safe to run twice
		t.Fatalf("second seed: %v", err)
	}
	if acc.PlanKey != "pro" {
		t.Fatalf("demo customer on %q, want pro", acc.PlanKey)
	}
	if vs, err := env.Svc.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("verify: %v %v", err, vs)
	}
	evs, err := env.Svc.UsagePage(ctx, billing.UsageFilter{AccountID: acc.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	actions, models := map[string]int{}, map[string]int{}
	now := env.Svc.Now()
	for _, e := range evs {
		actions[e.Action]++
		models[e.Model]++
		if e.OccurredAt.After(now) || e.OccurredAt.Before(now.AddDate(0, 0, -30)) {
			t.Fatalf("event %s at %s, outside the last 30 days", e.ID, e.OccurredAt)
		}
	}
	for _, a := range []string{"chat.completion", "image.generate", "embedding.create", "audio.transcribe", "video.generate"} {
		if actions[a] == 0 {
			t.Errorf("no %s in the demo usage (%v)", a, actions)
		}
	}
	if models["gpt-4o"] == 0 || models["small-open"] == 0 {
		t.Errorf("models %v", models)
	}
	if len(evs) < 300 || len(evs) >= 1000 {
		t.Errorf("%d demo events", len(evs))
	}
	days := map[string]bool{}
	for _, e := range evs {
		days[e.OccurredAt.UTC().Format("2006-01-02")] = true
	}
	if len(days) < 29 {
		t.Errorf("usage on %d days, want about 30", len(days))
	}
	o, err := env.Svc.Overview(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo: %d events, available %s, most used %+v, run-out %+v, expiring %s, low %+v",
		len(evs), o.Balance.Available, o.MostUsed, o.RunOut, o.ExpiringSoon, o.Low)
	nova, err := env.Svc.Overview(ctx, accountOf(t, env, "nova@creditline.test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("nova: available %s, run-out %+v, low %+v", nova.Balance.Available, nova.RunOut, nova.Low)
}
