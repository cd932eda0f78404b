package billing

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// The map never passes its bound, evicts one entry per new key (never everything at once),
// spares entries used since the hand last passed, and reuses removed slots.
func TestClockMapEvictsOneColdEntryAtATime(t *testing.T) {
	m := newClockMap[int](4)
	var evicted []string
	m.onEvict = func(k string, _ *int) { evicted = append(evicted, k) }
	for i := 0; i < 4; i++ {
		m.put(fmt.Sprint(i), i)
	}
	m.get("0") // used: survives the next sweep
	m.put("4", 4)
	if m.len() != 4 || len(evicted) != 1 || evicted[0] != "1" {
		t.Fatalf("after one insert into a full map: len %d, evicted %v (want [1])", m.len(), evicted)
	}
	if _, ok := m.peek("0"); !ok {
		t.Fatal("the entry used since the last pass was evicted")
	}
	for i := 5; i < 100; i++ {
		m.put(fmt.Sprint(i), i)
		if m.len() > 4 {
			t.Fatalf("len %d passes the bound", m.len())
		}
	}
	if v, ok := m.get("99"); !ok || *v != 99 {
		t.Fatal("the newest entry is missing")
	}
	n := len(evicted)
	m.remove("99")
	m.put("new", 1) // takes the removed slot: nothing evicted
	if len(evicted) != n || m.len() != 4 || len(m.slots) != 4 {
		t.Fatalf("remove then put: evicted %d more, len %d, %d slots", len(evicted)-n, m.len(), len(m.slots))
	}
	m.clear()
	if m.len() != 0 {
		t.Fatal("clear left entries")
	}
}

// An account evicted from the routing snapshots takes its external ref along, so a later
// ForgetAccount (which finds the external ref through the id's entry) leaves nothing behind.
func TestSnapshotEvictionTakesTheExternalRef(t *testing.T) {
	s := &Service{}
	s.accounts.max = 3
	ext := "cust-1"
	s.snapshotsOf([]Account{{ID: "acc_1", ExternalID: &ext, Version: 1}}) // two refs
	s.snapshotsOf([]Account{{ID: "acc_2", Version: 1}})
	s.snapshotsOf([]Account{{ID: "acc_3", Version: 1}}) // evicts acc_1, and external:cust-1 with it
	if _, ok := s.accounts.m.peek("external:cust-1"); ok {
		t.Fatal("the external ref outlived its account's entry")
	}
	if s.accounts.m.len() > 3 {
		t.Fatalf("%d snapshots, bound 3", s.accounts.m.len())
	}
}

// Routing uses the ledger cache's copy of an account only while it is as current as a
// snapshot: not after the account changed (tombstone), nor once notifications were lost.
func TestRoutingUsesLedgerCacheOnlyWhileCurrent(t *testing.T) {
	s := &Service{}
	acc := Account{ID: "acc_1", Version: 4, Status: StatusActive}
	s.ledger.load([]Account{acc}, nil, nil, false, s.ledger.mark())
	if a, ok := s.ledger.routingAccount("acc_1"); !ok || a.Version != 4 {
		t.Fatalf("fresh entry not used for routing: %+v %v", a, ok)
	}
	got, err := s.AccountSnapshot(t.Context(), "acc_1")
	if err != nil || got.Version != 4 {
		t.Fatalf("AccountSnapshot: %+v %v", got, err)
	}
	s.ForgetAccounts()
	if _, ok := s.ledger.routingAccount("acc_1"); ok {
		t.Fatal("an entry recorded before notifications were lost still routes")
	}
	// Recorded again after the loss, then an older state put back by a late batch after the
	// account changed at version 6: the tombstone wins.
	s.ledger.drop([]string{"acc_1"})
	s.ledger.load([]Account{acc}, nil, nil, false, s.ledger.mark())
	s.ForgetAccount("acc_1", 6)
	s.ledger.load([]Account{acc}, nil, nil, false, s.ledger.mark())
	tomb, ok := s.accounts.m.peek("acc_1")
	if !ok || tomb.acc.Version != 6 {
		t.Fatalf("no tombstone at version 6: %+v", tomb)
	}
	if a, routed := s.ledgerRoute("acc_1", *tomb, true); routed {
		t.Fatalf("entry at version %d routes past the tombstone at version 6", a.Version)
	}
	newer := acc
	newer.Version = 7
	s.ledger.load([]Account{newer}, nil, nil, false, s.ledger.mark())
	if a, routed := s.ledgerRoute("acc_1", *tomb, true); !routed || a.Version != 7 {
		t.Fatalf("the state read after the change does not route: %+v %v", a, routed)
	}
	if _, routed := s.ledgerRoute("external:x", cachedAccount{}, false); routed {
		t.Fatal("an external ref routed through the ledger cache")
	}
}

// While the listener is live, an entry routes however old it is; an announced change leaves
// a tombstone in the ledger cache that a late, older state cannot replace; a state read
// before notifications were lost never routes, even when it is recorded after the loss.
func TestRoutingWithALiveListener(t *testing.T) {
	s := &Service{}
	acc := Account{ID: "acc_1", Version: 4, Status: StatusActive}
	age := func() { // as if recorded two TTLs ago
		e, _ := s.ledger.entries().peek("acc_1")
		e.at = cacheClock() - 2*int64(accountCacheTTL)
	}
	s.ledger.load([]Account{acc}, nil, nil, false, s.ledger.mark())
	age()
	if _, ok := s.ledger.routingAccount("acc_1"); ok {
		t.Fatal("without a listener an entry older than the TTL routes")
	}
	if err := s.ApplyCacheEvent(t.Context(), CacheEvent{Kind: EventsLive}); err != nil {
		t.Fatal(err)
	}
	if a, ok := s.ledger.routingAccount("acc_1"); !ok || a.Version != 4 {
		t.Fatalf("with a live listener the entry does not route: %+v %v", a, ok)
	}

	// A change announced at version 6; a batch that read version 4 before it finishes after.
	s.ForgetAccount("acc_1", 6)
	s.ledger.load([]Account{acc}, nil, nil, true, s.ledger.mark())
	if _, ok := s.ledger.routingAccount("acc_1"); ok {
		t.Fatal("a state older than the announced change routes")
	}
	if accs, _, _, missing := s.ledger.get([]string{"acc_1"}); len(accs) != 0 || len(missing) != 1 {
		t.Fatalf("a tombstone was handed out as an account: %+v", accs)
	}
	if s.ledger.cached([]string{"acc_1"})["acc_1"] {
		t.Fatal("a tombstone counts as cached")
	}
	s.ledger.drop([]string{"acc_1"}) // a refused statement's drop keeps the tombstone
	s.ledger.load([]Account{acc}, nil, nil, true, s.ledger.mark())
	if _, ok := s.ledger.routingAccount("acc_1"); ok {
		t.Fatal("a drop removed the tombstone")
	}
	v6 := acc
	v6.Version = 6
	s.ledger.load([]Account{v6}, nil, nil, true, s.ledger.mark())
	if a, ok := s.ledger.routingAccount("acc_1"); !ok || a.Version != 6 {
		t.Fatalf("the state of the announced version does not route: %+v %v", a, ok)
	}

	// A read that began before notifications were lost, recorded after the listener is back.
	before := s.ledger.mark()
	s.ForgetAccounts() // what EventsLost does to the caches
	if _, ok := s.ledger.routingAccount("acc_1"); ok {
		t.Fatal("an entry from before the loss routes")
	}
	v7 := acc
	v7.Version = 7
	_ = s.ApplyCacheEvent(t.Context(), CacheEvent{Kind: EventsLive})
	s.ledger.load([]Account{v7}, nil, nil, true, before)
	if _, ok := s.ledger.routingAccount("acc_1"); ok {
		t.Fatal("a state read before the loss routes")
	}
	s.ledger.load([]Account{{ID: "acc_2", Version: 1}}, nil, nil, true, s.ledger.mark())
	e, _ := s.ledger.entries().peek("acc_2")
	e.at = cacheClock() - 2*int64(accountCacheTTL)
	if _, ok := s.ledger.routingAccount("acc_2"); !ok {
		t.Fatal("a state read after the listener came back does not route")
	}
}

// BenchmarkLedgerCacheBytesPerAccount reports the heap one cached account takes, shaped like
// the benchmark's accounts (a name, an external id, one grant, the six default alert rules):
// go test ./billing -run '^$' -bench LedgerCacheBytes -benchtime 1x
func BenchmarkLedgerCacheBytesPerAccount(b *testing.B) {
	const n = 200_000
	now := time.Now().UTC()
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before) // before the input: the strings the cache keeps count too
		accs := make([]Account, n)
		grants := make([]Grant, n)
		var rules []AlertRule
		for i := range accs {
			id, ext := fmt.Sprintf("acc_01m8n0bench%010d", i), fmt.Sprintf("bench-%d", i)
			accs[i] = Account{ID: id, Name: fmt.Sprintf("bench %d", i), ExternalID: &ext, Status: StatusActive, PlanKey: "bench",
				Balance: 1000 * Credit, CreatedAt: now, Version: 1}
			grants[i] = Grant{ID: fmt.Sprintf("grt_01m8n0bench%010d", i), AccountID: id, Source: "promo", Amount: 1000 * Credit,
				Remaining: 1000 * Credit, Priority: 10, EffectiveAt: now, Actor: "seed", Reason: "bulk accounts (load test)", CreatedAt: now}
			for j, r := range defaultAlertRules(id, now) {
				r.ID = fmt.Sprintf("alr_01m8n0bench%010d_%d", i, j)
				rules = append(rules, r)
			}
		}
		s := &Service{}
		s.ledger.max = n
		s.ledger.load(accs, grants, rules, false, cacheMark{})
		accs, grants, rules = nil, nil, nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		if s.LedgerCacheLen() != n {
			b.Fatalf("%d cached", s.LedgerCacheLen())
		}
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "bytes/account")
		runtime.KeepAlive(s)
	}
}

// A change announced for an account not cached leaves no tombstone in the cache (which would
// evict a live entry) but still keeps a read that began before it from being recorded; a
// local change (version unknown) never removes the tombstone a notification laid; an evicted
// tombstone keeps guarding.
func TestLedgerCacheChangeGuards(t *testing.T) {
	s := &Service{}
	s.ledger.max = 2
	_ = s.ApplyCacheEvent(t.Context(), CacheEvent{Kind: EventsLive})
	old := Account{ID: "acc_1", Version: 3, Status: StatusActive}

	// Not cached when announced at version 4: nothing in the cache, the stale read refused.
	s.ForgetAccount("acc_1", 4)
	if n := s.ledger.len(); n != 0 {
		t.Fatalf("%d entries after a change of an account not cached", n)
	}
	if s.ledger.load([]Account{old}, nil, nil, true, s.ledger.mark()) != 0 {
		t.Fatal("a state older than the announced change was recorded")
	}
	v4 := old
	v4.Version = 4
	if s.ledger.load([]Account{v4}, nil, nil, true, s.ledger.mark()) != 1 || len(s.ledger.absent) != 0 {
		t.Fatalf("the announced state was not recorded, or its change not dropped: %v", s.ledger.absent)
	}
	if s.ledger.load([]Account{old}, nil, nil, true, s.ledger.mark()) != 0 {
		t.Fatal("the recorded entry does not guard against the older state")
	}

	// Cached: the notification's tombstone at 5, then the local forget of the same change.
	s.ForgetAccount("acc_1", 5)
	s.forgetAccount("acc_1")
	s.ledger.load([]Account{v4}, nil, nil, true, s.ledger.mark())
	if _, ok := s.ledger.routingAccount("acc_1"); ok {
		t.Fatal("a local forget removed the tombstone: the older state routes")
	}

	// The tombstone evicted by other accounts: its change is still kept.
	for i := 2; i < 6; i++ { // the hand clears its second chance, then evicts it
		s.ledger.load([]Account{{ID: "acc_" + strconv.Itoa(i), Version: 1}}, nil, nil, true, s.ledger.mark())
	}
	if _, ok := s.ledger.entries().peek("acc_1"); ok {
		t.Fatal("the tombstone was not evicted")
	}
	if s.ledger.load([]Account{v4}, nil, nil, true, s.ledger.mark()) != 0 {
		t.Fatal("after its tombstone was evicted, a state older than the change was recorded")
	}

	// Overflow: emptied, and the epoch moves on.
	ep := s.ledger.mark()
	s.ledger.mu.Lock()
	for i := range maxAbsentChanges + 1 {
		s.ledger.noteAbsent("acc_x"+strconv.Itoa(i), 1)
	}
	s.ledger.mu.Unlock()
	if s.ledger.mark() == ep || len(s.ledger.absent) > maxAbsentChanges {
		t.Fatalf("overflow: epoch %d -> %d, %d kept", ep, s.ledger.mark(), len(s.ledger.absent))
	}
}
