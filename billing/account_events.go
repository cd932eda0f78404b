package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Account event types announced to customer webhooks (SPEC section 4, "Customer webhooks").
const (
	EventAlertFired            = "alert.fired"
	EventAlertResolved         = "alert.resolved"
	EventSpendLimitReached     = "spend_limit.reached"
	EventAutoRechargeSucceeded = "auto_recharge.succeeded"
	EventAutoRechargeFailed    = "auto_recharge.failed"
	EventPaymentFailed         = "payment.failed"
	EventCreditsExpiring       = "credits.expiring"
	// EventWebhookTest is sent only by "Send test event", to the one endpoint it names.
	EventWebhookTest = "webhook.test"
)

// EventTypes lists the types an endpoint may subscribe to (the test event is not one).
var EventTypes = []string{EventAlertFired, EventAlertResolved, EventSpendLimitReached, EventAutoRechargeSucceeded,
	EventAutoRechargeFailed, EventPaymentFailed, EventCreditsExpiring}

// JobWebhookDeliver sends one webhook delivery (package billing/webhooks handles it).
const JobWebhookDeliver = "webhook.deliver"

// AccountEvent is something that happened to an account that its webhooks hear about. Data
// must marshal to a JSON object.
type AccountEvent struct {
	AccountID string
	Type      string
	Data      any
}

// EventBody is the JSON body every delivery of an event sends.
type EventBody struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Account   string    `json:"account"`
	Data      any       `json:"data"`
}

// EventDelivery is one pending delivery of an event to one endpoint.
type EventDelivery struct {
	ID         string
	EndpointID string
	AccountID  string
	EventID    string
	Type       string
	Payload    []byte
	CreatedAt  time.Time
}

// DeliverJob is the payload of a JobWebhookDeliver job: the delivery and the attempt it makes
// (1-based), so a replayed job for an attempt already made sends nothing.
type DeliverJob struct {
	DeliveryID string `json:"delivery_id"`
	Attempt    int    `json:"attempt"`
}

// NewDeliverJob is the job of attempt n of a delivery, due at runAt.
func NewDeliverJob(deliveryID string, n int, runAt time.Time) Job {
	return NewJob(JobWebhookDeliver, DeliverJob{DeliveryID: deliveryID, Attempt: n}, runAt, fmt.Sprintf("webhook:%s:%d", deliveryID, n))
}

// AccountEventsTx writes deliveries inside the transaction of the change they announce.
type AccountEventsTx interface {
	// InsertEventDeliveries stores one pending delivery per live endpoint of d.AccountID
	// subscribed to d.Type (an endpoint with no events hears every type), each with a new id
	// from newID and due at d.CreatedAt; it returns the ids.
	InsertEventDeliveries(ctx context.Context, d EventDelivery, newID func() string) ([]string, error)
}

// EmitEvent is the one way code announces an account event to webhooks: inside the caller's
// transaction, one delivery per subscribed endpoint and one job per delivery, so nothing is
// sent unless the change commits. An account without endpoints costs one indexed query.
func (s *Service) EmitEvent(ctx context.Context, tx Tx, e AccountEvent) error {
	return emitEvent(ctx, tx, s.Now(), e)
}

// emitEvent is EmitEvent at a given time, for code that decides under the book's clock.
func emitEvent(ctx context.Context, tx Tx, now time.Time, e AccountEvent) error {
	body := EventBody{ID: NewID("evt"), Type: e.Type, CreatedAt: now, Account: e.AccountID, Data: e.Data}
	if body.Data == nil {
		body.Data = map[string]any{}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("billing: event %s: %w", e.Type, err)
	}
	ids, err := tx.InsertEventDeliveries(ctx, EventDelivery{AccountID: e.AccountID, EventID: body.ID, Type: e.Type,
		Payload: payload, CreatedAt: now}, func() string { return NewID("whd") })
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := tx.Enqueue(ctx, NewDeliverJob(id, 1, now)); err != nil {
			return err
		}
	}
	return nil
}

// rechargeEvent is auto_recharge.succeeded or auto_recharge.failed for a recharge.
func rechargeEvent(typ string, r Recharge, why string) AccountEvent {
	data := map[string]any{"recharge": r.ID, "packs": r.Packs, "credits": r.Credits.String(), "amount": r.Amount, "currency": r.Currency}
	if why != "" {
		data["reason"] = why
	}
	return AccountEvent{AccountID: r.AccountID, Type: typ, Data: data}
}

// paymentFailedEvent is payment.failed for a subscription invoice.
func paymentFailedEvent(accountID string, inv *InvoiceEvent) AccountEvent {
	return AccountEvent{AccountID: accountID, Type: EventPaymentFailed, Data: map[string]any{"invoice": inv.ID,
		"subscription": inv.SubscriptionID, "plan": inv.PlanKey, "currency": inv.Currency, "hosted_invoice_url": inv.HostedURL}}
}

// alertEvents are the webhook events of a fired or resolved alert: alert.fired or
// alert.resolved for every rule (credits.expiring for an expiring-credits rule), and
// spend_limit.reached too when a rule at 100% or more of the spend limit fires.
func alertEvents(ev AlertEvent) []AccountEvent {
	r := ev.Rule
	data := map[string]any{"rule": r.ID, "kind": r.Kind, "threshold": r.Threshold, "crossing": ev.Crossing,
		"available": ev.Available.String(), "spent": ev.Spent.String(), "last_topup": ev.LastTopup.String()}
	if ev.SpendLimit != nil {
		data["spend_limit"] = ev.SpendLimit.String()
	}
	if ev.Detail != "" {
		data["detail"] = ev.Detail
	}
	if r.MemberID != nil {
		data["member"] = *r.MemberID
	}
	typ := ev.Type
	if r.Kind == AlertCreditsExpiring {
		typ = EventCreditsExpiring
		data["grant"], data["credits"] = ev.GrantID, ev.Expiring.String()
		if ev.ExpiresAt != nil {
			data["expires_at"] = ev.ExpiresAt.UTC()
		}
	}
	out := []AccountEvent{{AccountID: r.AccountID, Type: typ, Data: data}}
	if r.Kind == AlertSpendPercent && r.Threshold >= 100 && ev.Type == AlertFired {
		out = append(out, AccountEvent{AccountID: r.AccountID, Type: EventSpendLimitReached, Data: data})
	}
	return out
}
