package billing

import (
	"context"
	"fmt"
	"math/big"
)

// prorata is the credits a cumulative refund of refunded out of paid takes back from a grant
// of amount, rounded half up; a full refund takes the whole grant.
func prorata(amount Credits, refunded, paid int64) Credits {
	if paid <= 0 || refunded >= paid {
		return amount
	}
	if refunded <= 0 {
		return 0
	}
	// amount × refunded passes int64 for large grants (10^15 × 10^12): work in big.Int.
	n := new(big.Int).Mul(big.NewInt(int64(amount)), big.NewInt(refunded))
	n.Lsh(n, 1).Add(n, big.NewInt(paid))
	n.Quo(n, big.NewInt(2*paid))
	return Credits(n.Int64()) // at most amount: refunded < paid
}

// onChargeRefunded takes back the unspent part of what a refunded charge bought, pro rata.
// Stripe's amount_refunded is cumulative: only the part not applied before is revoked, so a
// replayed or late event changes nothing. What was already spent is recorded as a shortfall
// and raised as an abuse flag.
func (s *Service) onChargeRefunded(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	ch := ev.Charge
	g0, err := tx.GrantByStripeRef(ctx, ch.PaymentIntentID, ch.InvoiceID)
	if err != nil {
		return rejected(err)
	}
	b, err := loadBook(ctx, tx, s.Now(), []string{g0.AccountID}) // the account lock orders refunds of one charge
	if err != nil {
		return "", err
	}
	st, err := b.account(g0.AccountID)
	if err != nil {
		return "", err
	}
	r, err := tx.RefundForUpdate(ctx, ch.ID)
	if ErrorCode(err) == ENotFound {
		r, err = Refund{ChargeID: ch.ID, AccountID: g0.AccountID, GrantID: g0.ID, ChargeAmount: ch.Amount}, nil
	}
	if err != nil {
		return "", err
	}
	if ch.AmountRefunded <= r.AmountRefunded {
		return "already applied", nil
	}
	delta := prorata(g0.Amount, ch.AmountRefunded, ch.Amount) - r.Revoked - r.Shortfall
	var take Credits
	before := revokeState{Grant: snapshotGrant(g0), Balance: st.acc.Balance}
	after := before
	if i := indexOfGrant(st.grants, g0.ID); i >= 0 && delta > 0 {
		g := st.grants[i]
		before.Grant = snapshotGrant(*g)
		take = min(delta, g.Remaining)
		g.Remaining -= take
		st.acc.Balance -= take
		b.touchGrant(g)
		b.entry(st, Entry{GrantID: &g.ID, Kind: KindRevoke, Amount: -take, Actor: eventActor(ev), Reason: "refund of charge " + ch.ID})
		if err := b.coverHolds(ctx, tx, st, "reserved credits refunded"); err != nil {
			return "", err
		}
		after.Grant = snapshotGrant(*g)
	}
	short := max(delta-take, 0)
	r.AmountRefunded, r.Revoked, r.Shortfall, r.UpdatedAt = ch.AmountRefunded, r.Revoked+take, r.Shortfall+short, s.Now()
	if err := b.flush(ctx, tx); err != nil {
		return "", err
	}
	if err := tx.UpsertRefund(ctx, r); err != nil {
		return "", err
	}
	if delta > 0 {
		after.Balance, after.Revoked = st.acc.Balance, &take
		op := Op{Actor: actorNamed(eventActor(ev)), Reason: fmt.Sprintf("refund of charge %s (%s credits already spent)", ch.ID, short)}
		if err := s.audit(ctx, tx, op, AuditRevoke, g0.AccountID, "", before, after); err != nil {
			return "", err
		}
	}
	if short > 0 {
		err := tx.InsertAbuseFlag(ctx, AbuseFlag{AccountID: g0.AccountID, Kind: AbuseRefundAfterConsumption,
			Ref: fmt.Sprintf("%s:%d", ch.ID, ch.AmountRefunded), CreatedAt: s.Now(), Evidence: map[string]any{
				"charge": ch.ID, "grant": g0.ID, "amount_refunded": ch.AmountRefunded, "charge_amount": ch.Amount,
				"currency": ch.Currency, "revoked": take.String(), "shortfall": short.String()}})
		if err != nil {
			return "", err
		}
	}
	if err := s.markRefunded(ctx, tx, ch, g0); err != nil {
		return "", err
	}
	return fmt.Sprintf("revoked %s credits, shortfall %s", take, short), nil
}

// markRefunded updates the payment row that the refunded charge paid for, when there is one.
func (s *Service) markRefunded(ctx context.Context, tx Tx, ch *ChargeEvent, g Grant) error {
	ref := ""
	switch {
	case g.StripeCheckoutSession != nil:
		ref = *g.StripeCheckoutSession
	case g.StripeInvoice != nil:
		ref = *g.StripeInvoice
	case g.IdempotencyKey != nil && len(*g.IdempotencyKey) > len("recharge:"):
		ref = (*g.IdempotencyKey)[len("recharge:"):]
	}
	p, err := tx.PaymentForUpdate(ctx, ref)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	refunded := min(ch.AmountRefunded, p.Amount)
	status := PaymentPartiallyRefunded
	if refunded >= p.Amount {
		status = PaymentRefunded
	}
	return tx.SetPaymentRefund(ctx, p.ID, refunded, status)
}
