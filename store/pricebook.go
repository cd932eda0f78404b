package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"creditline/billing"
	"github.com/lib/pq"
)

var _ billing.PriceBookStore = (*Store)(nil)
var _ billing.PriceBookTx = (*tx)(nil)

// decodeBook loads a stored document; op names the caller for the error.
func decodeBook(op string, doc []byte) (*billing.PriceBook, error) {
	var b billing.PriceBook
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, fmt.Errorf("store: %s: decode document: %w", op, err)
	}
	return &b, nil
}

func (s *Store) PublishedPriceBooks(ctx context.Context) ([]*billing.PriceBook, error) {
	var docs [][]byte
	err := s.db.SelectContext(ctx, &docs, `
		SELECT document FROM price_books p
		WHERE NOT EXISTS (SELECT 1 FROM price_book_cancellations c WHERE c.version = p.version)
		ORDER BY version`)
	if err != nil {
		return nil, mapErr("published price books", err)
	}
	books := make([]*billing.PriceBook, len(docs))
	for i, d := range docs {
		if books[i], err = decodeBook("published price books", d); err != nil {
			return nil, err
		}
	}
	return books, nil
}

func (s *Store) PriceBookVersion(ctx context.Context, version int) (*billing.PriceBook, error) {
	var doc []byte
	err := s.db.GetContext(ctx, &doc, `SELECT document FROM price_books WHERE version = $1`, version)
	if err != nil {
		return nil, mapErr("price book version", err)
	}
	return decodeBook("price book version", doc)
}

func (s *Store) LivePriceBookStamp(ctx context.Context) (int, int, error) {
	var row struct {
		Max   int `db:"max"`
		Count int `db:"count"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT coalesce(max(version), 0) AS max, count(*) AS count FROM price_books p
		WHERE NOT EXISTS (SELECT 1 FROM price_book_cancellations c WHERE c.version = p.version)`)
	return row.Max, row.Count, mapErr("live price book stamp", err)
}

func (s *Store) PriceBookHistory(ctx context.Context) ([]billing.PriceBookVersionInfo, error) {
	var out []billing.PriceBookVersionInfo
	err := s.db.SelectContext(ctx, &out, `
		SELECT p.version, p.effective_at, p.published_at, p.published_by, p.note,
			c.cancelled_at, coalesce(c.cancelled_by, '') AS cancelled_by, coalesce(c.reason, '') AS cancel_reason
		FROM price_books p LEFT JOIN price_book_cancellations c ON c.version = p.version
		ORDER BY p.version DESC`)
	return out, mapErr("price book history", err)
}

type draftRow struct {
	ID          int64     `db:"id"`
	BaseVersion int       `db:"base_version"`
	Name        string    `db:"name"`
	CreatedAt   time.Time `db:"created_at"`
	CreatedBy   string    `db:"created_by"`
	UpdatedAt   time.Time `db:"updated_at"`
	Document    []byte    `db:"document"`
}

const draftColumns = `id, base_version, name, created_at, created_by, updated_at, document`

func (r draftRow) draft(op string) (billing.PriceDraft, error) {
	b, err := decodeBook(op, r.Document)
	if err != nil {
		return billing.PriceDraft{}, err
	}
	return billing.PriceDraft{ID: r.ID, BaseVersion: r.BaseVersion, Name: r.Name, CreatedAt: r.CreatedAt,
		CreatedBy: r.CreatedBy, UpdatedAt: r.UpdatedAt, Book: b}, nil
}

func (s *Store) PriceDrafts(ctx context.Context) ([]billing.PriceDraft, error) {
	var rows []draftRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+draftColumns+` FROM price_book_drafts ORDER BY id DESC`); err != nil {
		return nil, mapErr("price drafts", err)
	}
	out := make([]billing.PriceDraft, len(rows))
	for i, r := range rows {
		d, err := r.draft("price drafts")
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (s *Store) PriceDraft(ctx context.Context, id int64) (billing.PriceDraft, error) {
	var r draftRow
	if err := s.db.GetContext(ctx, &r, `SELECT `+draftColumns+` FROM price_book_drafts WHERE id = $1`, id); err != nil {
		return billing.PriceDraft{}, mapErr("price draft", err)
	}
	return r.draft("price draft")
}

func (t *tx) LockPriceDraft(ctx context.Context, id int64) (billing.PriceDraft, error) {
	var r draftRow
	if err := t.tx.GetContext(ctx, &r, `SELECT `+draftColumns+` FROM price_book_drafts WHERE id = $1 FOR UPDATE`, id); err != nil {
		return billing.PriceDraft{}, mapErr("lock price draft", err)
	}
	return r.draft("lock price draft")
}

func draftDocument(op string, b *billing.PriceBook) ([]byte, error) {
	if b == nil || b.Published() {
		return nil, billing.Errorf(billing.EConflict, "Only a draft can be saved as a draft.")
	}
	doc, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return doc, nil
}

func (t *tx) InsertPriceDraft(ctx context.Context, d billing.PriceDraft) (int64, error) {
	doc, err := draftDocument("insert price draft", d.Book)
	if err != nil {
		return 0, err
	}
	var id int64
	err = t.tx.GetContext(ctx, &id, `
		INSERT INTO price_book_drafts (base_version, name, created_at, created_by, updated_at, document)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		d.BaseVersion, d.Name, d.CreatedAt.UTC(), d.CreatedBy, d.UpdatedAt.UTC(), string(doc))
	return id, mapErr("insert price draft", err)
}

func (t *tx) UpdatePriceDraft(ctx context.Context, d billing.PriceDraft) error {
	doc, err := draftDocument("update price draft", d.Book)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE price_book_drafts SET name = $2, updated_at = $3, document = $4 WHERE id = $1`,
		d.ID, d.Name, d.UpdatedAt.UTC(), string(doc))
	return oneRow("update price draft", res, err, billing.ENotFound, "There is no draft price book #%d.", d.ID)
}

func (t *tx) DeletePriceDraft(ctx context.Context, id int64) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM price_book_drafts WHERE id = $1`, id)
	return oneRow("delete price draft", res, err, billing.ENotFound, "There is no draft price book #%d.", id)
}

// priceBookLock is the advisory lock key that serialises publishers (one version number each).
const priceBookLock = 0x70726963 // "pric"

func (t *tx) NextPriceBookVersion(ctx context.Context) (int, error) {
	if _, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, priceBookLock); err != nil {
		return 0, mapErr("lock price book versions", err)
	}
	var v int
	err := t.tx.GetContext(ctx, &v, `SELECT coalesce(max(version), 0) + 1 FROM price_books`)
	return v, mapErr("next price book version", err)
}

// PublishPriceBook inserts a published version; the schema refuses to change it afterwards.
func (t *tx) PublishPriceBook(ctx context.Context, b *billing.PriceBook, by string, at time.Time) error {
	if !b.Published() {
		return billing.Errorf(billing.EConflict, "Price book version %d is a draft; publish it first.", b.Version())
	}
	doc, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("store: publish price book: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `
		INSERT INTO price_books (version, status, effective_at, created_at, created_by, published_at, published_by, note, document)
		VALUES ($1, 'published', $2, $3, $4, $5, $4, $6, $7)`,
		b.Version(), b.EffectiveAt(), b.CreatedAt(), by, at.UTC(), b.Data().Note, string(doc))
	if billing.ErrorCode(mapErr("", err)) == billing.EConflict {
		return billing.Errorf(billing.EConflict, "Price book version %d is already published.", b.Version())
	}
	return mapErr("publish price book", err)
}

// CancelPriceBook inserts the cancellation row; the schema's trigger is the gate (not in
// effect within ten minutes, no usage priced), so two instances cannot race past it.
func (t *tx) CancelPriceBook(ctx context.Context, version int, by, reason string, at time.Time) error {
	var exists bool
	if err := t.tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM price_books WHERE version = $1)`, version); err != nil {
		return mapErr("cancel price book", err)
	}
	if !exists {
		return billing.Errorf(billing.ENotFound, "There is no published price book version %d.", version)
	}
	_, err := t.tx.ExecContext(ctx, `
		INSERT INTO price_book_cancellations (version, cancelled_at, cancelled_by, reason) VALUES ($1, $2, $3, $4)`,
		version, at.UTC(), by, reason)
	var pqe *pq.Error
	switch {
	case errors.As(err, &pqe) && pqe.Code.Name() == "restrict_violation":
		return billing.Errorf(billing.EConflict, "Version %d is in effect, takes effect within ten minutes, or has priced usage; it can no longer be cancelled.", version)
	case billing.ErrorCode(mapErr("", err)) == billing.EConflict:
		return billing.Errorf(billing.EConflict, "Version %d is already cancelled.", version)
	}
	return mapErr("cancel price book", err)
}

// oneRow maps err, and returns code with the message when the statement changed no row.
func oneRow(op string, res sql.Result, err error, code, format string, args ...any) error {
	if err != nil {
		return mapErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(op, err)
	}
	if n == 0 {
		return billing.Errorf(code, format, args...)
	}
	return nil
}
