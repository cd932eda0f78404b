package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/revenue"
	"creditline/billing/simulate"
	"creditline/store"
	"creditline/store/pgcluster"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
)

type benchDB struct {
	url, server, name   string
	version, syncCommit string
}

// freshDatabase creates an empty database on DATABASE_URL's server, else on 127.0.0.1:5432,
// else on a throwaway cluster under the temp folder.
func freshDatabase(ctx context.Context) (*benchDB, error) {
	server := os.Getenv("DATABASE_URL")
	if server == "" {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second); err == nil {
			c.Close()
			server = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		} else {
			cl, err := pgcluster.Ensure(filepath.Join(os.TempDir(), "creditline-bench-pg"), 55532)
			if err != nil {
				return nil, err
			}
			server = cl.URL("postgres")
		}
	}
	admin, err := sqlx.Open("postgres", server)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	var b [4]byte
	_, _ = rand.Read(b[:])
	d := &benchDB{server: server, name: "creditline_bench_" + hex.EncodeToString(b[:])}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+d.name); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	_ = admin.GetContext(ctx, &d.version, "SHOW server_version")
	_ = admin.GetContext(ctx, &d.syncCommit, "SHOW synchronous_commit")
	u, _ := url.Parse(server)
	u.Path = "/" + d.name
	d.url = u.String()
	return d, nil
}

// reusedDatabase is a database an earlier run kept (-reuse).
func reusedDatabase(ctx context.Context, dbURL string) (*benchDB, error) {
	u, err := url.Parse(dbURL)
	if err != nil || strings.TrimPrefix(u.Path, "/") == "" {
		return nil, fmt.Errorf("-reuse %q: want a database URL", dbURL)
	}
	d := &benchDB{url: dbURL, name: strings.TrimPrefix(u.Path, "/")}
	u.Path = "/postgres"
	d.server = u.String()
	admin, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	_ = admin.GetContext(ctx, &d.version, "SHOW server_version")
	_ = admin.GetContext(ctx, &d.syncCommit, "SHOW synchronous_commit")
	return d, nil
}

func (d *benchDB) drop() {
	admin, err := sqlx.Open("postgres", d.server)
	if err != nil {
		return
	}
	defer admin.Close()
	admin.Exec("DROP DATABASE IF EXISTS " + d.name + " WITH (FORCE)") //nolint:errcheck
}

type fixture struct {
	key      string
	accounts []string
	members  map[string]string // -members: each account's member
}

// setup migrates, publishes the seed price book, and funds the accounts on a plan whose
// rate limit does not get in the way of the measurement.
func setup(ctx context.Context, dbURL string, n int, o options) (*fixture, error) {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		return nil, err
	}
	svc := billing.NewService(store.New(db), billing.Options{})
	if o.reuse != "" {
		if err := settle(ctx, store.New(db), svc); err != nil {
			return nil, err
		}
		return reuseFixture(ctx, db, svc, n, o)
	}
	if err := svc.SeedCatalog(ctx); err != nil {
		return nil, err
	}
	plan, err := svc.Plan(ctx, "enterprise")
	if err != nil {
		return nil, err
	}
	plan.Key, plan.Name, plan.Active = "bench", "Benchmark", false
	plan.Entitlements.RateLimitPerMin = 100_000_000
	if err := svc.SavePlan(ctx, plan); err != nil {
		return nil, err
	}
	_, key, err := svc.CreateAPIKey(ctx, "", "bench", "bench")
	if err != nil {
		return nil, err
	}
	f := &fixture{key: key}
	// Every account is made by bulk load, whatever n (so 1,000 and 1,000,000 accounts are
	// alike but for their number), with the alert rules the service gives a new account.
	tpl, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "bench rules template"})
	if err != nil {
		return nil, err
	}
	st := store.New(db)
	rules, err := st.ListAlertRules(ctx, tpl.ID)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	f.accounts, err = st.SeedBulkAccounts(ctx, store.BulkAccounts{N: n, Prefix: "bench", Plan: "bench",
		Credits: billing.MustCredits("1000000000"), Rules: rules, Now: svc.Now()}, nil)
	if err != nil {
		return nil, err
	}
	fmt.Printf("set-up: %d accounts bulk-loaded in %.1f s\n", n, time.Since(start).Seconds())
	if err := settle(ctx, st, svc); err != nil {
		return nil, err
	}
	if o.members {
		var limit billing.Credits
		if o.memberLim != "" {
			if limit, err = billing.ParseCredits(o.memberLim); err != nil || limit <= 0 {
				return nil, fmt.Errorf("-member-limit %q: want a positive number of credits", o.memberLim)
			}
		}
		ids, err := st.SeedBulkMembers(ctx, f.accounts, limit)
		if err != nil {
			return nil, err
		}
		f.members = make(map[string]string, len(ids))
		for i, id := range ids {
			f.members[f.accounts[i]] = id
		}
		fmt.Printf("set-up: every account has a member (monthly limit: %s); every event names it\n", map[bool]string{true: o.memberLim, false: "none"}[o.memberLim != ""])
	}
	return f, nil
}

// settle consumes the ledger as a database in service has it consumed: without this, the
// first server of the run would count the bulk load's million grants (revenue) and fold them
// (abuse) while the first scenario is measured.
func settle(ctx context.Context, st *store.Store, svc *billing.Service) error {
	return settleAs(ctx, st, svc, "set-up")
}

// settleBetween settles the ledger again before the next server starts: that server's
// revenue job begins with a pass over whatever the previous one wrote (tens of thousands of
// debits a scenario, about a second of work), and the abuse detector's next pass, at a whole
// minute, folds it too; both would land in the later scenarios' measurements (the detector's
// when its minute falls inside one) and never in the first's. Every server of a run then starts on a consumed ledger, as the first does.
func settleBetween(ctx context.Context, dbURL string) error {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	st := store.New(db)
	return settleAs(ctx, st, billing.NewService(st, billing.Options{}), "between servers")
}

func settleAs(ctx context.Context, st *store.Store, svc *billing.Service, when string) error {
	start := time.Now()
	if _, err := revenue.New(st.Revenue(), svc.Now).CatchUp(ctx); err != nil {
		return fmt.Errorf("revenue catch-up: %w", err)
	}
	if _, err := abuse.New(svc, st.Abuse(), abuse.Options{}).Run(ctx); err != nil {
		return fmt.Errorf("abuse run: %w", err)
	}
	// The impact simulation's price inputs: a server folds them at its start, then every minute.
	if _, err := simulate.Fold(ctx, st, svc.Now()); err != nil {
		return fmt.Errorf("price-input fold: %w", err)
	}
	fmt.Printf("%s: revenue, abuse and price inputs caught up with the ledger in %.1f s\n", when, time.Since(start).Seconds())
	return nil
}

// reuseFixture finds the bulk-loaded accounts of a kept database, in the order they were
// made, and makes a key for this run.
func reuseFixture(ctx context.Context, db *sqlx.DB, svc *billing.Service, n int, o options) (*fixture, error) {
	if o.members {
		return nil, fmt.Errorf("-members needs a fresh database (not -reuse)")
	}
	_, key, err := svc.CreateAPIKey(ctx, "", "bench", "bench")
	if err != nil {
		return nil, err
	}
	f := &fixture{key: key}
	if f.accounts, err = store.New(db).BulkAccountIDs(ctx, "bench", "bench", n); err != nil {
		return nil, err
	}
	if len(f.accounts) < n {
		return nil, fmt.Errorf("-reuse: the database has %d benchmark accounts, fewer than %d", len(f.accounts), n)
	}
	fmt.Printf("set-up: reusing %d accounts\n", n)
	return f, nil
}

// checkpoint starts the next scenario from a fresh checkpoint, best effort (it needs a
// superuser or pg_checkpoint). Under this write load the default max_wal_size forces a
// checkpoint every 20-60 s ("checkpoints are occurring too frequently" in the server's log),
// and the full-page images written after one slow whatever runs then: without this, whether
// a scenario met one was left to chance.
func (d *benchDB) checkpoint(ctx context.Context) {
	admin, err := sqlx.Open("postgres", d.server)
	if err != nil {
		return
	}
	defer admin.Close()
	admin.ExecContext(ctx, "CHECKPOINT") //nolint:errcheck
}
