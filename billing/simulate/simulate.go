// Package simulate re-prices the last 30 days of recorded usage under a draft price book
// with the same engine that charges, to show what a price change would do to revenue,
// margin and customers before it is published. It only reads: it never writes the ledger.
package simulate

import (
	"cmp"
	"context"
	"math/big"
	"slices"
	"time"

	"creditline/billing/pricing"
	"creditline/billing/value"
)

// Window is how far back the simulation looks.
const Window = 30 * 24 * time.Hour

// Event is Count recorded usage events alike in everything that prices them (the same
// action, quantities, attributes, plan, batch flag and UTC weekday and hour), with what
// they need to be priced again; Credits and CostMicroUSD are their sums as charged.
type Event struct {
	Count          int64
	AccountID      string
	Action         string
	Quantities     map[string]value.Quantity
	Attributes     map[string]string
	Plan           string
	PlanMultiplier value.Multiplier
	Batch          bool
	At             time.Time     // a time with the events' UTC weekday and hour (the schedule reads only those)
	Credits        value.Credits // what they were charged, together
	CostMicroUSD   int64         // the vendor cost recorded, together
}

// Store streams recorded usage; implemented in package store.
type Store interface {
	// CountUsage counts, for the progress bar, at least the events that occurred in
	// [from, to): those of every UTC day the window touches.
	CountUsage(ctx context.Context, from, to time.Time) (int64, error)
	// StreamUsage calls fn for each group of like events that occurred in [from, to), in no
	// particular order, reusing ev between calls; it stops at fn's first error and returns it.
	StreamUsage(ctx context.Context, from, to time.Time, fn func(ev *Event) error) error
	// AvailableBalances returns each account's balance less what it holds reserved.
	AvailableBalances(ctx context.Context) (map[string]value.Credits, error)
}

// Totals are sums over events: credits, their worth and the vendor cost, in micro-dollars.
type Totals struct {
	Credits         value.Credits `json:"credits"`
	RevenueMicroUSD int64         `json:"revenue_micro_usd"`
	CostMicroUSD    int64         `json:"cost_micro_usd"`
	MarginPermille  int64         `json:"margin_permille"` // gross margin in tenths of a percent
}

// Group is one action and model's events before (as charged) and after (under the draft).
type Group struct {
	Action string `json:"action"`
	Model  string `json:"model,omitempty"`
	Events int64  `json:"events"`
	Before Totals `json:"before"`
	After  Totals `json:"after"`
}

// Customer is one account's 30-day spend before and after; ChangePermille is the change
// in tenths of a percent of Before (0 when Before is 0).
type Customer struct {
	AccountID      string        `json:"account"`
	Before         value.Credits `json:"before"`
	After          value.Credits `json:"after"`
	Change         value.Credits `json:"change"`
	ChangePermille int64         `json:"change_permille"`
}

// Result is the simulation's figures.
type Result struct {
	From, To  time.Time  `json:"-"`
	Events    int64      `json:"events"`
	Unpriced  int64      `json:"unpriced"` // events the draft cannot price (a rate removed, ...)
	Before    Totals     `json:"before"`
	After     Totals     `json:"after"`
	Groups    []Group    `json:"by_action_model"`
	Increases []Customer `json:"largest_increases"`
	Decreases []Customer `json:"largest_decreases"`
	// RunOutSooner counts accounts with credits left whose spend rises under the draft;
	// NewlyShort those whose balance covers the last 30 days' usage at live prices and not
	// at the draft's.
	RunOutSooner int `json:"run_out_sooner"`
	NewlyShort   int `json:"newly_short"`
}

// TopN is how many customers each list of the most affected keeps.
const TopN = 10

// ErrTooLarge is returned when a sum leaves int64 (no demo or real book comes near).
var ErrTooLarge = value.Errorf(value.EInvalid, "The simulation's totals are too large to add up.")

type groupKey struct{ action, model string }

type acc struct {
	events                int64
	before, after         value.Credits
	costBefore, costAfter int64
}

func (a *acc) add(n int64, before, after value.Credits, cb, ca int64) bool {
	var ok1, ok2, ok3, ok4 bool
	a.events += n
	a.before, ok1 = addC(a.before, before)
	a.after, ok2 = addC(a.after, after)
	a.costBefore, ok3 = add64(a.costBefore, cb)
	a.costAfter, ok4 = add64(a.costAfter, ca)
	return ok1 && ok2 && ok3 && ok4
}

func add64(a, b int64) (int64, bool) {
	s := a + b
	return s, (b >= 0) == (s >= a)
}

// mul64 is a × n for n ≥ 1, with overflow reported.
func mul64(a, n int64) (int64, bool) {
	if n <= 0 {
		return 0, n == 0
	}
	p := a * n
	return p, p/n == a
}

func mulC(c value.Credits, n int64) (value.Credits, bool) {
	p, ok := mul64(int64(c), n)
	return value.Credits(p), ok
}

func addC(a, b value.Credits) (value.Credits, bool) {
	s, ok := add64(int64(a), int64(b))
	return value.Credits(s), ok
}

// Run re-prices every event of [now − Window, now) under draft (each group of like events
// once: the engine gives like events the same price), reporting how many events it has done
// to progress (total first, then about every 10,000), and values credits with target.
// Errors: ErrTooLarge; the store's; ctx's when cancelled.
func Run(ctx context.Context, st Store, draft *pricing.Book, target pricing.MarginTarget, now time.Time, progress func(done, total int64)) (*Result, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	from, to := now.Add(-Window), now
	total, err := st.CountUsage(ctx, from, to)
	if err != nil {
		return nil, err
	}
	progress(0, total)
	all, groups, accounts := acc{}, map[groupKey]*acc{}, map[string]*acc{}
	var unpriced, done int64
	err = st.StreamUsage(ctx, from, to, func(ev *Event) error {
		delete(ev.Attributes, "prompt_hash") // evidence for abuse rules, never a price input
		q, perr := draft.Price(pricing.Request{Action: ev.Action, Quantities: ev.Quantities, Attributes: ev.Attributes,
			Plan: ev.Plan, PlanMultiplier: ev.PlanMultiplier, Batch: ev.Batch, At: ev.At})
		after, costAfter := ev.Credits, ev.CostMicroUSD
		if perr != nil {
			unpriced += ev.Count // they keep their old price in the after figures: nothing is known better
		} else {
			var ok1, ok2 bool
			after, ok1 = mulC(q.Credits, ev.Count)
			costAfter, ok2 = mul64(q.VendorCostMicroUSD, ev.Count)
			if !ok1 || !ok2 {
				return ErrTooLarge
			}
		}
		k := groupKey{ev.Action, ev.Attributes["model"]}
		g := groups[k]
		if g == nil {
			g = &acc{}
			groups[k] = g
		}
		a := accounts[ev.AccountID]
		if a == nil {
			a = &acc{}
			accounts[ev.AccountID] = a
		}
		if !all.add(ev.Count, ev.Credits, after, ev.CostMicroUSD, costAfter) ||
			!g.add(ev.Count, ev.Credits, after, ev.CostMicroUSD, costAfter) ||
			!a.add(ev.Count, ev.Credits, after, ev.CostMicroUSD, costAfter) {
			return ErrTooLarge
		}
		if done += ev.Count; done/10_000 != (done-ev.Count)/10_000 {
			progress(done, total)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	balances, err := st.AvailableBalances(ctx)
	if err != nil {
		return nil, err
	}
	r := &Result{From: from, To: to, Events: all.events, Unpriced: unpriced,
		Before: totals(all.before, all.costBefore, target), After: totals(all.after, all.costAfter, target),
		Groups: []Group{}, Increases: []Customer{}, Decreases: []Customer{}}
	for k, g := range groups {
		r.Groups = append(r.Groups, Group{Action: k.action, Model: k.model, Events: g.events,
			Before: totals(g.before, g.costBefore, target), After: totals(g.after, g.costAfter, target)})
	}
	slices.SortFunc(r.Groups, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.Before.Credits, a.Before.Credits), cmp.Compare(a.Action, b.Action), cmp.Compare(a.Model, b.Model))
	})
	r.customers(accounts, balances)
	progress(done, total)
	return r, nil
}

func (r *Result) customers(accounts map[string]*acc, balances map[string]value.Credits) {
	var all []Customer
	for id, a := range accounts {
		c := Customer{AccountID: id, Before: a.before, After: a.after, Change: a.after - a.before}
		if a.before > 0 {
			c.ChangePermille = ratio(int64(c.Change), int64(a.before))
		}
		all = append(all, c)
		bal := balances[id]
		if a.after > a.before && bal > 0 {
			r.RunOutSooner++
			if bal >= a.before && bal < a.after {
				r.NewlyShort++
			}
		}
	}
	byChange := func(x, y Customer) int {
		return cmp.Or(cmp.Compare(y.Change, x.Change), cmp.Compare(x.AccountID, y.AccountID))
	}
	slices.SortFunc(all, byChange)
	for _, c := range all {
		if c.Change > 0 && len(r.Increases) < TopN {
			r.Increases = append(r.Increases, c)
		}
	}
	for i := len(all) - 1; i >= 0 && len(r.Decreases) < TopN; i-- {
		if all[i].Change < 0 {
			r.Decreases = append(r.Decreases, all[i])
		}
	}
}

// ratio is n/d in tenths of a percent, truncated toward zero.
func ratio(n, d int64) int64 {
	x := new(big.Int).Mul(big.NewInt(n), big.NewInt(1000))
	return x.Quo(x, big.NewInt(d)).Int64()
}

func totals(c value.Credits, cost int64, target pricing.MarginTarget) Totals {
	rev := pricing.CreditsMicroUSD(c, target.CreditMicroUSD)
	return Totals{Credits: c, RevenueMicroUSD: rev, CostMicroUSD: cost, MarginPermille: pricing.MarginPermille(rev, cost)}
}
