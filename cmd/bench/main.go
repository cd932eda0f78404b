// Command bench measures debit throughput end to end: it starts `portal serve` on a fresh
// database, drives POST /api/v1/usage and /api/v1/usage/batch with a load generator, and runs
// a pgbench baseline (one conditional debit and one ledger insert per transaction) and a
// pgbench ceiling (the very rows a debit writes, batched, with no server) in the same run,
// printing debits/s, p50, p99, the ratio to the baseline and the share of the ceiling.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

type options struct {
	duration  time.Duration
	clients   int
	accounts  []int // spread scenarios, one fresh server each; the first also runs the others
	batchSize int
	batchCli  int
	rate      int
	keep      bool
	reuse     string // a database kept by an earlier -keep run: its accounts, no set-up
	only      string
	timeline  bool
	warmup    time.Duration
	members   bool   // every account has a member, and every event is attributed to it
	memberLim string // with members: each member's monthly limit in credits ("" none)
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "d", 10*time.Second, "duration of each scenario")
	flag.IntVar(&o.clients, "c", 32, "concurrent clients for single-event requests")
	accounts := flag.String("accounts", "1000", "comma-separated account counts: a spread scenario (with its pgbench baseline) on a fresh server for each, e.g. 1000,100000,1000000")
	flag.IntVar(&o.batchSize, "batch", 500, "events per batch request")
	flag.IntVar(&o.batchCli, "batch-clients", 8, "concurrent clients for the batch scenario")
	flag.IntVar(&o.rate, "rate", 0, "also run a fixed-rate (open loop) spread scenario at this many requests/s, reporting dropped requests")
	flag.BoolVar(&o.keep, "keep", false, "keep the benchmark database")
	flag.StringVar(&o.reuse, "reuse", "", "run on this database, kept by an earlier run with -keep, instead of setting up a fresh one (its accounts, a new key; faster when iterating over a million accounts)")
	flag.StringVar(&o.only, "only", "", "comma-separated scenarios to run: baseline,ceiling,spread,hot,batch,rate")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "load sent before each scenario's measurement starts (not counted)")
	flag.BoolVar(&o.timeline, "timeline", false, "with -rate: print sends, drops and the worst latency per 250 ms")
	flag.BoolVar(&o.members, "members", false, "give every account a member and attribute every event to it (\"member\": \"mem_...\")")
	flag.StringVar(&o.memberLim, "member-limit", "", "with -members: each member's monthly limit in credits (their debits are then decided under the account's lock)")
	flag.Parse()
	for _, f := range strings.Split(*accounts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 10_000_000 {
			fmt.Fprintf(os.Stderr, "bench: -accounts %q: give whole numbers from 1 to 10000000\n", *accounts)
			os.Exit(2)
		}
		o.accounts = append(o.accounts, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func (o options) wants(s string) bool {
	return o.only == "" || strings.Contains(","+o.only+",", ","+s+",")
}

func run(ctx context.Context, o options) error {
	var db *benchDB
	var err error
	if o.reuse != "" {
		db, err = reusedDatabase(ctx, o.reuse)
	} else {
		db, err = freshDatabase(ctx)
	}
	if err != nil {
		return err
	}
	if !o.keep && o.reuse == "" {
		defer db.drop()
	} else {
		fmt.Println("database kept:", db.url)
	}
	fmt.Printf("machine: %d CPUs, %s; PostgreSQL %s (synchronous_commit=%s)\n", runtime.NumCPU(), runtime.GOARCH, db.version, db.syncCommit)
	// A folder of this run's own: another benchmark on the machine (another tree) builds its
	// own portal, and must not replace this one between its build and its start.
	binDir, err := os.MkdirTemp("", "creditline-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	bin := filepath.Join(binDir, "portal")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/portal").CombinedOutput(); err != nil {
		return fmt.Errorf("build portal: %v\n%s", err, out)
	}
	fix, err := setup(ctx, db.url, slices.Max(o.accounts), o)
	if err != nil {
		return err
	}
	first := o.accounts[0]
	var results []result
	if o.wants("baseline") {
		for i, n := range o.accounts {
			for _, hot := range []bool{false, true} {
				if hot && i > 0 {
					continue
				}
				db.checkpoint(ctx)
				r, err := pgbenchBaseline(ctx, db.url, n, hot, o.duration)
				if err != nil {
					return err
				}
				if !hot {
					r.name += o.suffix(n)
				}
				results = append(results, r)
			}
		}
	}
	if o.wants("ceiling") {
		for _, c := range []struct {
			name                     string
			accounts, batch, clients int
		}{
			{"pgbench ceiling spread", first, 16, 2},
			{"pgbench ceiling hot account", 1, 16, 2},
			{"pgbench ceiling batch", first, o.batchSize, 2},
		} {
			db.checkpoint(ctx)
			r, err := pgbenchCeiling(ctx, db.url, c.name, c.accounts, c.batch, c.clients, o.duration)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
	}
	var scale []scaleRow
	for i, n := range o.accounts {
		if i > 0 {
			if err := settleBetween(ctx, db.url); err != nil {
				return err
			}
		}
		rs, row, err := o.serverRun(ctx, db, bin, fix, n, i == 0)
		if err != nil {
			return err
		}
		results = append(results, rs...)
		scale = append(scale, row)
	}
	report(results)
	if o.timeline {
		for _, r := range results {
			if r.timeline != "" {
				fmt.Printf("\n%s, per 250 ms:\n%s", r.name, r.timeline)
			}
		}
	}
	if len(o.accounts) > 1 {
		reportScale(scale, results)
	}
	return verify(ctx, bin, db.url)
}

// suffix names a scenario's account count when the run has more than one.
func (o options) suffix(n int) string {
	if len(o.accounts) < 2 {
		return ""
	}
	return fmt.Sprintf(" (%s accounts)", thousands(n))
}

// serverRun starts a fresh `portal serve` (a cold start: its caches are empty) and measures
// the spread over the first n accounts, the fixed-rate run over them, and, when all is set,
// the hot-account and batch scenarios; it reads the server's resident memory at the end.
func (o options) serverRun(ctx context.Context, db *benchDB, bin string, fix *fixture, n int, all bool) ([]result, scaleRow, error) {
	srv, err := startServer(ctx, bin, db.url)
	if err != nil {
		return nil, scaleRow{}, err
	}
	defer srv.stop()
	row := scaleRow{accounts: n, rssStart: srv.rss()}
	var results []result
	lg := &loadgen{warmup: o.warmup, base: srv.base, key: fix.key, accounts: fix.accounts[:n], members: fix.members,
		run: fmt.Sprintf("%x-", rand.Uint64())}
	measure := func(f func() result) result {
		db.checkpoint(ctx)
		before := make(chan gcCounters, 1) // the batcher's counters once the warm-up is over
		go func() { time.Sleep(o.warmup); before <- readGC(srv.base) }()
		r := f()
		b, a := <-before, readGC(srv.base)
		r.batcher = batcherNote(b, a)
		r.lockFreeShare = lockFreeShare(b, a)
		results = append(results, r)
		return r
	}
	if o.wants("spread") {
		row.spread = measure(func() result { return lg.closedLoop(ctx, "api spread"+o.suffix(n), o.clients, o.duration, false) })
	}
	if all && o.wants("hot") {
		measure(func() result { return lg.closedLoop(ctx, "api hot account", o.clients, o.duration, true) })
	}
	if all && o.wants("batch") {
		measure(func() result { return lg.batches(ctx, "api batch", o.batchCli, o.batchSize, o.duration) })
	}
	if o.rate > 0 && o.wants("rate") {
		measure(func() result {
			return lg.fixedRate(ctx, fmt.Sprintf("api spread @%d/s", o.rate)+o.suffix(n), o.rate, o.duration)
		})
	}
	row.rssEnd = srv.rss()
	row.cached = int(readGC(srv.base).cached)
	return results, row, nil
}
