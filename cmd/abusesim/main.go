// Command abusesim plays the synthetic abuse scenario (package billing/abuse/abusesim) on a
// fresh database and prints the detection table and the false-positive count; with -bulk N it
// instead measures one detector run over a database holding N usage events (`portal seed
// --bulk`'s generator). It creates creditline_abusesim_<random> on DATABASE_URL's server (or
// a throwaway local cluster) and drops it afterwards unless -keep.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/abuse/abusesim"
	"creditline/payments"
	"creditline/store"
	"creditline/store/pgcluster"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "abusesim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("abusesim", flag.ContinueOnError)
	normal := fs.Int("normal", 12, "normal customers beside the attacks")
	seed := fs.Int64("seed", 1, "randomness of the normal traffic")
	bulk := fs.Int("bulk", 0, "instead: time one detector run over this many usage events (e.g. 1000000)")
	keep := fs.Bool("keep", false, "keep the database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := getenv("DATABASE_URL")
	if base == "" {
		cl, err := pgcluster.Ensure(filepath.Join(os.TempDir(), "creditline-pgtest"), 55432)
		if err != nil {
			return err
		}
		base = cl.URL("postgres")
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	url, drop, err := store.CreateDatabase(ctx, base, "creditline_abusesim_"+hex.EncodeToString(b))
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(out, "database: %s (kept)\n", url)
	} else {
		defer drop() //nolint:errcheck
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		return err
	}
	st := store.New(db)
	clock := abusesim.NewClock(time.Now().Truncate(time.Minute))
	svc := billing.NewService(st, billing.Options{Now: clock.Now, Payments: payments.NewTestMode(), PasswordCost: 4})
	if err := svc.SeedCatalog(ctx); err != nil {
		return err
	}
	if err := svc.LoadLiveBook(ctx); err != nil {
		return err
	}
	det := abuse.New(svc, st.Abuse(), abuse.Options{})
	if *bulk > 0 {
		return timeBulk(ctx, out, st, svc, det, clock, *bulk)
	}
	start := time.Now()
	rep, err := abusesim.New(svc, det, clock, abusesim.Config{Normal: *normal, Seed: *seed}).Play(ctx)
	if err != nil {
		return err
	}
	fmt.Fprint(out, rep.Table())
	fmt.Fprintf(out, "scenario played in %s (wall clock); time to flag is simulated time from the attack's start to the detector run that flagged it\n",
		time.Since(start).Round(time.Millisecond))
	return nil
}

// timeBulk seeds the demo and n usage events on its busiest account, then times the first
// detector run (it folds every ledger entry into the rollups) and a steady-state run.
func timeBulk(ctx context.Context, out io.Writer, st *store.Store, svc *billing.Service, det *abuse.Service, clock *abusesim.Clock, n int) error {
	if _, err := svc.SeedDemo(ctx); err != nil {
		return err
	}
	u, err := st.UserByEmail(ctx, "demo@creditline.test")
	if err != nil {
		return err
	}
	acc, _, err := svc.AccountForUser(ctx, u.ID, "")
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := st.SeedBulkUsage(ctx, svc, acc.ID, n, 0, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d usage events in %s\n", res.Events, time.Since(start).Round(time.Millisecond))
	clock.Advance(time.Minute)
	for _, name := range []string{"first run (folds the whole ledger)", "steady-state run (nothing new)"} {
		rep, err := det.Run(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %s, %d ledger entries folded (%d usage events), flags raised %v\n", name,
			rep.Elapsed.Round(time.Millisecond), rep.Folded, rep.Events, rep.Raised)
		clock.Advance(time.Minute)
	}
	// One minute of new traffic on top, as the periodic job sees it.
	var ins []billing.UsageInput
	for i := range 2000 {
		at := clock.Now().Add(-time.Duration(i%60) * time.Second)
		ins = append(ins, billing.UsageInput{AccountID: acc.ID, Action: "chat.completion", Attributes: map[string]string{"model": "small-open"},
			Quantities:     map[string]billing.Quantity{"input_tokens": billing.Count(300), "output_tokens": billing.Count(100)},
			IdempotencyKey: fmt.Sprintf("abusesim-minute-%d", i), OccurredAt: &at})
	}
	for i := 0; i < len(ins); i += 250 {
		if _, err := svc.ChargeUsageBatch(ctx, ins[i:min(i+250, len(ins))]); err != nil {
			return err
		}
	}
	clock.Advance(time.Second)
	rep, err := det.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "run after a minute of 2000 new events: %s, %d ledger entries folded\n", rep.Elapsed.Round(time.Millisecond), rep.Folded)
	return nil
}
