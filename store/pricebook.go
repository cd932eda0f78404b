package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"creditline/billing"
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
	err := s.db.SelectContext(ctx, &docs, `SELECT document FROM price_books WHERE status = 'published' ORDER BY version`)
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

func (s *Store) DraftPriceBook(ctx context.Context) (*billing.PriceBook, error) {
	var doc []byte
	err := s.db.GetContext(ctx, &doc, `SELECT document FROM price_books WHERE status = 'draft'`)
	if err != nil {
		return nil, mapErr("draft price book", err)
	}
	return decodeBook("draft price book", doc)
}

func (s *Store) LatestPublishedVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.GetContext(ctx, &v, `SELECT coalesce(max(version), 0) FROM price_books WHERE status = 'published'`)
	return v, mapErr("latest published version", err)
}

func (t *tx) LockDraftPriceBook(ctx context.Context) (*billing.PriceBook, error) {
	var doc []byte
	err := t.tx.GetContext(ctx, &doc, `SELECT document FROM price_books WHERE status = 'draft' FOR UPDATE`)
	if err != nil {
		return nil, mapErr("lock draft price book", err)
	}
	return decodeBook("lock draft price book", doc)
}

// SaveDraftPriceBook never touches a published row: the upsert's WHERE skips it, and
// the unique index price_books_one_draft refuses a second draft.
func (t *tx) SaveDraftPriceBook(ctx context.Context, b *billing.PriceBook, by string) error {
	if b.Published() {
		return billing.Errorf(billing.EConflict, "Price book version %d is published and cannot change.", b.Version())
	}
	doc, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("store: save draft price book: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `
		INSERT INTO price_books (version, status, created_at, created_by, note, document)
		VALUES ($1, 'draft', $2, $3, $4, $5)
		ON CONFLICT (version) DO UPDATE SET note = excluded.note, document = excluded.document
		WHERE price_books.status = 'draft'`,
		b.Version(), b.CreatedAt(), by, b.Data().Note, string(doc))
	return oneRow("save draft price book", res, err, billing.EConflict,
		"Price book version %d is already published; start a new draft.", b.Version())
}

// PublishPriceBook turns the draft row of b's version into the published one, or inserts
// it when there is no draft (the seed).
func (t *tx) PublishPriceBook(ctx context.Context, b *billing.PriceBook, by string, at time.Time) error {
	if !b.Published() {
		return billing.Errorf(billing.EConflict, "Price book version %d is a draft; publish it first.", b.Version())
	}
	doc, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("store: publish price book: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `
		INSERT INTO price_books (version, status, effective_at, created_at, created_by, published_at, published_by, note, document)
		VALUES ($1, 'published', $2, $3, $4, $5, $4, $6, $7)
		ON CONFLICT (version) DO UPDATE SET status = excluded.status, effective_at = excluded.effective_at,
			published_at = excluded.published_at, published_by = excluded.published_by,
			note = excluded.note, document = excluded.document
		WHERE price_books.status = 'draft'`,
		b.Version(), b.EffectiveAt(), b.CreatedAt(), by, at.UTC(), b.Data().Note, string(doc))
	return oneRow("publish price book", res, err, billing.EConflict, "Price book version %d is already published.", b.Version())
}

func (t *tx) DeleteDraftPriceBook(ctx context.Context) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM price_books WHERE status = 'draft'`)
	return oneRow("delete draft price book", res, err, billing.ENotFound, "There is no draft price book.")
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
