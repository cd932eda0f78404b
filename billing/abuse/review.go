package abuse

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"creditline/billing"
)

// Queue lists flags for review. Errors: invalid_request (status, kind).
func (s *Service) Queue(ctx context.Context, f Filter) ([]Flag, error) {
	switch f.Status {
	case "":
		f.Status = StatusOpen
	case StatusOpen, StatusResolved, StatusDismissed, StatusActioned:
	default:
		return nil, billing.FieldError("status", "Must be open or resolved.")
	}
	if f.Kind != "" && KindLabel(f.Kind) == f.Kind {
		return nil, billing.FieldError("kind", "Not a kind of flag.")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 200
	}
	return s.store.Flags(ctx, f)
}

// FlagsOf lists an account's flags, newest first.
func (s *Service) FlagsOf(ctx context.Context, accountID string) ([]Flag, error) {
	return s.store.FlagsOf(ctx, accountID)
}

// Detail is a flag with what a reviewer needs beside it.
type Detail struct {
	Flag    Flag
	Account billing.Account
	Chart   billing.UsageChart
	Related []RelatedAccount
	Others  []Flag // the account's other flags
}

// chartDays is the span of the usage chart around a flag.
const chartDays = 14

// Detail returns a flag with its account, the account's daily usage over the two weeks up to
// the flag (or today), and the accounts sharing its network or prompt hashes.
// Errors: not_found.
func (s *Service) Detail(ctx context.Context, id int64) (Detail, error) {
	f, err := s.store.FlagByID(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Flag: f}
	if d.Account, err = s.billing.AccountSnapshot(ctx, f.AccountID); err != nil {
		return Detail{}, err
	}
	last := f.CreatedAt.UTC().Truncate(24 * time.Hour)
	rows, err := s.store.UsageDaily(ctx, f.AccountID, last.AddDate(0, 0, -(chartDays-1)), last)
	if err != nil {
		return Detail{}, err
	}
	d.Chart = billing.BuildUsageChart(rows, last, chartDays, nil)
	if d.Related, err = s.store.Related(ctx, f.AccountID, f.CreatedAt.Add(-30*24*time.Hour), 20); err != nil {
		return Detail{}, err
	}
	all, err := s.store.FlagsOf(ctx, f.AccountID)
	if err != nil {
		return Detail{}, err
	}
	for _, o := range all {
		if o.ID != f.ID {
			d.Others = append(d.Others, o)
		}
	}
	return d, nil
}

// Resolution is a reviewer's decision on a flag.
type Resolution struct {
	Action string `json:"action"`
	Note   string `json:"note"`
}

// Validate trims the note and checks the action and the note (required, at most 2000
// characters, text only). Errors: invalid_request (action, note).
func (r *Resolution) Validate() error {
	r.Note = strings.TrimSpace(r.Note)
	if err := billing.CheckText("note", r.Note); err != nil {
		return err
	}
	var v billing.Validation
	switch r.Action {
	case ActionDismiss, ActionSuspend, ActionRequireVerify:
	default:
		v.Add("action", "Choose dismiss, suspend or require_verification.")
	}
	switch {
	case r.Note == "":
		v.Add("note", "Say why: the audit log keeps it (and a suspended customer sees it).")
	case utf8.RuneCountInString(r.Note) > maxNote:
		v.Add("note", "Use at most %d characters.", maxNote)
	}
	return v.Err()
}

// Resolve applies a reviewer's action: dismiss (the flag only), suspend (the account, with
// the note as the reason the customer sees) or require_verification (usage waits until the
// owner confirms their email or saves a card). The account change and the flag's resolution
// are each audited. Errors: invalid_request (action, note), not_found, conflict (resolved).
func (s *Service) Resolve(ctx context.Context, id int64, r Resolution, op billing.Op) (Flag, error) {
	if err := r.Validate(); err != nil {
		return Flag{}, err
	}
	f, err := s.store.FlagByID(ctx, id)
	if err != nil {
		return Flag{}, err
	}
	if f.Status != StatusOpen {
		return Flag{}, billing.Errorf(billing.EConflict, "This flag was already resolved (%s).", f.Status)
	}
	// The account first: a failure leaves the flag open to try again; a repeat is harmless.
	if r.Action != ActionDismiss {
		u := billing.AccountUpdate{AccountID: f.AccountID, Op: op}
		u.Op.Reason = r.Note
		if r.Action == ActionSuspend {
			st := billing.StatusSuspended
			u.Status = &st
		} else {
			u.RequireVerification = true
		}
		if _, err := s.billing.UpdateAccount(ctx, u); err != nil {
			return Flag{}, err
		}
	}
	status := StatusActioned
	if r.Action == ActionDismiss {
		status = StatusDismissed
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockFlag(ctx, id)
		if err != nil {
			return err
		}
		if cur.Status != StatusOpen {
			return billing.Errorf(billing.EConflict, "This flag was already resolved (%s).", cur.Status)
		}
		now := s.now()
		if err := tx.ResolveFlag(ctx, id, status, r.Action, r.Note, op.Actor.String(), now); err != nil {
			return err
		}
		before, _ := json.Marshal(map[string]any{"flag": id, "kind": cur.Kind, "status": cur.Status})
		after, _ := json.Marshal(map[string]any{"flag": id, "kind": cur.Kind, "status": status, "action": r.Action, "note": r.Note})
		kind := op.Actor.Kind
		if kind == "" {
			kind = billing.ActorSystem
		}
		return tx.InsertAudit(ctx, billing.AuditEntry{At: now, ActorKind: kind, ActorID: op.Actor.ID, Action: AuditFlagResolve,
			AccountID: &cur.AccountID, Reason: r.Note, RequestID: op.RequestID, Before: before, After: after})
	})
	if err != nil {
		return Flag{}, err
	}
	return s.store.FlagByID(ctx, id)
}
