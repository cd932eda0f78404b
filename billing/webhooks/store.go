// Package webhooks delivers account events to customers' own HTTPS endpoints: signed POSTs,
// retried with back-off for 24 hours, every attempt kept for the customer's delivery log.
// billing.EmitEvent creates the deliveries; this package sends them and manages endpoints.
package webhooks

import (
	"context"
	"time"

	"creditline/billing"
)

// Delivery states.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Endpoint is a URL of an account's that hears its events.
type Endpoint struct {
	ID        string `db:"id"`
	AccountID string `db:"account_id"`
	URL       string `db:"url"`
	// Events are the types it hears; empty: every type.
	Events     []string   `db:"-"`
	Secret     string     `db:"secret"`
	CreatedAt  time.Time  `db:"created_at"`
	DisabledAt *time.Time `db:"disabled_at"`
}

// Delivery is one event sent (or being sent) to one endpoint.
type Delivery struct {
	ID            string     `db:"id"`
	EndpointID    string     `db:"endpoint_id"`
	AccountID     string     `db:"account_id"`
	EventID       string     `db:"event_id"`
	Type          string     `db:"type"`
	Payload       string     `db:"payload"`
	Status        string     `db:"status"`
	Attempts      int        `db:"attempts"`
	NextAttemptAt *time.Time `db:"next_attempt_at"`
	CreatedAt     time.Time  `db:"created_at"`
	FinishedAt    *time.Time `db:"finished_at"`
	// Log is every attempt, oldest first (filled by DeliveriesOf).
	Log []Attempt `db:"-"`
}

// Attempt is one POST of a delivery and what came back.
type Attempt struct {
	DeliveryID string    `db:"delivery_id"`
	N          int       `db:"n"`
	At         time.Time `db:"at"`
	// HTTPStatus is 0 when no answer came (refused, timed out, connection failed).
	HTTPStatus      int    `db:"http_status"`
	DurationMS      int    `db:"duration_ms"`
	ResponseExcerpt string `db:"response_excerpt"`
	Error           string `db:"error"`
}

// Store is what webhooks need from persistence.
type Store interface {
	// InTx runs fn in one transaction, committing when fn returns nil.
	InTx(ctx context.Context, fn func(Tx) error) error
	// EndpointsOf lists the account's live endpoints, oldest first.
	EndpointsOf(ctx context.Context, accountID string) ([]Endpoint, error)
	// EndpointByID returns ENotFound for an unknown id (a deleted endpoint is found, disabled).
	EndpointByID(ctx context.Context, id string) (Endpoint, error)
	// DeliveryByID returns ENotFound for an unknown id.
	DeliveryByID(ctx context.Context, id string) (Delivery, error)
	// DeliveriesOf lists up to limit deliveries of the endpoint, newest first, each with its log.
	DeliveriesOf(ctx context.Context, endpointID string, limit int) ([]Delivery, error)
}

// Tx is what webhooks write inside a transaction.
type Tx interface {
	// LiveEndpointCount counts the account's endpoints that are not deleted, after locking the
	// account's row (so two creations cannot both pass the limit).
	LiveEndpointCount(ctx context.Context, accountID string) (int, error)
	InsertEndpoint(ctx context.Context, e Endpoint) error
	// DisableEndpoint marks a live endpoint deleted; ENotFound when it is not live.
	DisableEndpoint(ctx context.Context, id string, at time.Time) error
	InsertDelivery(ctx context.Context, d Delivery) error
	// SettleAttempt records a and sets the delivery's status (and next attempt, nil unless
	// pending) if the delivery is still pending after a.N-1 attempts; false, writing nothing,
	// when it is not (another run of the same job settled it first).
	SettleAttempt(ctx context.Context, a Attempt, status string, next *time.Time) (bool, error)
	Enqueue(ctx context.Context, j billing.Job) error
	InsertAudit(ctx context.Context, e billing.AuditEntry) error
}
