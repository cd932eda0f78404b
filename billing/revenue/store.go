// Package revenue recognises the money paid for credits as they are used: every paid grant's
// cents move, pro rata, from deferred to recognised (consumed), breakage (expired or adjusted
// away) or refunds (revoked). A job consumes committed ledger entries into monthly rollups;
// the revenue report and the margin tables read only those rollups.
package revenue

import (
	"context"
	"time"
)

// Cursor is the consumer's position (migration 0023): every ledger entry with ID <= Consumed
// is counted. Entries up to PendingUpto were numbered before the transactions PendingVxids
// were listed; once none of those runs, nothing numbered <= PendingUpto can still commit.
type Cursor struct {
	Consumed     int64
	PendingUpto  int64
	PendingVxids []string
}

// Entry is a ledger entry as the consumer reads it: the grant's money, and for a debit's first
// entry (First) its usage event.
type Entry struct {
	ID          int64     `db:"id"`
	Kind        string    `db:"kind"`
	GrantID     string    `db:"grant_id"`
	Amount      int64     `db:"amount"` // millicredits, signed
	CreatedAt   time.Time `db:"created_at"`
	Source      string    `db:"source"`
	GrantAmount int64     `db:"grant_amount"`
	Paid        int64     `db:"paid_amount"`
	Currency    string    `db:"currency"`
	TestMode    bool      `db:"test_mode"`
	Action      string    `db:"action"`
	Model       string    `db:"model"`
	DebitID     string    `db:"debit_id"`
	First       bool      `db:"-"`           // set by the consumer
	VendorCost  int64     `db:"vendor_cost"` // micro-USD, of the usage event
	Units       int64     `db:"units"`
	OccurredAt  time.Time `db:"occurred_at"`
}

// GrantState is a paid grant's progress: millicredits used, cents moved out of deferred.
type GrantState struct {
	GrantID string `db:"grant_id"`
	Used    int64  `db:"used"`
	Moved   int64  `db:"moved"`
}

// Monthly is one month's movements in one currency (minor units).
type Monthly struct {
	Month             time.Time `db:"month"`
	Currency          string    `db:"currency"`
	CashPacks         int64     `db:"cash_packs"`
	CashSubscriptions int64     `db:"cash_subscriptions"`
	CashRecharges     int64     `db:"cash_recharges"`
	CashOther         int64     `db:"cash_other"`
	Recognised        int64     `db:"recognised"`
	Breakage          int64     `db:"breakage"`
	Refunds           int64     `db:"refunds"`
}

// MarginAdd is recognised revenue earned by one action and model in a month.
type MarginAdd struct {
	Month      time.Time
	Currency   string
	Action     string
	Model      string
	Recognised int64
}

// CostAdd is usage by one action and model in a month: events, credits, vendor cost.
type CostAdd struct {
	Month      time.Time
	Action     string
	Model      string
	Events     int64
	Credits    int64
	VendorCost int64
}

// UnitsAdd is usage by the day it happened and model, for reconciliation.
type UnitsAdd struct {
	Day        time.Time
	Model      string
	Events     int64
	Units      int64
	VendorCost int64
}

// MarginRow is a month's usage of one action and model against the revenue it earned.
type MarginRow struct {
	Action     string `db:"action"`
	Model      string `db:"model"`
	Events     int64  `db:"events"`
	Credits    int64  `db:"credits"`
	VendorCost int64  `db:"vendor_cost"` // micro-USD
	// RevenueUSD is recognised revenue in USD cents; other currencies are never converted,
	// so they take no part in the margin.
	RevenueUSD int64 `db:"revenue_usd"`
}

// Store reads and writes the rollups (implemented in package store).
type Store interface {
	// InTx runs fn in one transaction.
	InTx(ctx context.Context, fn func(Tx) error) error
	// MonthlyThrough is every monthly row up to and including month, by currency then month.
	MonthlyThrough(ctx context.Context, month time.Time) ([]Monthly, error)
	// MarginOf is the month's rows by action and model.
	MarginOf(ctx context.Context, month time.Time) ([]MarginRow, error)
}

// Tx is the consumer's transaction.
type Tx interface {
	// LockCursor reads the cursor and holds it until the transaction ends (one consumer at a time).
	LockCursor(ctx context.Context) (Cursor, error)
	SaveCursor(ctx context.Context, c Cursor) error
	// Horizon is the highest ledger id handed out so far, then the transactions that may
	// still be writing ledger entries (read in that order).
	Horizon(ctx context.Context) (upto int64, vxids []string, err error)
	// AnyRunning says whether any of the transactions is still running.
	AnyRunning(ctx context.Context, vxids []string) (bool, error)
	// EntriesBetween reads entries after..upto in id order, at most limit.
	EntriesBetween(ctx context.Context, after, upto int64, limit int) ([]Entry, error)
	// DebitsBetween lists the debit ids of entries after..upto.
	DebitsBetween(ctx context.Context, after, upto int64) ([]string, error)
	GrantStates(ctx context.Context, ids []string) ([]GrantState, error)
	SaveGrantStates(ctx context.Context, gs []GrantState) error
	AddMonthly(ctx context.Context, ms []Monthly) error
	AddMargin(ctx context.Context, ms []MarginAdd) error
	AddCosts(ctx context.Context, cs []CostAdd) error
	AddUnits(ctx context.Context, us []UnitsAdd) error
}
