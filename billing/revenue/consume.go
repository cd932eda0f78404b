package revenue

import (
	"context"
	"errors"
	"log/slog"
	"math/bits"
	"sort"
	"time"
)

// Service keeps and reads the revenue rollups.
type Service struct {
	store Store
	now   func() time.Time
	// Batch is how many ledger entries one transaction consumes.
	Batch int
}

// New builds the service; now is the clock (billing.Service.Now).
func New(st Store, now func() time.Time) *Service {
	return &Service{store: st, now: now, Batch: 5000}
}

// MovedCents is floor(paid × used / amount): the cents of a grant no longer deferred once used
// of its amount millicredits are consumed, expired or revoked. Computed from the cumulative use,
// never summed from rounded parts, so a used-up grant has moved exactly its paid amount.
func MovedCents(paid, used, amount int64) int64 {
	if paid <= 0 || amount <= 0 || used <= 0 {
		return 0
	}
	if used >= amount {
		return paid
	}
	hi, lo := bits.Mul64(uint64(paid), uint64(used))
	q, _ := bits.Div64(hi, lo, uint64(amount)) // q <= paid: hi < amount, no panic
	return int64(q)
}

var errOverflow = errors.New("revenue: sum out of range")

// add is an overflow-checked sum.
func add(a, b int64) (int64, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, errOverflow
	}
	return s, nil
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// paid says whether the entry's grant carries real money: test-mode purchases, promo and
// trial credits never do.
func (e Entry) paid() bool { return e.GrantID != "" && e.Paid > 0 && !e.TestMode && e.GrantAmount > 0 }

// batch accumulates one transaction's changes.
type batch struct {
	grants  map[string]*GrantState
	changed map[string]bool
	monthly map[[2]string]*Monthly
	margin  map[[4]string]*MarginAdd
	costs   map[[3]string]*CostAdd
	units   map[[2]string]*UnitsAdd
}

func newBatch(states []GrantState) *batch {
	b := &batch{grants: map[string]*GrantState{}, changed: map[string]bool{}, monthly: map[[2]string]*Monthly{},
		margin: map[[4]string]*MarginAdd{}, costs: map[[3]string]*CostAdd{}, units: map[[2]string]*UnitsAdd{}}
	for i := range states {
		b.grants[states[i].GrantID] = &states[i]
	}
	return b
}

func (b *batch) month(t time.Time, cur string) *Monthly {
	m := monthOf(t)
	k := [2]string{m.Format(time.DateOnly), cur}
	if b.monthly[k] == nil {
		b.monthly[k] = &Monthly{Month: m, Currency: cur}
	}
	return b.monthly[k]
}

// apply counts one entry. Cash arrives with the grant entry; every change of remaining moves
// cents by the difference of MovedCents before and after, into the kind's column.
func (b *batch) apply(e Entry) error {
	if e.Kind == "debit" {
		if err := b.usage(e); err != nil {
			return err
		}
	}
	if !e.paid() {
		return nil
	}
	m := b.month(e.CreatedAt, e.Currency)
	var err error
	if e.Kind == "grant" {
		col := &m.CashOther
		switch e.Source {
		case "purchase":
			col = &m.CashPacks
		case "subscription":
			col = &m.CashSubscriptions
		case "auto_recharge":
			col = &m.CashRecharges
		}
		*col, err = add(*col, e.Paid)
		if b.grants[e.GrantID] == nil {
			b.grants[e.GrantID] = &GrantState{GrantID: e.GrantID}
			b.changed[e.GrantID] = true
		}
		return err
	}
	var col *int64
	switch e.Kind {
	case "debit":
		col = &m.Recognised
	case "expire", "adjust":
		col = &m.Breakage
	case "revoke":
		col = &m.Refunds
	default: // hold and release move reserved, never remaining
		return nil
	}
	g := b.grants[e.GrantID]
	if g == nil {
		g = &GrantState{GrantID: e.GrantID}
		b.grants[e.GrantID] = g
	}
	used, err := add(g.Used, -e.Amount)
	if err != nil {
		return err
	}
	used = min(max(used, 0), e.GrantAmount)
	moved := MovedCents(e.Paid, used, e.GrantAmount)
	delta := moved - g.Moved
	g.Used, g.Moved = used, moved
	b.changed[e.GrantID] = true
	if *col, err = add(*col, delta); err != nil {
		return err
	}
	if e.Kind == "debit" && delta != 0 {
		k := [4]string{monthOf(e.CreatedAt).Format(time.DateOnly), e.Currency, e.Action, e.Model}
		if b.margin[k] == nil {
			b.margin[k] = &MarginAdd{Month: monthOf(e.CreatedAt), Currency: e.Currency, Action: e.Action, Model: e.Model}
		}
		b.margin[k].Recognised, err = add(b.margin[k].Recognised, delta)
	}
	return err
}

// usage counts credits of every debit entry, and the event (count, vendor cost, units) once,
// on the debit's first entry.
func (b *batch) usage(e Entry) error {
	mo := monthOf(e.CreatedAt)
	k := [3]string{mo.Format(time.DateOnly), e.Action, e.Model}
	c := b.costs[k]
	if c == nil {
		c = &CostAdd{Month: mo, Action: e.Action, Model: e.Model}
		b.costs[k] = c
	}
	var err error
	if c.Credits, err = add(c.Credits, -e.Amount); err != nil {
		return err
	}
	if !e.First {
		return nil
	}
	c.Events++
	if c.VendorCost, err = add(c.VendorCost, e.VendorCost); err != nil {
		return err
	}
	if e.OccurredAt.IsZero() {
		return nil
	}
	d := dayOf(e.OccurredAt)
	uk := [2]string{d.Format(time.DateOnly), e.Model}
	u := b.units[uk]
	if u == nil {
		u = &UnitsAdd{Day: d, Model: e.Model}
		b.units[uk] = u
	}
	u.Events++
	if u.Units, err = add(u.Units, e.Units); err != nil {
		return err
	}
	u.VendorCost, err = add(u.VendorCost, e.VendorCost)
	return err
}

// CatchUp consumes every ledger entry that is safe to count, in batches, and returns how many
// it read. Run again, it counts nothing twice: the cursor moves in the batch's transaction.
func (s *Service) CatchUp(ctx context.Context) (int, error) {
	total := 0
	for range 10_000 {
		n, more, err := s.step(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
	return total, nil
}

// step is one transaction: refresh the horizon when the last one is consumed, wait (by
// returning) while a transaction that may hold a lower id still runs, else consume one batch.
//
// Why not "id > cursor": ids are taken before commit, so id 7 can commit after id 8 has been
// read. The horizon is the sequence's last value read *before* listing the transactions that
// hold a write lock on ledger_entries (taken before an insert draws its id); once all of those
// have ended, every id up to the horizon is committed or gone for good. This needs the
// sequence's CACHE 1 (the bigserial default).
func (s *Service) step(ctx context.Context) (n int, more bool, err error) {
	err = s.store.InTx(ctx, func(tx Tx) error {
		c, err := tx.LockCursor(ctx)
		if err != nil {
			return err
		}
		if c.Consumed >= c.PendingUpto {
			upto, vx, err := tx.Horizon(ctx)
			if err != nil {
				return err
			}
			if upto <= c.Consumed {
				return nil // nothing new
			}
			c.PendingUpto, c.PendingVxids = upto, vx
		}
		if len(c.PendingVxids) > 0 {
			running, err := tx.AnyRunning(ctx, c.PendingVxids)
			if err != nil {
				return err
			}
			if running {
				return tx.SaveCursor(ctx, c) // try again on the next run
			}
			c.PendingVxids = nil
		}
		es, err := tx.EntriesBetween(ctx, c.Consumed, c.PendingUpto, s.Batch)
		if err != nil {
			return err
		}
		recent, err := tx.DebitsBetween(ctx, max(c.Consumed-DebitSpan, 0), c.Consumed)
		if err != nil {
			return err
		}
		markFirst(es, recent)
		if err := s.consume(ctx, tx, es); err != nil {
			return err
		}
		n, more = len(es), true
		c.Consumed = c.PendingUpto
		if len(es) == s.Batch {
			c.Consumed = es[len(es)-1].ID
		}
		return tx.SaveCursor(ctx, c)
	})
	return n, more, err
}

// DebitSpan bounds how far apart (in ids) the entries of one debit lie: they are written by
// one statement of one transaction, one row per grant drawn, so only concurrent writers'
// rows come between them. A debit seen within DebitSpan before a batch was counted there.
const DebitSpan = 2000

// markFirst marks each debit's first entry, the one that counts its usage event.
func markFirst(es []Entry, counted []string) {
	seen := make(map[string]bool, len(counted))
	for _, d := range counted {
		seen[d] = true
	}
	for i := range es {
		if d := es[i].DebitID; es[i].Kind == "debit" && d != "" && !seen[d] {
			es[i].First, seen[d] = true, true
		}
	}
}

func (s *Service) consume(ctx context.Context, tx Tx, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, e := range es {
		if e.paid() && !seen[e.GrantID] {
			seen[e.GrantID] = true
			ids = append(ids, e.GrantID)
		}
	}
	states, err := tx.GrantStates(ctx, ids)
	if err != nil {
		return err
	}
	b := newBatch(states)
	for _, e := range es {
		if err := b.apply(e); err != nil {
			return err
		}
	}
	return b.save(ctx, tx)
}

func (b *batch) save(ctx context.Context, tx Tx) error {
	var gs []GrantState
	for id := range b.changed {
		gs = append(gs, *b.grants[id])
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].GrantID < gs[j].GrantID }) // stable lock order
	if err := tx.SaveGrantStates(ctx, gs); err != nil {
		return err
	}
	if err := tx.AddMonthly(ctx, values(b.monthly)); err != nil {
		return err
	}
	if err := tx.AddMargin(ctx, values(b.margin)); err != nil {
		return err
	}
	if err := tx.AddCosts(ctx, values(b.costs)); err != nil {
		return err
	}
	return tx.AddUnits(ctx, values(b.units))
}

func values[K comparable, V any](m map[K]*V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, *v)
	}
	return out
}

// Run catches up every interval until ctx ends; errors are logged and tried again.
func (s *Service) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.CatchUp(context.WithoutCancel(ctx)); err != nil {
			log.Error("revenue catch-up", "err", err)
		} else if n > 0 {
			log.Info("revenue catch-up", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
