package billing

import (
	"context"
	"fmt"
)

// onSubscription keeps the subscription row, and so the account's plan and entitlements, in
// step with Stripe. Events older than the stored state are ignored, and a canceled
// subscription stays canceled, so any arrival order ends in the same state.
func (s *Service) onSubscription(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	se := ev.Subscription
	accID, err := s.accountOfCustomer(ctx, tx, se.AccountID, se.CustomerID)
	if err != nil {
		return rejected(err)
	}
	prev, err := tx.SubscriptionForUpdate(ctx, se.ID)
	known := err == nil
	if err != nil && ErrorCode(err) != ENotFound {
		return "", err
	}
	deleted := ev.Type == "customer.subscription.deleted"
	if known && !deleted && (prev.Status == "canceled" || ev.Created.Before(prev.LastEventAt)) {
		return "ignored: older than the stored state", nil
	}
	planKey := se.PlanKey
	if _, err := s.Plan(ctx, planKey); err != nil {
		if ErrorCode(err) != ENotFound {
			return "", err
		}
		if !known {
			return "rejected: unknown plan " + fmt.Sprintf("%q", planKey), nil
		}
		planKey = prev.PlanKey // a price we cannot map: keep what we know
	}
	now := s.Now()
	sub := Subscription{ID: se.ID, AccountID: accID, PlanKey: planKey, Status: se.Status, CancelAtPeriodEnd: se.CancelAtPeriodEnd,
		LastEventAt: ev.Created, CreatedAt: now, UpdatedAt: now}
	if !se.CurrentPeriodEnd.IsZero() {
		t := se.CurrentPeriodEnd.UTC()
		sub.CurrentPeriodEnd = &t
	}
	if !se.CurrentPeriodStart.IsZero() {
		t := se.CurrentPeriodStart.UTC()
		sub.CurrentPeriodStart = &t
	}
	if deleted {
		sub.Status = "canceled"
	}
	if known && prev.LastEventAt.After(sub.LastEventAt) {
		sub.LastEventAt = prev.LastEventAt
	}
	if err := tx.UpsertSubscription(ctx, sub); err != nil {
		return "", err
	}
	if err := s.syncPlan(ctx, tx, accID, eventActor(ev)); err != nil {
		return "", err
	}
	return fmt.Sprintf("subscription %s %s on %s", sub.ID, sub.Status, sub.PlanKey), nil
}

// syncPlan sets the account's plan from its newest live subscription, Free when none; a
// change is audited as actor's (the payment event's).
func (s *Service) syncPlan(ctx context.Context, tx Tx, accountID, actor string) error {
	return s.syncPlanBecause(ctx, tx, accountID, actor, "")
}

// syncPlanBecause is syncPlan with the audit entry's reason ("" for the usual one).
func (s *Service) syncPlanBecause(ctx context.Context, tx Tx, accountID, actor, reason string) error {
	live, err := tx.LiveSubscriptionsOf(ctx, accountID)
	if err != nil {
		return err
	}
	plan := "free"
	if len(live) > 0 {
		plan = live[0].PlanKey
	}
	accs, _, err := tx.LockAccounts(ctx, []string{accountID})
	if err != nil {
		return err
	}
	if len(accs) == 0 {
		return Errorf(ENotFound, "No account %s.", accountID)
	}
	if err := s.syncSpendPeriod(ctx, tx, accs[0], live); err != nil {
		return err
	}
	if accs[0].PlanKey == plan {
		return nil
	}
	s.forgetAccount(accountID) // every instance hears of the change when it commits (ApplyCacheEvent)
	if err := tx.SetAccountPlan(ctx, accountID, plan); err != nil {
		return err
	}
	before := SettingsOf(accs[0])
	after := before
	after.Plan = plan
	op := Op{Actor: actorNamed(actor), Reason: "subscription changed the plan"}
	if len(live) == 0 {
		op.Reason = "no live subscription: back to the Free plan"
	}
	if reason != "" {
		op.Reason = reason
	}
	return s.audit(ctx, tx, op, AuditAccountUpdate, accountID, "", before, after)
}

// notifyPastDue tells the customer once per failed invoice (invoice.payment_failed is the one
// event Stripe sends for every failed attempt; subscription.updated only mirrors the status).
// The in-app notice speaks only through a payment_failed rule with the in-app channel.
func (s *Service) notifyPastDue(ctx context.Context, tx Tx, accountID, invoiceID string) error {
	n := Notification{Kind: "payment_failed", Level: "error", Key: "invoice_failed:" + invoiceID, Link: billingPath,
		Message: "Your subscription payment failed and the subscription is past due. Your credits stay usable; update your card under Manage billing."}
	return fireEventAlerts(ctx, tx, accountID, AlertPaymentFailed, "invoice:"+invoiceID,
		"the subscription invoice "+invoiceID+" was not paid and the subscription is past due.", s.Now(), &n)
}

// onInvoicePaid grants a period's allotment once per invoice, after settling what the
// earlier allotments carry over (Rollover.Apply).
func (s *Service) onInvoicePaid(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	inv := ev.Invoice
	if inv.SubscriptionID == "" {
		return "ignored: not a subscription invoice", nil
	}
	accID, err := s.accountOfCustomer(ctx, tx, inv.AccountID, inv.CustomerID)
	if err != nil {
		return rejected(err)
	}
	if err := s.endDunning(ctx, tx, inv, eventActor(ev)); err != nil {
		return "", err
	}
	planKey := inv.PlanKey
	if planKey == "" {
		sub, err := tx.SubscriptionForUpdate(ctx, inv.SubscriptionID)
		if err != nil {
			// The subscription's own events will tell us its plan; Stripe retries.
			return "", fmt.Errorf("billing: invoice %s: plan of subscription %s not known yet: %w", inv.ID, inv.SubscriptionID, err)
		}
		planKey = sub.PlanKey
	}
	plan, err := s.Plan(ctx, planKey)
	if err != nil {
		return rejected(err)
	}
	key := "invoice:" + inv.ID
	if _, err := tx.GrantByKey(ctx, accID, key); err == nil {
		return "already fulfilled", nil
	} else if ErrorCode(err) != ENotFound {
		return "", err
	}
	if _, err := tx.PaymentForUpdate(ctx, inv.ID); err == nil {
		return "already fulfilled", nil // a plan without allotment
	} else if ErrorCode(err) != ENotFound {
		return "", err
	}
	expired, err := s.applyRollover(ctx, tx, accID, plan.Rollover, eventActor(ev))
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("rollover expired %s", expired)
	if plan.CreditsPerPeriod > 0 {
		res, err := s.grantTx(ctx, tx, GrantInput{AccountID: accID, Source: "subscription", Amount: plan.CreditsPerPeriod,
			PaidAmount: inv.AmountPaid, Currency: inv.Currency, StripeInvoice: inv.ID, StripePaymentIntent: inv.PaymentIntentID,
			IdempotencyKey: key, Actor: eventActor(ev), Reason: plan.Name + " plan allotment", TestMode: s.PaymentsTestMode()})
		if err != nil {
			return "", err
		}
		if err := s.auditGrantBy(ctx, tx, eventActor(ev), res); err != nil {
			return "", err
		}
		out = fmt.Sprintf("granted %s credits (%s); %s", res.Grant.Amount, res.Grant.ID, out)
	}
	err = tx.InsertPayment(ctx, Payment{ID: NewID("pay"), AccountID: accID, Kind: KindPlan, Ref: inv.ID, PaymentIntent: optional(inv.PaymentIntentID),
		Description: plan.Name + " plan", Amount: inv.AmountPaid, Currency: currencyOr(inv.Currency), Credits: plan.CreditsPerPeriod,
		Status: PaymentSucceeded, ReceiptURL: inv.HostedURL, CreatedAt: s.Now(), TestMode: s.PaymentsTestMode()})
	return out, err
}

// applyRollover writes off what the earlier allotments do not carry into the new period.
// Written off means an expire entry (breakage, as at expiry), never a revoke: revokes are
// for refunds and admin decisions. Credits of a cancelled subscription are not touched
// until another allotment arrives.
func (s *Service) applyRollover(ctx context.Context, tx Tx, accountID string, r Rollover, actor string) (Credits, error) {
	lots, err := tx.SubscriptionLots(ctx, accountID)
	if err != nil || len(lots) == 0 {
		return 0, err
	}
	b, err := loadBook(ctx, tx, s.Now(), []string{accountID})
	if err != nil {
		return 0, err
	}
	st, err := b.account(accountID)
	if err != nil {
		return 0, err
	}
	in := make([]RolloverLot, 0, len(lots))
	grants := make([]*Grant, 0, len(lots))
	for _, l := range lots {
		i := indexOfGrant(st.grants, l.GrantID)
		if i < 0 || st.grants[i].Remaining == 0 {
			continue // swept as expired while loading
		}
		grants = append(grants, st.grants[i])
		in = append(in, RolloverLot{Remaining: st.grants[i].Remaining, Carried: l.Carried})
	}
	res := r.Apply(in, 0)
	for i, g := range grants {
		lose := g.Remaining - res.Keep[i]
		if lose <= 0 {
			continue
		}
		g.Remaining -= lose
		st.acc.Balance -= lose
		if g.Remaining == 0 {
			t := b.now
			g.ExpiredAt = &t
		}
		b.touchGrant(g)
		b.entry(st, Entry{GrantID: &g.ID, Kind: KindExpire, Amount: -lose, Actor: actor, Reason: "subscription period ended (rollover " + string(r.Policy) + ")"})
	}
	if err := b.coverHolds(ctx, tx, st, "reserved credits expired at period end"); err != nil {
		return 0, err
	}
	return res.Expired, b.flush(ctx, tx)
}

// onInvoiceFailed marks the subscription past due and tells the customer; granted credits stay.
func (s *Service) onInvoiceFailed(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	inv := ev.Invoice
	accID, err := s.accountOfCustomer(ctx, tx, inv.AccountID, inv.CustomerID)
	if err != nil {
		return rejected(err)
	}
	// A failure that reaches us after the invoice was paid (Stripe retried a delivery we
	// failed to process) is history: it must not mark a paying customer past due or open dunning.
	if paid, err := s.invoicePaid(ctx, tx, accID, inv.ID); err != nil || paid {
		if err != nil {
			return "", err
		}
		return "ignored: invoice already paid", nil
	}
	if inv.SubscriptionID != "" {
		sub, err := tx.SubscriptionForUpdate(ctx, inv.SubscriptionID)
		switch {
		case err == nil && sub.Status != "canceled":
			sub.Status, sub.UpdatedAt = "past_due", s.Now()
			if err := tx.UpsertSubscription(ctx, sub); err != nil {
				return "", err
			}
		case err != nil && ErrorCode(err) != ENotFound:
			return "", err
		}
	}
	if err := s.notifyPastDue(ctx, tx, accID, inv.ID); err != nil {
		return "", err
	}
	if err := s.startDunning(ctx, tx, accID, inv); err != nil {
		return "", err
	}
	if err := s.EmitEvent(ctx, tx, paymentFailedEvent(accID, inv)); err != nil {
		return "", err
	}
	return "subscription past due: customer notified", nil
}

// invoicePaid says whether a subscription invoice was fulfilled: its allotment was granted or
// its payment recorded (onInvoicePaid writes both, once per invoice).
func (s *Service) invoicePaid(ctx context.Context, tx Tx, accountID, invoiceID string) (bool, error) {
	if _, err := tx.GrantByKey(ctx, accountID, "invoice:"+invoiceID); err == nil {
		return true, nil
	} else if ErrorCode(err) != ENotFound {
		return false, err
	}
	if _, err := tx.PaymentForUpdate(ctx, invoiceID); err == nil {
		return true, nil
	} else if ErrorCode(err) != ENotFound {
		return false, err
	}
	return false, nil
}
