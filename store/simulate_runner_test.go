package store_test

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/pricing"
	"creditline/billing/simulate"
	"creditline/store"
)

// TestSimulationSharedBetweenInstances: a simulation run by one instance (runner) is seen by
// another with its figures, and starting it there for the same edit joins it instead of
// running it again; a run whose instance stopped writing is run again; an edit of the draft
// is simulated afresh.
func TestSimulationSharedBetweenInstances(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	st := store.New(db)
	a, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "shared sim"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Grant(ctx, billing.GrantInput{AccountID: a.ID, Source: "purchase", Amount: billing.MustCredits("1000"), Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		at := noon.Add(-time.Duration(i+1) * time.Hour)
		if _, err := svc.ChargeUsage(ctx, billing.UsageInput{AccountID: a.ID, Action: "video.generate", Quantities: map[string]billing.Quantity{"seconds": billing.Count(3)},
			OccurredAt: &at, IdempotencyKey: "shared-" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	draft := draftWithInputRate(t, svc, "3")
	clock := noon
	now := func() time.Time { return clock }
	one, two := simulate.NewRunner(st, now), simulate.NewRunner(st, now)

	if j := two.Job(draft.ID); j != nil {
		t.Fatalf("a job before any ran: %+v", j)
	}
	j1 := one.Start(draft.ID, draft.UpdatedAt, draft.Book, pricing.DefaultMarginTarget)
	if err := j1.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	res1, _, _ := one.Snapshot(j1)
	j2 := two.Job(draft.ID)
	if j2 == nil {
		t.Fatal("the other instance sees no simulation")
	}
	res2, err2, fin := two.Snapshot(j2)
	if !fin || err2 != nil || res2 == nil || res2.Events != 5 || res2.After != res1.After || res2.Before != res1.Before ||
		!res2.From.Equal(res1.From) || len(res2.Groups) != len(res1.Groups) {
		t.Fatalf("the other instance sees %+v (%v, finished %v); the first ran %+v", res2, err2, fin, res1)
	}
	if j2.Percent() != 100 {
		t.Errorf("percent %d", j2.Percent())
	}
	joined := two.Start(draft.ID, draft.UpdatedAt, draft.Book, pricing.DefaultMarginTarget)
	if !joined.Started.Equal(j1.Started.Truncate(time.Microsecond)) {
		t.Errorf("the other instance ran it again (started %s, first %s)", joined.Started, j1.Started)
	}

	// An unfinished run whose instance stopped writing long ago is run again.
	edited := draftWithInputRate(t, svc, "4")
	if err := st.SaveSimulation(ctx, simulate.Saved{Draft: edited.ID, Stamp: edited.UpdatedAt, Started: clock.Add(-time.Hour),
		Updated: clock.Add(-time.Hour), Done: 1, Total: 5}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	again := two.Start(edited.ID, edited.UpdatedAt, edited.Book, pricing.DefaultMarginTarget)
	if err := again.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if !again.Started.Equal(clock) {
		t.Errorf("the abandoned run was joined, not run again (started %s)", again.Started)
	}
	if sv, ok, err := st.Simulation(ctx, edited.ID); err != nil || !ok || sv.Finished == nil || sv.Result == nil || sv.Result.Events != 5 {
		t.Errorf("saved after the rerun: %+v %v %v", sv, ok, err)
	}
	// A later edit of the first draft is simulated afresh, and a stale save of the older edit
	// does not overwrite it.
	later := billing.NewService(st, billing.Options{Now: func() time.Time { return noon.Add(time.Minute) }})
	d := draft.Book.Data()
	if draft, err = later.SetDraftRate(ctx, draft.ID, d.Rates[0]); err != nil || !draft.UpdatedAt.After(j1.Stamp) {
		t.Fatalf("edit: %v (updated %s)", err, draft.UpdatedAt)
	}
	fresh := one.Start(draft.ID, draft.UpdatedAt, draft.Book, pricing.DefaultMarginTarget)
	if err := fresh.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if fresh.Started.Equal(j1.Started) || fresh == j1 {
		t.Error("the edited draft was not simulated afresh")
	}
	if err := st.SaveSimulation(ctx, simulate.Saved{Draft: draft.ID, Stamp: j1.Stamp.Add(-time.Second), Started: clock, Updated: clock}); err != nil {
		t.Fatal(err)
	}
	if sv, _, _ := st.Simulation(ctx, draft.ID); !sv.Stamp.Equal(draft.UpdatedAt) || sv.Result == nil {
		t.Errorf("the newest edit's simulation was replaced: %+v", sv)
	}
}
