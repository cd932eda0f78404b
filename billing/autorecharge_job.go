package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// handleAutoRecharge decides and starts one recharge, then charges it off session. It is
// idempotent: a recharge left pending by a crash is resumed with the same idempotency key.
func (s *Service) handleAutoRecharge(ctx context.Context, payload json.RawMessage) error {
	var p rechargePayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("billing: auto-recharge payload: %w", err)
	}
	r, ok, err := s.startRecharge(ctx, p.AccountID)
	if err != nil || !ok {
		return err
	}
	return s.chargeRecharge(ctx, r)
}

// startRecharge applies every guardrail under the settings lock and records a pending
// recharge (the unique in-flight index backs "never two in flight").
func (s *Service) startRecharge(ctx context.Context, accountID string) (Recharge, bool, error) {
	var r Recharge
	var ok bool
	err := s.store.InTx(ctx, func(tx Tx) error {
		set, err := tx.AutoRechargeSettingsForUpdate(ctx, accountID)
		if ErrorCode(err) == ENotFound {
			return nil
		}
		if err != nil {
			return err
		}
		cur, err := tx.InFlightRecharge(ctx, accountID)
		if err == nil {
			r, ok = cur, cur.Status == RechargePending && cur.PaymentIntent == nil // resume a crashed start
			return nil
		}
		if ErrorCode(err) != ENotFound {
			return err
		}
		now := s.Now()
		if !set.Enabled || (set.BackoffUntil != nil && now.Before(*set.BackoffUntil)) {
			return nil
		}
		r, ok, err = s.planRecharge(ctx, tx, set, now)
		if err != nil || !ok {
			return err
		}
		return tx.InsertRecharge(ctx, r)
	})
	return r, ok, err
}

// planRecharge sizes the charge: enough packs to lift available above the threshold, cut
// to what the monthly cap (count and money) still allows.
func (s *Service) planRecharge(ctx context.Context, tx Tx, set AutoRechargeSettings, now time.Time) (Recharge, bool, error) {
	b, err := loadBook(ctx, tx, now, []string{set.AccountID})
	if err != nil {
		return Recharge{}, false, err
	}
	st, err := b.account(set.AccountID)
	if err != nil {
		return Recharge{}, false, err
	}
	avail := b.available(st)
	if avail >= set.Threshold {
		return Recharge{}, false, nil
	}
	pack, err := s.Pack(ctx, set.PackKey)
	if err != nil {
		return Recharge{}, false, err
	}
	price := pack.Prices[set.Currency]
	if !pack.Active || price <= 0 {
		return Recharge{}, false, s.notify(ctx, tx, set.AccountID, "auto_recharge", "warning", "recharge_pack:"+pack.Key, billingPath,
			"Auto-recharge could not run: the "+pack.Name+" pack is no longer sold. Choose another pack in the auto-recharge settings.")
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	count, spent, err := tx.RechargesSince(ctx, set.AccountID, month)
	if err != nil {
		return Recharge{}, false, err
	}
	n := packsToLift(avail, set.Threshold, pack.GrantCredits())
	n = min(n, int((set.MonthlyCapAmount-spent)/price))
	if g := pack.GrantCredits(); g > 0 {
		n = min(n, int(MaxCredits/g)) // one recharge grants at most MaxCredits
	}
	if count >= set.MonthlyCapCount || n < 1 {
		return Recharge{}, false, s.notify(ctx, tx, set.AccountID, "auto_recharge", "warning", "recharge_cap:"+month.Format("2006-01"), billingPath,
			fmt.Sprintf("Auto-recharge reached this month's cap (%d recharges, %s) and will not run again before next month. Raise the cap or buy a pack.",
				set.MonthlyCapCount, FormatMoney(set.MonthlyCapAmount, set.Currency)))
	}
	return Recharge{ID: NewID("rch"), AccountID: set.AccountID, PackKey: pack.Key, Packs: n, Credits: pack.GrantCredits() * Credits(n),
		Amount: price * int64(n), Currency: set.Currency, Status: RechargePending, CreatedAt: now, UpdatedAt: now}, true, nil
}

// chargeRecharge asks the provider for the money (outside any transaction), then records the
// answer. A provider error leaves the recharge pending for the job's retry.
func (s *Service) chargeRecharge(ctx context.Context, r Recharge) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	cust, err := s.store.CustomerOf(ctx, r.AccountID)
	if err != nil && ErrorCode(err) != ENotFound {
		return err
	}
	if cust.PaymentMethod == "" {
		return s.store.InTx(ctx, func(tx Tx) error {
			_, err := s.rechargeDeclined(ctx, tx, r.ID, "", "no saved card")
			return err
		})
	}
	res, err := p.ChargeOffSession(ctx, ChargeInput{AccountID: r.AccountID, CustomerID: cust.CustomerID, PaymentMethodID: cust.PaymentMethod,
		Amount: r.Amount, Currency: r.Currency, Description: fmt.Sprintf("Auto-recharge: %d × %s pack", r.Packs, r.PackKey),
		RechargeID: r.ID, IdempotencyKey: "recharge-" + r.ID})
	if err != nil {
		return err
	}
	if res.Settled {
		_, err := s.ProcessPaymentEvent(ctx, settledEvent(r, res, s.Now()))
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		var err error
		switch res.Status {
		case ChargeDeclined:
			_, err = s.rechargeDeclined(ctx, tx, r.ID, res.PaymentIntentID, res.DeclineMessage)
		case ChargeRequiresAction:
			_, err = s.rechargeNeedsAction(ctx, tx, r.ID, res.PaymentIntentID, res.ActionURL)
		default: // succeeded or processing: credits wait for payment_intent.succeeded
			err = s.rechargeProcessing(ctx, tx, r.ID, res.PaymentIntentID)
		}
		return err
	})
}

// settledEvent turns a final test-mode answer into the webhook Stripe would send, so test
// mode runs the same fulfilment code.
func settledEvent(r Recharge, res ChargeResult, now time.Time) PaymentEvent {
	typ := map[string]string{ChargeSucceeded: "payment_intent.succeeded", ChargeDeclined: "payment_intent.payment_failed",
		ChargeRequiresAction: "payment_intent.requires_action"}[res.Status]
	if typ == "" {
		typ = "payment_intent.processing"
	}
	return PaymentEvent{ID: "evt_test_" + r.ID + "_" + res.Status, Type: typ, Created: now, PaymentIntent: &PaymentIntentEvent{
		ID: res.PaymentIntentID, Status: res.Status, Amount: r.Amount, Currency: r.Currency, FailureMessage: res.DeclineMessage,
		ActionURL: res.ActionURL, Metadata: map[string]string{"kind": "auto_recharge", "recharge": r.ID, "account": r.AccountID}}}
}

func (s *Service) rechargeProcessing(ctx context.Context, tx Tx, id, pi string) error {
	r, err := tx.RechargeForUpdate(ctx, id)
	if err != nil || r.Status != RechargePending {
		return err
	}
	r.Status, r.PaymentIntent, r.UpdatedAt = RechargeProcessing, optional(pi), s.Now()
	return tx.SetRecharge(ctx, r)
}

// rechargeSucceeded grants the recharge's credits once, when the money has moved, and clears
// the decline count and back-off. Lock order: recharge, settings, account.
func (s *Service) rechargeSucceeded(ctx context.Context, tx Tx, id, pi, actor string) (string, error) {
	r, err := tx.RechargeForUpdate(ctx, id)
	if err != nil {
		return rejected(err)
	}
	if r.Status == RechargeSucceeded {
		return "already fulfilled", nil
	}
	set, err := tx.AutoRechargeSettingsForUpdate(ctx, r.AccountID)
	if err == nil {
		set.ConsecutiveDeclines, set.BackoffUntil, set.UpdatedAt = 0, nil, s.Now()
		if err := tx.SaveAutoRechargeSettings(ctx, set); err != nil {
			return "", err
		}
	} else if ErrorCode(err) != ENotFound {
		return "", err
	}
	pack, err := s.Pack(ctx, r.PackKey)
	if err != nil {
		return "", err
	}
	res, err := s.grantTx(ctx, tx, GrantInput{AccountID: r.AccountID, Source: "auto_recharge", Amount: r.Credits,
		ExpiresAt: pack.ExpiresAt(s.Now()), PaidAmount: r.Amount, Currency: r.Currency, StripePaymentIntent: pi,
		IdempotencyKey: "recharge:" + r.ID, Actor: actor, Reason: fmt.Sprintf("auto-recharge %d × %s pack", r.Packs, pack.Name),
		TestMode: s.PaymentsTestMode()})
	if err != nil {
		return "", err
	}
	if err := s.auditGrantBy(ctx, tx, actor, res); err != nil {
		return "", err
	}
	r.Status, r.UpdatedAt, r.Failure, r.ActionURL = RechargeSucceeded, s.Now(), "", ""
	if pi != "" {
		r.PaymentIntent = &pi
	}
	if err := tx.SetRecharge(ctx, r); err != nil {
		return "", err
	}
	err = tx.InsertPayment(ctx, Payment{ID: NewID("pay"), AccountID: r.AccountID, Kind: "auto_recharge", Ref: r.ID, PaymentIntent: optional(pi),
		Description: fmt.Sprintf("Auto-recharge: %d × %s pack", r.Packs, pack.Name), Amount: r.Amount, Currency: r.Currency,
		Credits: r.Credits, Status: PaymentSucceeded, CreatedAt: s.Now(), TestMode: s.PaymentsTestMode()})
	if err != nil {
		return "", err
	}
	if err := s.EmitEvent(ctx, tx, rechargeEvent(EventAutoRechargeSucceeded, r, "")); err != nil {
		return "", err
	}
	return fmt.Sprintf("granted %s credits (%s)", res.Grant.Amount, res.Grant.ID), nil
}

// rechargeDeclined records a decline once: back-off for an hour, and the third decline in a
// row switches auto-recharge off. The customer is told either way.
func (s *Service) rechargeDeclined(ctx context.Context, tx Tx, id, pi, why string) (string, error) {
	r, err := tx.RechargeForUpdate(ctx, id)
	if err != nil {
		return rejected(err)
	}
	if !r.InFlight() {
		return "already settled (" + r.Status + ")", nil
	}
	if why == "" {
		why = "declined by the bank"
	}
	now := s.Now()
	r.Status, r.Failure, r.UpdatedAt = RechargeFailed, why, now
	if pi != "" {
		r.PaymentIntent = &pi
	}
	if err := tx.SetRecharge(ctx, r); err != nil {
		return "", err
	}
	set, err := tx.AutoRechargeSettingsForUpdate(ctx, r.AccountID)
	if err != nil {
		return "", err
	}
	until := now.Add(RechargeBackoff)
	set.ConsecutiveDeclines++
	set.BackoffUntil, set.UpdatedAt = &until, now
	amount := FormatMoney(r.Amount, r.Currency)
	msg := fmt.Sprintf("An auto-recharge payment of %s was declined (%s). No credits were added; we will not try again before %s.",
		amount, why, until.Format("15:04 UTC on 2 Jan"))
	level, key := "warning", "recharge_declined:"+r.ID
	if set.ConsecutiveDeclines >= RechargeMaxDeclines {
		set.Enabled = false
		set.DisabledReason = fmt.Sprintf("Switched off after %d declined payments in a row (last: %s).", set.ConsecutiveDeclines, why)
		msg = "Auto-recharge is off: " + set.DisabledReason + " Check your card under Manage billing, then switch it on again."
		level, key = "error", "recharge_off:"+r.ID
	}
	if err := tx.SaveAutoRechargeSettings(ctx, set); err != nil {
		return "", err
	}
	// A decline speaks in-app through the recharge_failed rule's channel; auto-recharge being
	// switched off changes a setting, so the customer is told whatever the rule says.
	inApp := &Notification{Kind: "auto_recharge", Level: level, Key: key, Link: billingPath, Message: msg}
	if level == "error" {
		if err := s.notify(ctx, tx, r.AccountID, "auto_recharge", level, key, billingPath, msg); err != nil {
			return "", err
		}
		inApp = nil
	}
	if err := s.recordPaymentFailure(ctx, tx, r.AccountID, FailureAutoRecharge, r.ID, ""); err != nil {
		return "", err
	}
	if err := s.EmitEvent(ctx, tx, rechargeEvent(EventAutoRechargeFailed, r, why)); err != nil {
		return "", err
	}
	if err := fireEventAlerts(ctx, tx, r.AccountID, AlertRechargeFailed, "recharge:"+r.ID,
		fmt.Sprintf("the payment of %s was declined (%s).", amount, why), now, inApp); err != nil {
		return "", err
	}
	return fmt.Sprintf("declined (%d in a row)", set.ConsecutiveDeclines), nil
}

// rechargeNeedsAction keeps the recharge in flight and sends the customer a link to finish it.
func (s *Service) rechargeNeedsAction(ctx context.Context, tx Tx, id, pi, url string) (string, error) {
	r, err := tx.RechargeForUpdate(ctx, id)
	if err != nil {
		return rejected(err)
	}
	if r.Status != RechargePending && r.Status != RechargeProcessing {
		return "already " + r.Status, nil
	}
	r.Status, r.ActionURL, r.UpdatedAt = RechargeRequiresAction, url, s.Now()
	if pi != "" {
		r.PaymentIntent = &pi
	}
	if err := tx.SetRecharge(ctx, r); err != nil {
		return "", err
	}
	link := "/billing/recharges/" + r.ID
	err = s.notify(ctx, tx, r.AccountID, "auto_recharge", "warning", "recharge_action:"+r.ID, link,
		fmt.Sprintf("Your bank asks you to confirm an auto-recharge payment of %s. Until you do, no credits are added and no other recharge runs.",
			FormatMoney(r.Amount, r.Currency)))
	if err != nil {
		return "", err
	}
	return "requires action: customer notified", nil
}
