package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/pricing"
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
func draftWithInputRate(t *testing.T, svc *billing.Service, price string) billing.PriceDraft {
	t.Helper()
	ctx := context.Background()
	draft, err := svc.CreatePriceDraft(ctx, "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	d := draft.Book.Data()
	i := slices.IndexFunc(d.Rates, func(r billing.Rate) bool { return r.ID == "chat-gpt-4o" })
	r := d.Rates[i]
	r.Components[0].Price = billing.MustCredits(price)
	if draft, err = svc.SetDraftRate(ctx, draft.ID, r); err != nil {
		t.Fatal(err)
	}
	return draft
}

func opBy(who string) billing.Op {
	return billing.Op{Actor: billing.UserActor(who), Reason: "new prices"}
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
	draft := draftWithInputRate(t, svc, "3")
	rev, err := svc.ReviewPriceDraft(ctx, draft.ID)
	if err != nil || len(rev.Changes) != 1 || rev.Changes[0].Subject != "rate chat-gpt-4o" ||
		rev.Changes[0].Before != "2.5 per 1k tokens" || rev.Changes[0].After != "3 per 1k tokens" || rev.Invalid != nil {
		t.Fatalf("review = %+v, %v", rev, err)
	}
	i := slices.IndexFunc(rev.Impacts, func(r pricing.RateImpact) bool { return r.RateID == "chat-gpt-4o" })
	if i < 0 || rev.Impacts[i].Before != billing.MustCredits("12.5") || rev.Impacts[i].After != billing.MustCredits("13") {
		t.Errorf("typical gpt-4o request = %+v, want 12.5 → 13", rev.Impacts)
	}
	pub, err := svc.PublishPriceDraft(ctx, draft.ID, billing.PublishOptions{}, opBy("usr_lead"))
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
	if _, err := svc.PriceDraft(ctx, draft.ID); billing.ErrorCode(err) != billing.ENotFound {
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
	if row.CreatedBy != "user:usr_lead" || row.PublishedBy != "user:usr_lead" || !row.PublishedAt.Equal(noon) {
		t.Errorf("row = %+v", row)
	}
	var audited int
	if err := db.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'price_book.publish' AND actor_id = 'usr_lead' AND reason = 'new prices'`); err != nil || audited != 1 {
		t.Errorf("publish audit entries = %d, %v", audited, err)
	}
}

func TestPublishScheduled(t *testing.T) {
	ctx := context.Background()
	svc, _ := seeded(t)
	draft := draftWithInputRate(t, svc, "3")
	if _, err := svc.PublishPriceDraft(ctx, draft.ID, billing.PublishOptions{EffectiveAt: noon.Add(-time.Minute)}, opBy("usr_ops")); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("publish in the past = %v, want invalid_request", err)
	}
	later := noon.Add(24 * time.Hour)
	if _, err := svc.PublishPriceDraft(ctx, draft.ID, billing.PublishOptions{EffectiveAt: later}, opBy("usr_ops")); err != nil {
		t.Fatal(err)
	}
	if b, err := svc.Live().Current(noon); err != nil || b.Version() != 1 {
		t.Errorf("Current(now) = %v, %v; want version 1", b, err)
	}
	if b, err := svc.Live().Current(later); err != nil || b.Version() != 2 {
		t.Errorf("Current(later) = %v, %v; want version 2", b, err)
	}
	if c, v := credits(t, svc.Live(), later.Add(-time.Millisecond)); c != billing.MustCredits("12.5") || v != 1 {
		t.Errorf("just before: %s at %d", c, v)
	}
	// The next draft copies the scheduled version, the newest.
	next, err := svc.CreatePriceDraft(ctx, "ops")
	if err != nil || next.BaseVersion != 2 {
		t.Fatalf("next draft = %+v, %v", next, err)
	}
}

// TestInvalidDraftIsRefused: each kind of bad rate is refused naming its field, and a
// refused publish changes nothing.
func TestInvalidDraftIsRefused(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	draft := draftWithInputRate(t, svc, "3")
	gpt := func() billing.Rate {
		d := draft.Book.Data()
		return d.Rates[slices.IndexFunc(d.Rates, func(r billing.Rate) bool { return r.ID == "chat-gpt-4o" })]
	}
	negative := gpt()
	negative.Components[1].Price = -billing.MustCredits("1")
	overlap := gpt()
	overlap.ID = "chat-gpt-4o-again"
	tiers := billing.Rate{ID: "file-tiers", Action: "file.process", Components: []billing.Component{{Quantity: "megabytes", Per: 1,
		Tiers: []billing.Tier{{UpTo: billing.Count(10), Price: billing.MustCredits("1")}, {UpTo: billing.Count(5), Price: billing.MustCredits("0.7")}, {Price: billing.MustCredits("0.5")}}}}}
	for _, c := range []struct {
		rate  billing.Rate
		field string
	}{
		{negative, "rates.chat-gpt-4o.components.output_tokens"},
		{overlap, "rates.chat-gpt-4o-again"},
		{tiers, "rates.file-tiers.components.megabytes.tiers"},
		{billing.Rate{ID: "ghost", Action: "teleport.create", Flat: billing.MustCredits("1")}, "rates.ghost.action"},
	} {
		_, err := svc.SetDraftRate(ctx, draft.ID, c.rate)
		var e *billing.Error
		if !errors.As(err, &e) || e.Code != billing.EInvalid || e.Fields[c.field] == "" {
			t.Errorf("rate %s: err = %v, want invalid_request naming %s", c.rate.ID, err, c.field)
		}
	}
	// A whole book with all of them at once names every field (the API's draft create).
	d := draft.Book.Data()
	d.Rates = append(d.Rates, overlap, tiers)
	d.Rates[slices.IndexFunc(d.Rates, func(r billing.Rate) bool { return r.ID == "chat-gpt-4o" })] = negative
	_, err := svc.CreatePriceDraftFrom(ctx, d, "bad", "ops")
	var e *billing.Error
	if !errors.As(err, &e) || e.Fields["rates.chat-gpt-4o.components.output_tokens"] == "" ||
		e.Fields["rates.chat-gpt-4o-again"] == "" || e.Fields["rates.file-tiers.components.megabytes.tiers"] == "" {
		t.Errorf("whole book: %v", err)
	}
	saved, err := svc.PriceDraft(ctx, draft.ID)
	if err != nil || saved.Book.Validate() != nil {
		t.Fatalf("a refused edit must leave the draft as it was: %v %v", err, saved.Book.Validate())
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM price_books`); err != nil || n != 1 || len(svc.Live().Versions()) != 1 {
		t.Errorf("after refusals: %d versions stored, live %d", n, len(svc.Live().Versions()))
	}
}

func TestPublishedVersionIsFrozenInTheDatabase(t *testing.T) {
	_, db := seeded(t)
	for _, stmt := range []string{
		`UPDATE price_books SET note = 'edited' WHERE version = 1`,
		`DELETE FROM price_books WHERE version = 1`,
		`TRUNCATE price_books CASCADE`,
	} {
		_, err := db.Exec(stmt)
		var pqe *pq.Error
		if !errors.As(err, &pqe) || pqe.Code.Name() != "restrict_violation" {
			t.Errorf("%s: err = %v, want restrict_violation", stmt, err)
		}
	}
	_, err := db.Exec(`INSERT INTO price_books (version, status, document) VALUES (3, 'draft', '{"version": 3, "status": "draft"}')`)
	var pqe *pq.Error
	if !errors.As(err, &pqe) || pqe.Constraint != "price_books_published_only" {
		t.Errorf("a draft row in price_books: %v", err)
	}
	var note string
	if err := db.Get(&note, `SELECT note FROM price_books WHERE version = 1`); err != nil || note != "Demo defaults" {
		t.Errorf("version 1 note = %q, %v", note, err)
	}
}

func TestSeveralDrafts(t *testing.T) {
	ctx := context.Background()
	svc, _ := seeded(t)
	a := draftWithInputRate(t, svc, "3")
	b := draftWithInputRate(t, svc, "4")
	if a.ID == b.ID {
		t.Fatal("two drafts share an id")
	}
	list, err := svc.PriceDrafts(ctx)
	if err != nil || len(list) != 2 || list[0].ID != b.ID {
		t.Fatalf("drafts = %+v, %v", list, err)
	}
	if _, err := svc.PublishPriceDraft(ctx, b.ID, billing.PublishOptions{}, opBy("usr_ops")); err != nil {
		t.Fatal(err)
	}
	pub, err := svc.PublishPriceDraft(ctx, a.ID, billing.PublishOptions{}, opBy("usr_ops"))
	if err != nil || pub.Version() != 3 {
		t.Fatalf("second publish = %v, %v; want version 3", pub, err)
	}
	if c, v := credits(t, svc.Live(), noon); c != billing.MustCredits("13") || v != 3 {
		t.Errorf("live = %s at %d", c, v)
	}
	c := draftWithInputRate(t, svc, "5")
	if err := svc.DiscardPriceDraft(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.DiscardPriceDraft(ctx, c.ID); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("discarding twice = %v, want not_found", err)
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
	d := draftWithInputRate(t, a, "3")
	if _, err := a.PublishPriceDraft(ctx, d.ID, billing.PublishOptions{}, opBy("usr_ops")); err != nil {
		t.Fatal(err)
	}
	if changed, err := b.RefreshLiveBook(ctx); err != nil || !changed {
		t.Fatalf("refresh after a publish = %v, %v", changed, err)
	}
	if c, v := credits(t, b.Live(), noon); c != billing.MustCredits("13") || v != 2 {
		t.Errorf("second instance prices %s at %d", c, v)
	}
}

// TestCancelScheduledVersion: a version far enough ahead can be cancelled, once; the row
// itself never changes, every instance drops it, and one in effect cannot be cancelled.
func TestCancelScheduledVersion(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Fresh(t)
	now := time.Now().UTC().Truncate(time.Millisecond) // the trigger compares with the database's clock
	clock := func() time.Time { return now }
	a := billing.NewService(store.New(db), billing.Options{Now: clock})
	if err := a.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	b := billing.NewService(store.New(db), billing.Options{Now: clock})
	if err := b.LoadLiveBook(ctx); err != nil {
		t.Fatal(err)
	}
	soon, later := now.Add(5*time.Minute), now.Add(time.Hour)
	d1 := draftWithInputRate(t, a, "3")
	if _, err := a.PublishPriceDraft(ctx, d1.ID, billing.PublishOptions{EffectiveAt: soon}, opBy("usr_ops")); err != nil {
		t.Fatal(err)
	}
	d2 := draftWithInputRate(t, a, "4")
	if _, err := a.PublishPriceDraft(ctx, d2.ID, billing.PublishOptions{EffectiveAt: later}, opBy("usr_ops")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RefreshLiveBook(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.CancelPriceBookVersion(ctx, 3, billing.Op{Actor: billing.UserActor("usr_ops")}); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("cancel without a reason = %v", err)
	}
	if err := a.CancelPriceBookVersion(ctx, 2, opBy("usr_ops")); billing.ErrorCode(err) != billing.EConflict {
		t.Errorf("cancel 5 minutes ahead = %v, want conflict", err)
	}
	if err := a.CancelPriceBookVersion(ctx, 1, opBy("usr_ops")); billing.ErrorCode(err) != billing.EConflict {
		t.Errorf("cancel the version in effect = %v, want conflict", err)
	}
	if err := a.CancelPriceBookVersion(ctx, 3, opBy("usr_ops")); err != nil {
		t.Fatal(err)
	}
	if err := a.CancelPriceBookVersion(ctx, 3, opBy("usr_ops")); billing.ErrorCode(err) != billing.EConflict {
		t.Errorf("cancel twice = %v, want conflict", err)
	}
	if changed, err := b.RefreshLiveBook(ctx); err != nil || !changed {
		t.Fatalf("second instance refresh after a cancel = %v, %v", changed, err)
	}
	for _, svc := range []*billing.Service{a, b} {
		if c, v := credits(t, svc.Live(), later.Add(time.Minute)); c != billing.MustCredits("13") || v != 2 {
			t.Errorf("after the cancel, an hour on prices %s at %d; want 13 at 2", c, v)
		}
	}
	if _, err := db.Exec(`DELETE FROM price_book_cancellations`); err == nil {
		t.Error("a cancellation was deleted")
	}
	hist, err := a.PriceBookHistory(ctx)
	if err != nil || len(hist) != 3 || hist[0].Version != 3 || hist[0].CancelledAt == nil || hist[0].CancelReason != "new prices" || hist[1].CancelledAt != nil {
		t.Errorf("history = %+v, %v", hist, err)
	}
	var audited int
	if err := db.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'price_book.cancel'`); err != nil || audited != 1 {
		t.Errorf("cancel audit entries = %d, %v", audited, err)
	}
}

// TestMarginGuard: a rate priced under vendor cost × target is flagged, and publishing it
// needs an explicit confirmation; the target is an audited operator setting.
func TestMarginGuard(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	draft := draftWithInputRate(t, svc, "3")
	rev, err := svc.ReviewPriceDraft(ctx, draft.ID)
	if err != nil || len(rev.Warnings) != 0 || rev.Target != pricing.DefaultMarginTarget {
		t.Fatalf("seed prices flagged: %+v %v", rev.Warnings, err)
	}
	// gpt-4o costs the vendor 2,500 µUSD per 1k input and 10,000 per 1k output tokens:
	// 12,500 µUSD for the typical request. 0.15 credits at $0.10 is 15,000 µUSD: a 16.6% margin.
	r := rev.Draft.Book.Data().Rates[slices.IndexFunc(rev.Draft.Book.Data().Rates, func(r billing.Rate) bool { return r.ID == "chat-gpt-4o" })]
	r.Components[0].Price, r.Components[1].Price = billing.MustCredits("0.05"), billing.MustCredits("0.1")
	if _, err := svc.SetDraftRate(ctx, draft.ID, r); err != nil {
		t.Fatal(err)
	}
	rev, err = svc.ReviewPriceDraft(ctx, draft.ID)
	if err != nil || len(rev.Warnings) != 1 || rev.Warnings[0].RateID != "chat-gpt-4o" || rev.Warnings[0].CostMicroUSD != 12_500 ||
		rev.Warnings[0].RevenueMicroUSD != 15_000 || rev.Warnings[0].MarginPermille != 166 {
		t.Fatalf("warnings = %+v, %v", rev.Warnings, err)
	}
	_, err = svc.PublishPriceDraft(ctx, draft.ID, billing.PublishOptions{}, opBy("usr_ops"))
	var e *billing.Error
	if !errors.As(err, &e) || e.Fields["confirm"] == "" || e.Details["warnings"] == nil {
		t.Fatalf("unconfirmed publish = %v", err)
	}
	// At a 10% target the same rate passes.
	if err := svc.SetTargetMargin(ctx, opBy("usr_ops"), pricing.MarginTarget{Percent: 10, CreditMicroUSD: 100_000}); err != nil {
		t.Fatal(err)
	}
	if rev, _ = svc.ReviewPriceDraft(ctx, draft.ID); len(rev.Warnings) != 0 {
		t.Errorf("at 10%%: %+v", rev.Warnings)
	}
	if err := svc.SetTargetMargin(ctx, opBy("usr_ops"), pricing.MarginTarget{Percent: 96, CreditMicroUSD: 0}); !errors.As(err, &e) ||
		e.Fields["percent"] == "" || e.Fields["credit_value_micro_usd"] == "" {
		t.Errorf("bad target = %v", err)
	}
	if err := svc.SetTargetMargin(ctx, opBy("usr_ops"), pricing.DefaultMarginTarget); err != nil {
		t.Fatal(err)
	}
	pub, err := svc.PublishPriceDraft(ctx, draft.ID, billing.PublishOptions{ConfirmWarnings: true}, opBy("usr_ops"))
	if err != nil || pub.Version() != 2 {
		t.Fatalf("confirmed publish = %v, %v", pub, err)
	}
	var after string
	if err := db.Get(&after, `SELECT after::text FROM audit_log WHERE action = 'price_book.publish'`); err != nil || !strings.Contains(after, `"margin_warnings"`) {
		t.Errorf("publish audit after = %s, %v", after, err)
	}
}
