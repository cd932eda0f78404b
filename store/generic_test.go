package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"creditline/store"
	"creditline/store/pgtest"
	"github.com/jmoiron/sqlx"
)

// The cold read runs on a connection of its own with a generic plan: PostgreSQL makes no
// custom plan for it, however many ids each read names (on the pool it made one a run). The
// setting stays on that connection: the pool's connections plan as PostgreSQL decides, and a
// session that is discarded (idle, or after a failed read) is closed rather than returned.
// A read that finds the session busy runs on the pool instead.
func TestColdReadPlansOnceOnItsOwnConnection(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	st := store.New(db)
	var ids []string
	run := time.Now().UnixNano()
	for i := 0; i < 12; i++ {
		id := fmt.Sprintf("acc_generic_%d_%02d", run, i)
		if _, err := db.ExecContext(ctx, `INSERT INTO accounts (id, name) VALUES ($1, 'generic')`, id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	read := func(ids []string) {
		t.Helper()
		accs, _, _, err := st.LedgerAccounts(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(accs) != len(ids) {
			t.Fatalf("read %d accounts of %d", len(accs), len(ids))
		}
		for i := range ids {
			if accs[i].ID != ids[i] {
				t.Fatalf("account %d is %s, want %s", i, accs[i].ID, ids[i])
			}
		}
	}
	for n := 1; n <= len(ids); n++ {
		read(ids[:n])
	}
	pid, generic, custom, ok, err := st.GenericSession(ctx)
	if err != nil || !ok {
		t.Fatalf("no generic session after 12 reads (ok %v): %v", ok, err)
	}
	if custom != 0 || generic != int64(len(ids)) {
		t.Fatalf("the cold read was planned %d times for its arguments and ran %d times on a generic plan, want 0 and %d", custom, generic, len(ids))
	}

	// Planned on a table of a few accounts, the plan still probes accounts by id.
	plan, err := st.GenericPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plan, "Seq Scan on accounts") || !strings.Contains(plan, "Index Scan") {
		t.Fatalf("the cold read's generic plan reads all the accounts:\n%s", plan)
	}

	// Every other connection of the pool keeps the default.
	txs := make([]interface{ Rollback() error }, 0, 10)
	for i := 0; i < 10; i++ {
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		var mode string
		var backend int
		if err := tx.QueryRowContext(ctx, `SELECT current_setting('plan_cache_mode'), pg_backend_pid()`).Scan(&mode, &backend); err != nil {
			t.Fatal(err)
		}
		if mode != "auto" || backend == pid {
			t.Fatalf("pool connection %d (pid %d, session %d) plans in mode %s", i, backend, pid, mode)
		}
	}
	for _, tx := range txs {
		tx.Rollback() //nolint:errcheck
	}

	// Busy: the read runs on the pool.
	release := st.HoldGeneric()
	read(ids[:3])
	release()

	// Discarded: its connection is closed, not pooled; the next read opens a new session.
	st.DiscardGeneric()
	waitGone(t, db, pid)
	read(ids[:2])
	pid2, generic, custom, ok, err := st.GenericSession(ctx)
	if err != nil || !ok || pid2 == pid || generic != 1 || custom != 0 {
		t.Fatalf("after a discard: session %v pid %d (was %d), %d generic and %d custom plans: %v", ok, pid2, pid, generic, custom, err)
	}

	// The server ends the session's connection: the read runs again on the pool, and the
	// session is discarded (the next read opens another).
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid2); err != nil {
		t.Fatal(err)
	}
	waitGone(t, db, pid2)
	read(ids)
	if _, _, _, ok, _ := st.GenericSession(ctx); ok {
		t.Fatal("the session survived a failed read")
	}
	read(ids)
	if pid3, _, _, ok, err := st.GenericSession(ctx); !ok || pid3 == pid2 || err != nil {
		t.Fatalf("no new session after a failed read (ok %v, pid %d): %v", ok, pid3, err)
	}
}

// waitGone waits for the backend pid to leave pg_stat_activity (its connection closed).
func waitGone(t *testing.T, db *sqlx.DB, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the discarded session's connection (pid %d) is still open", pid)
		}
	}
}
