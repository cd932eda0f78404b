package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

var noon = time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC) // a Wednesday

// seeded returns a service over a database of the test's own, seeded, with its clock at noon.
func seeded(t *testing.T) (*billing.Service, *sqlx.DB) {
	t.Helper()
	db := pgtest.Fresh(t)
	svc := billing.NewService(store.New(db), billing.Options{Now: func() time.Time { return noon }})
	if err := svc.SeedCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc, db
}

// chat prices 1,000 input and 1,000 output tokens of gpt-4o at t.
func chat(t time.Time) billing.PriceRequest {
	return billing.PriceRequest{Action: "chat.completion", At: t, Attributes: map[string]string{"model": "gpt-4o"},
		Quantities: map[string]billing.Quantity{"input_tokens": billing.Count(1000), "output_tokens": billing.Count(1000)}}
}

// draftWithInputRate opens a draft and saves it with gpt-4o input tokens at price per 1k.
func draftWithInputRate(t *testing.T, svc *billing.Service, price string) *billing.PriceBook {
	t.Helper()
	ctx := context.Background()
	draft, err := svc.CreateDraftFromLive(ctx, "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	d := draft.Data()
	i := slices.IndexFunc(d.Rates, func(r billing.Rate) bool { return r.ID == "chat-gpt-4o" })
	r := d.Rates[i]
	r.Components[0].Price = billing.MustCredits(price)
	if err := draft.SetRate(r); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveDraft(ctx, draft, "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	return draft
}

func credits(t *testing.T, live *billing.LiveBook, at time.Time) (billing.Credits, int) {
	t.Helper()
	q, err := live.Price(chat(at))
	if err != nil {
		t.Fatal(err)
	}
	return q.Credits, q.PriceVersion
}

func TestPublishDraftNow(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	if c, v := credits(t, svc.Live(), noon); c != billing.MustCredits("12.5") || v != 1 {
		t.Fatalf("seed prices %s at version %d, want 12.5 at 1", c, v)
	}
	draftWithInputRate(t, svc, "3")
	saved, err := svc.Draft(ctx)
	if err != nil || saved.Version() != 2 || saved.Published() {
		t.Fatalf("draft = %v, %v", saved, err)
	}
	diff, err := svc.DraftDiff(ctx)
	if err != nil || len(diff) != 1 || diff[0].Subject != "rate chat-gpt-4o" ||
		diff[0].Before != "2.5 per 1k tokens" || diff[0].After != "3 per 1k tokens" {
		t.Fatalf("diff = %v, %v", diff, err)
	}
	pub, err := svc.PublishDraft(ctx, time.Time{}, "lead@example.com")
	if err != nil || pub.Version() != 2 || !pub.EffectiveAt().Equal(noon) {
		t.Fatalf("publish = %v, %v", pub, err)
	}
	if c, v := credits(t, svc.Live(), noon); c != billing.MustCredits("13") || v != 2 {
		t.Errorf("live prices %s at version %d, want 13 at 2", c, v)
	}
	v1, err := svc.Live().Version(1)
	if err != nil {
		t.Fatal(err)
	}
	if q, err := v1.Price(chat(noon)); err != nil || q.Credits != billing.MustCredits("12.5") || q.PriceVersion != 1 {
		t.Errorf("version 1 prices %v, %v; want 12.5 at version 1", q.Credits, err)
	}
	if _, err := svc.Draft(ctx); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("draft after publish: %v", err)
	}
	var row struct {
		CreatedBy   string    `db:"created_by"`
		PublishedBy string    `db:"published_by"`
		PublishedAt time.Time `db:"published_at"`
	}
	if err := db.Get(&row, `SELECT created_by, published_by, published_at FROM price_books WHERE version = 2`); err != nil {
		t.Fatal(err)
	}
	if row.CreatedBy != "ops@example.com" || row.PublishedBy != "lead@example.com" || !row.PublishedAt.Equal(noon) {
		t.Errorf("row = %+v", row)
	}
}

func TestPublishScheduled(t *testing.T) {
	ctx := context.Background()
	svc, _ := seeded(t)
	draftWithInputRate(t, svc, "3")
	if _, err := svc.PublishDraft(ctx, noon.Add(-time.Minute), "ops"); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("publish in the past = %v, want invalid_request", err)
	}
	later := noon.Add(24 * time.Hour)
	if _, err := svc.PublishDraft(ctx, later, "ops"); err != nil {
		t.Fatal(err)
	}
	if b, err := svc.Live().Current(noon); err != nil || b.Version() != 1 {
		t.Errorf("Current(now) = %v, %v; want version 1", b, err)
	}
	if b, err := svc.Live().Current(later); err != nil || b.Version() != 2 {
		t.Errorf("Current(later) = %v, %v; want version 2", b, err)
	}
	if c, v := credits(t, svc.Live(), later.Add(-time.Second)); c != billing.MustCredits("12.5") || v != 1 {
		t.Errorf("just before: %s at %d", c, v)
	}
	// The next draft copies the scheduled version, the newest.
	next, err := svc.CreateDraftFromLive(ctx, "ops")
	if err != nil || next.Version() != 3 {
		t.Fatalf("next draft = %v, %v", next, err)
	}
}

func TestInvalidDraftIsRefused(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	draft := draftWithInputRate(t, svc, "3")
	bad := billing.Rate{ID: "ghost", Action: "teleport.create", Flat: billing.MustCredits("1")}
	if err := draft.SetRate(bad); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveDraft(ctx, draft, "ops"); err != nil {
		t.Fatalf("an invalid draft must save (work in progress): %v", err)
	}
	_, err := svc.PublishDraft(ctx, time.Time{}, "ops")
	var e *billing.Error
	if !errors.As(err, &e) || e.Code != billing.EInvalid || e.Fields["rates.ghost.action"] == "" {
		t.Fatalf("publish = %v, want invalid_request naming rates.ghost.action", err)
	}
	var statuses []string
	if err := db.Select(&statuses, `SELECT status FROM price_books ORDER BY version`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(statuses, []string{"published", "draft"}) || len(svc.Live().Versions()) != 1 {
		t.Errorf("after a refused publish: rows %v, live %d versions", statuses, len(svc.Live().Versions()))
	}
	if c, _ := credits(t, svc.Live(), noon); c != billing.MustCredits("12.5") {
		t.Errorf("live price changed to %s", c)
	}
}

func TestPublishedVersionIsFrozenInTheDatabase(t *testing.T) {
	_, db := seeded(t)
	for _, stmt := range []string{
		`UPDATE price_books SET note = 'edited' WHERE version = 1`,
		`UPDATE price_books SET status = 'draft', effective_at = NULL, published_at = NULL, document = jsonb_set(document, '{status}', '"draft"') WHERE version = 1`,
		`DELETE FROM price_books WHERE version = 1`,
		`TRUNCATE price_books`,
	} {
		_, err := db.Exec(stmt)
		var pqe *pq.Error
		if !errors.As(err, &pqe) || pqe.Code.Name() != "restrict_violation" {
			t.Errorf("%s: err = %v, want restrict_violation", stmt, err)
		}
	}
	var note string
	if err := db.Get(&note, `SELECT note FROM price_books WHERE version = 1`); err != nil || note != "Demo defaults" {
		t.Errorf("version 1 note = %q, %v", note, err)
	}
}

func TestOneDraftAtATime(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	draftWithInputRate(t, svc, "3")
	if _, err := svc.CreateDraftFromLive(ctx, "ops"); billing.ErrorCode(err) != billing.EConflict {
		t.Errorf("second draft = %v, want conflict", err)
	}
	_, err := db.Exec(`INSERT INTO price_books (version, status, document) VALUES (3, 'draft', '{"version": 3, "status": "draft"}')`)
	var pqe *pq.Error
	if !errors.As(err, &pqe) || pqe.Code.Name() != "unique_violation" || pqe.Constraint != "price_books_one_draft" {
		t.Errorf("raw second draft: %v", err)
	}
	for _, v := range []int{3, 1} { // another draft; a published version
		d, err := billing.NewPriceBook(billing.BookData{Version: v, Status: billing.BookDraft, CreatedAt: noon})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SaveDraft(ctx, d, "ops"); billing.ErrorCode(err) != billing.EConflict {
			t.Errorf("saving a draft of version %d = %v, want conflict", v, err)
		}
	}
	if err := svc.DiscardDraft(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.DiscardDraft(ctx); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("discarding twice = %v, want not_found", err)
	}
	if d, err := svc.CreateDraftFromLive(ctx, "ops"); err != nil || d.Version() != 2 {
		t.Errorf("draft after discard = %v, %v", d, err)
	}
}

// TestRefreshLiveBook: a second instance picks up what the first published.
func TestRefreshLiveBook(t *testing.T) {
	ctx := context.Background()
	a, db := seeded(t)
	b := billing.NewService(store.New(db), billing.Options{Now: func() time.Time { return noon }})
	if err := b.LoadLiveBook(ctx); err != nil {
		t.Fatal(err)
	}
	if changed, err := b.RefreshLiveBook(ctx); err != nil || changed {
		t.Fatalf("refresh with nothing new = %v, %v", changed, err)
	}
	draftWithInputRate(t, a, "3")
	if _, err := a.PublishDraft(ctx, time.Time{}, "ops"); err != nil {
		t.Fatal(err)
	}
	if changed, err := b.RefreshLiveBook(ctx); err != nil || !changed {
		t.Fatalf("refresh after a publish = %v, %v", changed, err)
	}
	if c, v := credits(t, b.Live(), noon); c != billing.MustCredits("13") || v != 2 {
		t.Errorf("second instance prices %s at %d", c, v)
	}
}
