package billing

import (
	"context"
	"time"
)

// Account statuses.
const (
	StatusActive    = "active"
	StatusPaused    = "paused"
	StatusSuspended = "suspended"
)

// Account is a wallet owner. Balance and Reserved are caches kept in step by the ledger.
type Account struct {
	ID             string    `db:"id"`
	Name           string    `db:"name"`
	ExternalID     *string   `db:"external_id"`
	Status         string    `db:"status"`
	StatusReason   string    `db:"status_reason"`
	PlanKey        string    `db:"plan_key"`
	OverdraftLimit Credits   `db:"overdraft_limit"`
	Balance        Credits   `db:"balance"`
	Reserved       Credits   `db:"reserved"`
	CreatedAt      time.Time `db:"created_at"`
}

// Available is balance minus active holds.
func (a Account) Available() Credits { return a.Balance - a.Reserved }

// grantTrial is a no-op until the ledger exists.
func (s *Service) grantTrial(ctx context.Context, tx Tx, accountID string) error { return nil }
