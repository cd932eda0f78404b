package abuse

import (
	"context"

	"creditline/billing"
)

// SettingKey is the operator setting holding the thresholds.
const SettingKey = "abuse.thresholds"

// Thresholds are the detectors' limits, an operator setting. The defaults raise no flag on
// the demo's traffic (`portal seed --demo`) nor on the synthetic normal customers.
type Thresholds struct {
	// Velocity: the last hour's credits above Multiplier times the account's median hourly
	// credits over 14 days, and at least FloorCredits (so new accounts are judged sensibly).
	VelocityMultiplier   int64 `json:"velocity_multiplier"`
	VelocityFloorCredits int64 `json:"velocity_floor_credits"`
	// RepeatedPromptEvents: events with one prompt hash from one account in an hour.
	RepeatedPromptEvents int64 `json:"repeated_prompt_events"`
	// SharedPromptAccounts: accounts sending one prompt hash within a day.
	SharedPromptAccounts int64 `json:"shared_prompt_accounts"`
	// SignupsPerNetwork: accounts signed up from one /24 (IPv4) or /64 (IPv6) within a day.
	SignupsPerNetwork int64 `json:"signups_per_network"`
	// DrainedGrantMinCredits: a purchase, trial or allotment at least this large, emptied
	// within an hour of being granted.
	DrainedGrantMinCredits int64 `json:"drained_grant_min_credits"`
	// RateLimitRefusals: refused API requests of one account within ten minutes.
	RateLimitRefusals int64 `json:"rate_limit_refusals"`
	// CheckoutAttempts: checkout sessions of one account left unpaid within an hour.
	CheckoutAttempts int64 `json:"checkout_attempts"`
	// FailedPayments: failed payments of one account within an hour (cards declined on a
	// Checkout page, failed asynchronous payments, declined auto-recharges).
	FailedPayments int64 `json:"failed_payments"`
	// NetworkCardAttempts: unpaid checkouts and failed payments from one /24 (IPv4) or /64
	// (IPv6) within an hour, by two accounts or more.
	NetworkCardAttempts int64 `json:"network_card_attempts"`
}

// DefaultThresholds are used until the operator saves others.
func DefaultThresholds() Thresholds {
	return Thresholds{VelocityMultiplier: 10, VelocityFloorCredits: 500, RepeatedPromptEvents: 100,
		SharedPromptAccounts: 5, SignupsPerNetwork: 5, DrainedGrantMinCredits: 20, RateLimitRefusals: 60,
		CheckoutAttempts: 6, FailedPayments: 5, NetworkCardAttempts: 10}
}

// thresholdFields lists each threshold with its form name, bounds and value.
func (t *Thresholds) fields() []struct {
	name     string
	min, max int64
	v        *int64
} {
	return []struct {
		name     string
		min, max int64
		v        *int64
	}{
		{"velocity_multiplier", 2, 1000, &t.VelocityMultiplier},
		{"velocity_floor_credits", 1, 1_000_000_000, &t.VelocityFloorCredits},
		{"repeated_prompt_events", 2, 10_000_000, &t.RepeatedPromptEvents},
		{"shared_prompt_accounts", 2, 10_000, &t.SharedPromptAccounts},
		{"signups_per_network", 2, 10_000, &t.SignupsPerNetwork},
		{"drained_grant_min_credits", 1, 1_000_000_000, &t.DrainedGrantMinCredits},
		{"rate_limit_refusals", 1, 10_000_000, &t.RateLimitRefusals},
		{"checkout_attempts", 2, 10_000, &t.CheckoutAttempts},
		{"failed_payments", 2, 10_000, &t.FailedPayments},
		{"network_card_attempts", 2, 100_000, &t.NetworkCardAttempts},
	}
}

// Field returns a threshold by its form name.
func (t Thresholds) Field(name string) int64 {
	for _, f := range t.fields() {
		if f.name == name {
			return *f.v
		}
	}
	return 0
}

// SetField sets a threshold by its form name; false for an unknown name.
func (t *Thresholds) SetField(name string, v int64) bool {
	for _, f := range t.fields() {
		if f.name == name {
			*f.v = v
			return true
		}
	}
	return false
}

// ThresholdNames lists the form names in display order.
func ThresholdNames() []string {
	var t Thresholds
	var out []string
	for _, f := range t.fields() {
		out = append(out, f.name)
	}
	return out
}

// Validate checks every threshold is within its bounds. Errors: invalid_request (fields).
func (t Thresholds) Validate() error {
	var v billing.Validation
	for _, f := range t.fields() {
		if *f.v < f.min || *f.v > f.max {
			v.Add(f.name, "Must be a whole number from %d to %d.", f.min, f.max)
		}
	}
	return v.Err()
}

// Thresholds returns the operator's thresholds, or the defaults when none are saved; a saved
// value missing a field keeps that field's default.
func (s *Service) Thresholds(ctx context.Context) (Thresholds, error) {
	t := DefaultThresholds()
	if _, err := s.billing.OperatorSetting(ctx, SettingKey, &t); err != nil {
		return DefaultThresholds(), err
	}
	return t, nil
}

// SetThresholds validates and saves the thresholds (audited as a setting change).
// Errors: invalid_request (fields, reason).
func (s *Service) SetThresholds(ctx context.Context, t Thresholds, op billing.Op) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.billing.SetOperatorSetting(ctx, op, SettingKey, t)
}
