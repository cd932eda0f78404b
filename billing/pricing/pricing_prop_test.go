package pricing

import (
	"encoding/json"
	"maps"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"creditline/billing/value"
)

const propRuns = 3000

// randomRequest draws a valid request against the seed catalog: a random rate's
// attributes (sometimes with extra declared ones), random quantities (zero,
// small, large; decimals for measured units), plan, batch flag and time.
func randomRequest(rng *rand.Rand, d BookData) Request {
	r := d.Rates[rng.IntN(len(d.Rates))]
	a := *findAction(&d, r.Action)
	at := maps.Clone(r.Match)
	if at == nil {
		at = map[string]string{}
	}
	if len(a.Attributes) > 0 && rng.IntN(3) == 0 {
		k := a.Attributes[rng.IntN(len(a.Attributes))]
		if _, set := at[k]; !set {
			at[k] = []string{"hd", "creative", "1024x1024", "standard"}[rng.IntN(4)]
		}
	}
	q := map[string]value.Quantity{}
	for _, name := range a.Quantities {
		if rng.IntN(5) == 0 {
			q[name] = 0 // every quantity a rate prices is required; zero is a quantity
			continue
		}
		// 2^30 of the dearest unit under every multiplier stays below MaxCredits.
		limit := []int64{3, 2_000, 1_000_000, 1 << 30}[rng.IntN(4)]
		if QuantityIsMeasured(name) {
			q[name] = value.Quantity(rng.Int64N(limit * 1000))
		} else {
			q[name] = value.Count(rng.Int64N(limit))
		}
	}
	plans := []value.Multiplier{0, 9000, 8000, value.MultiplierOne, value.Multiplier(1 + rng.IntN(30000))}
	return Request{
		Action: r.Action, Attributes: at, Quantities: q, Plan: "p",
		PlanMultiplier: plans[rng.IntN(len(plans))], Batch: rng.IntN(2) == 0,
		At: wednesdayNoon.Add(time.Duration(rng.Int64N(int64(14 * 24 * time.Hour)))),
	}
}

// The estimate runs on one server's live book, the charge maybe on another that
// loaded the same version from storage: same version and time, same quote.
func TestPropertyEstimateEqualsCharge(t *testing.T) {
	book := seedWithSchedule(t)
	js, err := json.Marshal(book)
	must(t, err)
	var stored Book
	must(t, json.Unmarshal(js, &stored))
	var estimator, charger LiveBook
	must(t, estimator.Load([]*Book{book}))
	must(t, charger.Load([]*Book{&stored}))
	rng := rand.New(rand.NewPCG(1, 2))
	d := book.Data()
	for range propRuns {
		req := randomRequest(rng, d)
		est, errE := estimator.Price(req)
		chg, errC := charger.Price(req)
		if !reflect.DeepEqual(est, chg) || (errE == nil) != (errC == nil) {
			t.Fatalf("estimate %+v (%v) != charge %+v (%v) for %+v", est, errE, chg, errC, req)
		}
	}
}

// More of any quantity never costs less.
func TestPropertyMonotonicInQuantity(t *testing.T) {
	book := seedWithSchedule(t)
	rng := rand.New(rand.NewPCG(3, 4))
	d := book.Data()
	for range propRuns {
		req := randomRequest(rng, d)
		before, err := book.Price(req)
		must(t, err)
		a := findAction(&d, req.Action)
		name := a.Quantities[rng.IntN(len(a.Quantities))]
		more := maps.Clone(req.Quantities)
		step := value.Count(1 + rng.Int64N(5000))
		if QuantityIsMeasured(name) {
			step = value.Quantity(1 + rng.Int64N(5000))
		}
		more[name] += step
		req.Quantities = more
		after, err := book.Price(req)
		must(t, err)
		if after.Credits < before.Credits || after.VendorCostMicroUSD < before.VendorCostMicroUSD {
			t.Fatalf("%s +%s: %s -> %s credits", name, step, before.Credits, after.Credits)
		}
	}
}

// The engine equals an independent big.Rat computation that applies every
// multiplier to the exact base and rounds once at the end.
func TestPropertyMatchesExactOracle(t *testing.T) {
	book := seedWithSchedule(t)
	rng := rand.New(rand.NewPCG(5, 6))
	d := book.Data()
	for range propRuns {
		req := randomRequest(rng, d)
		q, err := book.Price(req)
		must(t, err)
		if want := oracle(d, req); q.Credits != want {
			t.Fatalf("engine %s, oracle %s for %+v\n%s", q.Credits, want, req, q.Breakdown)
		}
	}
}

// Because rounding happens once, swapping the plan and batch factors changes nothing.
func TestPropertyMultipliersCommute(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	d := SeedBook().Data()
	for range propRuns / 10 {
		x, y := value.Multiplier(1+rng.IntN(20000)), value.Multiplier(1+rng.IntN(20000))
		req := randomRequest(rng, d)
		req.Batch = true
		withBatch := func(batch, plan value.Multiplier) value.Credits {
			dd := d
			dd.BatchMultiplier = batch
			b, err := NewBook(dd)
			must(t, err)
			r := req
			r.PlanMultiplier = plan
			q, err := b.Price(r)
			must(t, err)
			return q.Credits
		}
		if a, b := withBatch(x, y), withBatch(y, x); a != b {
			t.Fatalf("plan %s batch %s = %s, swapped = %s", y, x, a, b)
		}
	}
}

// The uint64 fast path and its math/big fallback agree with plain big.Rat.
func TestPropertyExactArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	draw := func() uint64 {
		switch rng.IntN(3) {
		case 0:
			return rng.Uint64N(1000)
		case 1:
			return rng.Uint64N(1 << 40)
		}
		return rng.Uint64N(1<<63 - 1)
	}
	for range propRuns * 3 {
		e, want := newExact(), new(big.Rat)
		for range 1 + rng.IntN(4) {
			q, n, den := draw(), draw(), 1+rng.Uint64N(1_000_000_000)
			if rng.IntN(2) == 0 {
				e.addProduct(q, n, den)
			} else {
				t := newExact()
				t.addProduct(q, n, den)
				e.add(&t)
			}
			want.Add(want, new(big.Rat).SetFrac(new(big.Int).Mul(u2big(q), u2big(n)), u2big(den)))
		}
		floor := rng.Uint64N(1 << 50)
		e.atLeast(floor)
		if want.Cmp(new(big.Rat).SetInt(u2big(floor))) < 0 {
			want.SetInt(u2big(floor))
		}
		for range rng.IntN(4) {
			m := 1 + rng.Uint64N(30000)
			e.mul(m, 10000)
			want.Mul(want, big.NewRat(int64(m), 10000))
		}
		got, ok := e.round()
		w, wok := roundRat(want)
		if ok != wok || (ok && got != w) {
			t.Fatalf("exact = %d,%v; big = %d,%v (%s)", got, ok, w, wok, want.RatString())
		}
	}
}

func roundRat(r *big.Rat) (int64, bool) {
	twice := new(big.Int).Mul(r.Num(), big.NewInt(2))
	twice.Add(twice, r.Denom())
	q := twice.Quo(twice, new(big.Int).Mul(r.Denom(), big.NewInt(2)))
	return q.Int64(), q.IsInt64()
}

// oracle prices req from the book data alone, with big.Rat throughout.
func oracle(d BookData, req Request) value.Credits {
	var rate Rate
	best := -1
	for _, r := range d.Rates {
		ok := r.Action == req.Action
		for k, v := range r.Match {
			ok = ok && req.Attributes[k] == v
		}
		if ok && len(r.Match) > best {
			rate, best = r, len(r.Match)
		}
	}
	milli := func(v int64) *big.Rat { return big.NewRat(v, 1000) }
	total := milli(int64(rate.Flat))
	for _, c := range rate.Components {
		units := milli(int64(req.Quantities[c.Quantity]))
		tiers := c.Tiers
		if len(tiers) == 0 {
			tiers = []Tier{{Price: c.Price}}
		}
		lower := new(big.Rat)
		for _, t := range tiers {
			part := new(big.Rat).Sub(units, lower)
			if t.UpTo != 0 && units.Cmp(milli(int64(t.UpTo))) > 0 {
				part.Sub(milli(int64(t.UpTo)), lower)
			}
			if part.Sign() > 0 {
				part.Mul(part, milli(int64(t.Price)))
				total.Add(total, part.Quo(part, big.NewRat(c.Per, 1)))
			}
			lower = milli(int64(t.UpTo))
		}
	}
	if total.Cmp(milli(int64(rate.Minimum))) < 0 {
		total = milli(int64(rate.Minimum))
	}
	factors := []value.Multiplier{req.PlanMultiplier.Or1(), rate.Multiplier.Or1()}
	at := req.At.UTC()
	for _, w := range d.Schedule.Windows {
		day := len(w.Days) == 0 || slices.Contains(w.Days, dayNames[at.Weekday()])
		if d.Schedule.Enabled && day && at.Hour() >= w.FromHour && at.Hour() < w.ToHour {
			factors = append(factors, w.Multiplier)
		}
	}
	if req.Batch {
		factors = append(factors, d.BatchMultiplier.Or1())
	}
	for _, f := range factors {
		total.Mul(total, big.NewRat(int64(f), 10000))
	}
	total.Mul(total, big.NewRat(1000, 1))
	mc, _ := roundRat(total)
	return value.Credits(mc)
}
