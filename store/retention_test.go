package store_test

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/jmoiron/sqlx"
)

// retentionRows writes finished and unfinished rows of every pruned kind, old (40 days before
// now) and recent (a day before); many adds that many more old done jobs.
func retentionRows(t *testing.T, db *sqlx.DB, accountID string, now time.Time, many int) {
	t.Helper()
	old, recent := now.AddDate(0, 0, -40), now.AddDate(0, 0, -1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO webhook_endpoints (id, account_id, url, secret, created_at) VALUES ('we_r', $1, 'https://hooks.example/r', repeat('s', 32), $2)`, accountID, old)
	for _, d := range []struct {
		id, status string
		at         time.Time
	}{{"wd_old_ok", "succeeded", old}, {"wd_old_failed", "failed", old}, {"wd_old_pending", "pending", old}, {"wd_recent_ok", "succeeded", recent}} {
		var next, finished *time.Time
		if d.status == "pending" {
			next = &now
		} else {
			finished = &d.at
		}
		exec(`INSERT INTO webhook_deliveries (id, endpoint_id, account_id, event_id, type, payload, status, attempts, next_attempt_at, created_at, finished_at)
			VALUES ($1, 'we_r', $2, 'evt_'||$1, 'alert.fired', '{}', $3, 2, $4, $5, $6)`, d.id, accountID, d.status, next, d.at, finished)
		exec(`INSERT INTO webhook_attempts (delivery_id, n, at, http_status, duration_ms) VALUES ($1, 1, $2, 500, 3), ($1, 2, $2, 200, 4)`, d.id, d.at)
	}
	for _, m := range []struct {
		subject, status string
		at              time.Time
	}{{"old sent", "sent", old}, {"old kept", "kept", old}, {"old failed", "failed", old}, {"recent sent", "sent", recent}} {
		var sent *time.Time
		if m.status == "sent" {
			sent = &m.at
		}
		exec(`INSERT INTO outbox (kind, to_addr, subject, body, created_at, sent_at, status) VALUES ('alert', 'r@example.com', $1, 'b', $2, $3, $4)`,
			m.subject, m.at, sent, m.status)
	}
	for _, j := range []struct {
		kind, status string
		at           time.Time
	}{{"old.done", "done", old}, {"old.failed", "failed", old}, {"old.cancelled", "cancelled", old}, {"old.queued", "queued", old}, {"recent.done", "done", recent}} {
		var finished *time.Time
		if j.status != "queued" {
			finished = &j.at
		}
		exec(`INSERT INTO jobs (kind, status, run_at, created_at, finished_at) VALUES ($1, $2, $3, $3, $4)`, j.kind, j.status, j.at, finished)
	}
	exec(`INSERT INTO jobs (kind, status, run_at, created_at, finished_at) SELECT 'bulk.done', 'done', $1, $1, $1 FROM generate_series(1, $2)`, old, many)
}

func strs(t *testing.T, db *sqlx.DB, q string) []string {
	t.Helper()
	var out []string
	if err := db.Select(&out, q); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPruneOldKeepsTheRetentionAndWhatIsUnfinished: past the retention, finished jobs,
// sent mail and settled webhook deliveries (with their attempts) go, in batches of a bounded
// size; queued jobs, unsent mail, pending deliveries and everything recent stay.
func TestPruneOldKeepsTheRetentionAndWhatIsUnfinished(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Fresh(t)
	st := store.New(db)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	svc := billing.NewService(st, billing.Options{Now: func() time.Time { return now }})
	acc, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "Retention"})
	if err != nil {
		t.Fatal(err)
	}
	retentionRows(t, db, acc.ID, now, 2500)

	// A longer retention keeps the 40-day-old rows.
	long := billing.NewService(st, billing.Options{Now: func() time.Time { return now }, Retention: 45 * 24 * time.Hour})
	if r, err := long.PruneOld(ctx); err != nil || r != (billing.PruneResult{}) {
		t.Fatalf("45-day retention pruned %+v (%v)", r, err)
	}

	// One call deletes one bounded batch.
	if n, err := st.PruneJobs(ctx, now.AddDate(0, 0, -30), 1000); err != nil || n != 1000 {
		t.Fatalf("one batch deleted %d jobs (%v), want 1000", n, err)
	}
	r, err := svc.PruneOld(ctx) // the default: 30 days
	if err != nil {
		t.Fatal(err)
	}
	if r.Jobs != 1500+3 || r.Mail != 1 || r.WebhookDeliveries != 2 {
		t.Fatalf("pruned %+v, want 1503 jobs, 1 mail, 2 deliveries", r)
	}
	if got := strs(t, db, `SELECT kind FROM jobs ORDER BY kind`); len(got) != 2 || got[0] != "old.queued" || got[1] != "recent.done" {
		t.Errorf("jobs left %v", got)
	}
	if got := strs(t, db, `SELECT subject FROM outbox ORDER BY subject`); len(got) != 3 || got[0] != "old failed" || got[1] != "old kept" || got[2] != "recent sent" {
		t.Errorf("mail left %v", got)
	}
	if got := strs(t, db, `SELECT id FROM webhook_deliveries ORDER BY id`); len(got) != 2 || got[0] != "wd_old_pending" || got[1] != "wd_recent_ok" {
		t.Errorf("deliveries left %v", got)
	}
	if got := strs(t, db, `SELECT DISTINCT delivery_id FROM webhook_attempts ORDER BY 1`); len(got) != 2 || got[0] != "wd_old_pending" || got[1] != "wd_recent_ok" {
		t.Errorf("attempts left for %v", got)
	}
	if r, err := svc.PruneOld(ctx); err != nil || r != (billing.PruneResult{}) {
		t.Fatalf("a second prune deleted %+v (%v)", r, err)
	}
}

// The worker's sweep schedules one prune job an hour, however often it runs.
func TestRetentionJobIsScheduledOnceAnHour(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Fresh(t)
	now := time.Date(2026, 11, 30, 12, 20, 0, 0, time.UTC)
	svc := billing.NewService(store.New(db), billing.Options{Now: func() time.Time { return now }})
	for range 3 {
		if err := svc.ScheduleRetention(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var runAt []time.Time
	if err := db.Select(&runAt, `SELECT run_at FROM jobs WHERE kind = $1`, billing.JobRetentionPrune); err != nil {
		t.Fatal(err)
	}
	if len(runAt) != 1 || !runAt[0].Equal(time.Date(2026, 11, 30, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("retention jobs at %v, want one at 13:00", runAt)
	}
	w := svc.NewWorker(nil)
	now = now.Add(time.Hour)
	if n := w.RunDue(ctx); n != 1 {
		t.Fatalf("ran %d jobs, want the prune", n)
	}
	var status string
	if err := db.Get(&status, `SELECT status FROM jobs WHERE kind = $1`, billing.JobRetentionPrune); err != nil || status != "done" {
		t.Fatalf("prune job %s (%v)", status, err)
	}
}
