package billing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Demo usage: 30 days of varied actions for the demo customers, charged through the normal
// usage path (priced by the live book, debited from real grants, rollups written with the
// events), so every dashboard figure is true and Verify stays clean.

// demoProfile describes one demo customer's plan, credits and habits.
type demoProfile struct {
	email  string
	plan   string
	grants []GrantInput // AccountID is filled in; each has an idempotency key
	seed   uint64
	day    func(r *rand.Rand, daysAgo int) []demoAction
}

type demoAction struct {
	action string
	attrs  map[string]string
	qs     map[string]Quantity
}

func demoProfiles(now time.Time) []demoProfile {
	sub := now.AddDate(0, 0, 18)
	pack := now.AddDate(1, 0, 0)
	return []demoProfile{
		{email: "demo@creditline.test", plan: "pro", seed: 7, day: demoBusyDay, grants: []GrantInput{
			{Source: "subscription", Amount: 5_000 * Credit, ExpiresAt: &sub, PaidAmount: 49_00, Currency: "usd",
				IdempotencyKey: "demo-pro-allotment", Reason: "Pro plan: this period's credits (demo)"},
			{Source: "purchase", Amount: 500 * Credit, ExpiresAt: &pack, PaidAmount: 45_00, Currency: "usd",
				IdempotencyKey: "demo-growth-pack", Reason: "Growth pack (demo)"},
		}},
		{email: "nova@creditline.test", seed: 11, day: demoQuietDay, grants: []GrantInput{
			{Source: "purchase", Amount: 100 * Credit, ExpiresAt: &pack, PaidAmount: 10_00, Currency: "usd",
				IdempotencyKey: "demo-starter-pack", Reason: "Starter pack (demo)"},
		}},
	}
}

// demoBusyDay is a Pro customer's product: chat on both models, embeddings, images, audio,
// now and then a video or a file.
func demoBusyDay(r *rand.Rand, daysAgo int) []demoAction {
	weekend := (daysAgo%7 == 2 || daysAgo%7 == 3)
	scale := 1
	if !weekend {
		scale = 2
	}
	var out []demoAction
	add := func(n int, f func() demoAction) {
		for range n {
			out = append(out, f())
		}
	}
	add(scale*(3+r.IntN(5)), func() demoAction {
		return demoAction{"chat.completion", map[string]string{"model": "small-open"},
			map[string]Quantity{"input_tokens": Count(int64(100 + r.IntN(900))), "output_tokens": Count(int64(50 + r.IntN(400)))}}
	})
	add(scale*(1+r.IntN(3)), func() demoAction {
		return demoAction{"chat.completion", map[string]string{"model": "gpt-4o"},
			map[string]Quantity{"input_tokens": Count(int64(800 + r.IntN(2200))), "output_tokens": Count(int64(200 + r.IntN(1000)))}}
	})
	add(3+r.IntN(6), func() demoAction {
		return demoAction{"embedding.create", nil, map[string]Quantity{"input_tokens": Count(int64(2_000 + r.IntN(18_000)))}}
	})
	add(r.IntN(3), func() demoAction {
		models := []map[string]string{{"model": "sdxl"}, {"model": "sdxl"}, {"model": "dall-e-3"}, {"model": "dall-e-3", "quality": "hd"}}
		return demoAction{"image.generate", models[r.IntN(len(models))], map[string]Quantity{"images": Count(int64(1 + r.IntN(2)))}}
	})
	add(r.IntN(2), func() demoAction {
		return demoAction{"audio.transcribe", nil, map[string]Quantity{"seconds": Quantity(30_000 + r.IntN(400_000))}}
	})
	if daysAgo%4 == 1 {
		out = append(out, demoAction{"video.generate", nil, map[string]Quantity{"seconds": Count(int64(4 + r.IntN(8)))}})
	}
	if daysAgo%6 == 0 {
		out = append(out, demoAction{"file.process", nil, map[string]Quantity{"megabytes": Quantity(1_500 + r.IntN(20_000))}})
	}
	return out
}

// demoQuietDay is a Free-plan customer trying things out on the standard models; it spends
// most of its pack, so its overview shows the low-balance banner.
func demoQuietDay(r *rand.Rand, daysAgo int) []demoAction {
	var out []demoAction
	for range 1 + r.IntN(3) {
		out = append(out, demoAction{"chat.completion", map[string]string{"model": "small-open"},
			map[string]Quantity{"input_tokens": Count(int64(200 + r.IntN(600))), "output_tokens": Count(int64(100 + r.IntN(300)))}})
	}
	for range 1 + r.IntN(2) {
		out = append(out, demoAction{"embedding.create", nil, map[string]Quantity{"input_tokens": Count(int64(500 + r.IntN(4_000)))}})
	}
	if daysAgo%3 == 0 {
		out = append(out, demoAction{"image.generate", map[string]string{"model": "sdxl"}, map[string]Quantity{"images": Count(1)}})
	}
	if r.IntN(2) == 0 {
		out = append(out, demoAction{"text.generate", nil, map[string]Quantity{"words": Count(int64(200 + r.IntN(600)))}})
	}
	if daysAgo == 0 {
		// Today she tries images in earnest (10 credits): her run-out is then about 4 days away
		// whatever the hour. Without it, it sat at exactly 7 days, and the banner came and went
		// around noon UTC.
		out = append(out, demoAction{"image.generate", map[string]string{"model": "sdxl"}, map[string]Quantity{"images": Count(2)}})
	}
	return out
}

// seedDemoUsage charges each demo profile's 30 days once; a second run finds the first event's
// debit and changes nothing.
func (s *Service) seedDemoUsage(ctx context.Context) error {
	now := s.Now()
	if _, err := s.live.Current(now); err != nil {
		if err := s.LoadLiveBook(ctx); err != nil {
			return err
		}
	}
	for _, p := range demoProfiles(now) {
		if err := s.seedProfile(ctx, p, now); err != nil {
			return fmt.Errorf("demo usage for %s: %w", p.email, err)
		}
	}
	return nil
}

func (s *Service) seedProfile(ctx context.Context, p demoProfile, now time.Time) error {
	u, err := s.store.UserByEmail(ctx, p.email)
	if err != nil {
		return err
	}
	acc, _, err := s.AccountForUser(ctx, u.ID, "")
	if err != nil {
		return err
	}
	if _, err := s.store.DebitByKey(ctx, acc.ID, demoKey(0)); err == nil {
		return nil // seeded before
	} else if ErrorCode(err) != ENotFound {
		return err
	}
	if p.plan != "" && acc.PlanKey != p.plan {
		if err := s.SetPlan(ctx, acc.ID, p.plan); err != nil {
			return err
		}
	}
	for _, g := range p.grants {
		g.AccountID, g.Actor = acc.ID, "seed"
		if _, err := s.Grant(ctx, g); err != nil {
			return err
		}
	}
	ins := demoInputs(p, acc.ID, now)
	for start := 0; start < len(ins); start += 250 {
		rs, err := s.ChargeUsageBatch(ctx, ins[start:min(start+250, len(ins))])
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Err != nil {
				return r.Err
			}
		}
	}
	return nil
}

func demoKey(i int) string { return fmt.Sprintf("demo-%05d", i) }

// demoInputs lays the profile's days out oldest first, each event at a daytime hour (UTC),
// all within the last 30 days.
func demoInputs(p demoProfile, accountID string, now time.Time) []UsageInput {
	r := rand.New(rand.NewPCG(p.seed, 2026))
	var out []UsageInput
	for daysAgo := 29; daysAgo >= 0; daysAgo-- {
		acts := p.day(r, daysAgo)
		base := utcDay(now).AddDate(0, 0, -daysAgo)
		for _, a := range acts {
			at := base.Add(time.Duration(7*3600+r.IntN(15*3600)) * time.Second)
			if at.After(now) {
				at = now.Add(-time.Duration(1+r.IntN(3600)) * time.Second)
			}
			if floor := now.Add(-30*24*time.Hour + time.Hour); at.Before(floor) {
				at = floor.Add(time.Duration(r.IntN(3600)) * time.Second)
			}
			out = append(out, UsageInput{AccountID: accountID, Action: a.action, Attributes: a.attrs, Quantities: a.qs, OccurredAt: &at})
		}
	}
	// Charge in time order, so the ledger reads like the product was used.
	slices.SortStableFunc(out, func(a, b UsageInput) int { return a.OccurredAt.Compare(*b.OccurredAt) })
	for i := range out {
		out[i].IdempotencyKey = demoKey(i)
		if out[i].Attributes == nil {
			out[i].Attributes = map[string]string{}
		}
	}
	return out
}
