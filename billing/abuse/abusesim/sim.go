// Package abusesim plays synthetic traffic against a fresh database: normal customers with two
// weeks of history beside one scripted attack per detector, then one detector run. It is the
// reusable generator behind the synthetic attack test and `go run ./cmd/abusesim`.
package abusesim

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
)

// Clock is the simulation's clock: the service under test reads it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now is the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Config sizes the simulation.
type Config struct {
	Normal int   // normal customers (0: 12)
	Seed   int64 // randomness of the normal traffic
}

// Attack is one scripted abuse: its accounts and when it started.
type Attack struct {
	Name     string
	Kind     string
	Accounts []string
	Start    time.Time
}

// Result is what the detector run made of an attack.
type Result struct {
	Attack
	Flagged    bool // every account of the attack has an open flag of the attack's kind
	FlagAt     time.Time
	TimeToFlag time.Duration
}

// Report is the outcome of a simulation.
type Report struct {
	Results        []Result
	Normal         []string
	FalsePositives []abuse.Flag // flags raised on normal customers
	Run            abuse.RunReport
}

// Sim holds the services under test.
type Sim struct {
	Billing  *billing.Service
	Detector *abuse.Service
	Clock    *Clock
	cfg      Config
	r        *rand.Rand
	n        int
}

// New builds a simulation; svc and det must read clock.
func New(svc *billing.Service, det *abuse.Service, clock *Clock, cfg Config) *Sim {
	if cfg.Normal <= 0 {
		cfg.Normal = 12
	}
	return &Sim{Billing: svc, Detector: det, Clock: clock, cfg: cfg, r: rand.New(rand.NewPCG(uint64(cfg.Seed), 20))}
}

func (s *Sim) signUp(ctx context.Context, who, ip string) (billing.User, billing.Account, error) {
	s.n++
	return s.Billing.SignUp(ctx, billing.SignUpInput{Name: who, Email: fmt.Sprintf("%s-%d@sim.test", strings.ToLower(strings.ReplaceAll(who, " ", "-")), s.n),
		Password: "correct horse battery staple", IP: ip})
}

func (s *Sim) grant(ctx context.Context, acc, source string, credits billing.Credits) (billing.GrantResult, error) {
	in := billing.GrantInput{AccountID: acc, Source: source, Amount: credits, Actor: "sim", Reason: "simulation",
		IdempotencyKey: fmt.Sprintf("sim-%s-%d", source, s.r.Int64())}
	if source == "purchase" {
		in.PaidAmount, in.Currency = 10_00, "usd"
	}
	return s.Billing.Grant(ctx, in)
}

// chat is a small chat completion; hash "" sends none.
func (s *Sim) chat(acc string, at time.Time, hash string) billing.UsageInput {
	in := billing.UsageInput{AccountID: acc, Action: "chat.completion", Attributes: map[string]string{"model": "small-open"},
		Quantities: map[string]billing.Quantity{"input_tokens": billing.Count(int64(200 + s.r.IntN(600))),
			"output_tokens": billing.Count(int64(100 + s.r.IntN(300)))},
		IdempotencyKey: fmt.Sprintf("sim-%d", s.r.Int64()), OccurredAt: &at}
	if hash != "" {
		in.Metadata = json.RawMessage(fmt.Sprintf(`{"prompt_hash":%q}`, hash))
	}
	return in
}

func (s *Sim) charge(ctx context.Context, ins []billing.UsageInput) (billing.Credits, error) {
	var total billing.Credits
	for start := 0; start < len(ins); start += 200 {
		rs, err := s.Billing.ChargeUsageBatch(ctx, ins[start:min(start+200, len(ins))])
		if err != nil {
			return total, err
		}
		for _, r := range rs {
			if r.Err != nil {
				return total, r.Err
			}
			total += r.Event.Credits
		}
	}
	return total, nil
}

// history plays two weeks of steady usage for the accounts (events per hour at most),
// hour by hour with the clock, so that their baselines and grants age as in production.
func (s *Sim) history(ctx context.Context, perHour map[string]int) error {
	for range 14 * 24 {
		now := s.Clock.Now()
		var ins []billing.UsageInput
		for acc, n := range perHour {
			if s.r.IntN(10) == 0 {
				continue // a quiet hour now and then
			}
			for range 1 + s.r.IntN(n) {
				ins = append(ins, s.chat(acc, now.Add(time.Duration(s.r.IntN(3600))*time.Second), fmt.Sprintf("h%x", s.r.Uint64())))
			}
		}
		s.Clock.Advance(time.Hour)
		if _, err := s.charge(ctx, ins); err != nil {
			return err
		}
	}
	return nil
}

// Play creates the normal customers (and the velocity attacker) two weeks before the clock's
// time and plays their history up to it, then the attacks, one a minute; then it advances
// to the next minute and runs the detectors once.
func (s *Sim) Play(ctx context.Context) (Report, error) {
	var rep Report
	th, err := s.Detector.Thresholds(ctx)
	if err != nil {
		return rep, err
	}
	// Normal customers: their own network each, a trial and a pack, steady usage with a few
	// repeats of a prompt (retries), the current hour like the others.
	s.Clock.Advance(-14 * 24 * time.Hour)
	perHour := map[string]int{}
	var users []string
	for i := range s.cfg.Normal {
		u, acc, err := s.signUp(ctx, fmt.Sprintf("Normal %d", i), fmt.Sprintf("10.%d.%d.7", i/200, i%200))
		if err != nil {
			return rep, err
		}
		rep.Normal = append(rep.Normal, acc.ID)
		users = append(users, u.ID)
		if _, err := s.grant(ctx, acc.ID, "purchase", 5_000*billing.Credit); err != nil {
			return rep, err
		}
		perHour[acc.ID] = 4
	}
	spiky, err := s.spikyAccount(ctx)
	if err != nil {
		return rep, err
	}
	perHour[spiky] = 3
	if err := s.history(ctx, perHour); err != nil {
		return rep, err
	}
	attacks := []func(context.Context) (Attack, error){
		func(ctx context.Context) (Attack, error) { return s.velocity(ctx, spiky, th) },
		func(ctx context.Context) (Attack, error) { return s.repeated(ctx, th) },
		func(ctx context.Context) (Attack, error) { return s.shared(ctx, th) },
		func(ctx context.Context) (Attack, error) { return s.farm(ctx, th) },
		func(ctx context.Context) (Attack, error) { return s.drain(ctx, th) },
		func(ctx context.Context) (Attack, error) { return s.hammer(ctx, th) },
		s.refund,
		func(ctx context.Context) (Attack, error) { return s.cardTesting(ctx, th) },
		func(ctx context.Context) (Attack, error) { return s.networkCarding(ctx, th) },
		func(ctx context.Context) (Attack, error) { return s.failedPayments(ctx, th) },
	}
	var played []Attack
	for _, play := range attacks {
		a, err := play(ctx)
		if err != nil {
			return rep, fmt.Errorf("attack %s: %w", a.Name, err)
		}
		played = append(played, a)
		s.Clock.Advance(time.Minute) // the attacks follow each other within the hour
	}
	// Normal traffic goes on during the attacks.
	for _, acc := range rep.Normal {
		var ins []billing.UsageInput
		for range 1 + s.r.IntN(4) {
			ins = append(ins, s.chat(acc, s.Clock.Now().Add(-time.Duration(s.r.IntN(600))*time.Second), fmt.Sprintf("n%x", s.r.Uint64())))
		}
		if _, err := s.charge(ctx, ins); err != nil {
			return rep, err
		}
	}
	if err := s.normalPurchases(ctx, rep.Normal, users); err != nil {
		return rep, err
	}
	// The next detector run: the next minute boundary.
	s.Clock.Advance(time.Second)
	s.Clock.Advance(s.Clock.Now().Truncate(time.Minute).Add(time.Minute).Sub(s.Clock.Now()))
	if rep.Run, err = s.Detector.Run(ctx); err != nil {
		return rep, err
	}
	flags, err := s.Detector.Queue(ctx, abuse.Filter{Status: abuse.StatusOpen})
	if err != nil {
		return rep, err
	}
	byAccount := map[string][]abuse.Flag{}
	for _, f := range flags {
		byAccount[f.AccountID] = append(byAccount[f.AccountID], f)
	}
	for _, acc := range rep.Normal {
		rep.FalsePositives = append(rep.FalsePositives, byAccount[acc]...)
	}
	for _, a := range played {
		res := Result{Attack: a, Flagged: len(a.Accounts) > 0}
		for _, acc := range a.Accounts {
			found := false
			for _, f := range byAccount[acc] {
				if f.Kind == a.Kind {
					found = true
					if f.CreatedAt.After(res.FlagAt) {
						res.FlagAt = f.CreatedAt
					}
				}
			}
			res.Flagged = res.Flagged && found
		}
		if res.Flagged {
			res.TimeToFlag = res.FlagAt.Sub(a.Start)
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// Table prints the detection table and the false-positive count.
func (r Report) Table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "attack\tkind\taccounts\tflagged\ttime to flag")
	for _, res := range r.Results {
		ttf := "-"
		if res.Flagged {
			ttf = res.TimeToFlag.Round(time.Second).String()
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%v\t%s\n", res.Name, res.Kind, len(res.Accounts), res.Flagged, ttf)
	}
	w.Flush()
	fmt.Fprintf(&b, "normal customers: %d, false positives: %d\n", len(r.Normal), len(r.FalsePositives))
	fmt.Fprintf(&b, "detector run: %d ledger entries folded (%d usage events), %v\n", r.Run.Folded, r.Run.Events, r.Run.Elapsed.Round(time.Millisecond))
	return b.String()
}

// normalPurchases: every normal customer buys a pack through Checkout in the attacks' hour;
// the first four from one office network, two of them after abandoning a first session and
// one after a declined card; the others from networks of their own.
func (s *Sim) normalPurchases(ctx context.Context, accs, users []string) error {
	for i, uid := range users {
		ip := fmt.Sprintf("10.%d.%d.8", i/200, i%200)
		if i < 4 {
			ip = fmt.Sprintf("100.64.7.%d", 20+i)
		}
		if i < 2 {
			if _, err := s.Billing.StartCheckoutFrom(ctx, uid, billing.KindPack, "starter", "usd", ip); err != nil {
				return err
			}
		}
		co, err := s.Billing.StartCheckoutFrom(ctx, uid, billing.KindPack, "starter", "usd", ip)
		if err != nil {
			return err
		}
		if i == 2 {
			if err := s.declined(ctx, accs[i]); err != nil {
				return err
			}
		}
		if err := s.Billing.CompleteTestCheckout(ctx, uid, co.SessionID); err != nil {
			return err
		}
	}
	return nil
}
