package payments

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"creditline/billing"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Webhooks verifies Stripe webhook signatures with the endpoint's secret (whsec_...).
type Webhooks struct {
	Secret string
	// Tolerance is how old a signature may be; 0 means Stripe's default (5 minutes).
	Tolerance time.Duration
}

// Parse verifies the Stripe-Signature header and reduces the event to what billing reads.
// Errors: invalid_request for a bad, stale or missing signature, or a malformed body.
// Events of any API version are accepted (stripe-go v76 pins 2023-10-16); only the fields
// billing needs are read.
func (w Webhooks) Parse(payload []byte, header string) (billing.PaymentEvent, error) {
	if w.Secret == "" {
		return billing.PaymentEvent{}, billing.Errorf(billing.ENotFound, "Stripe webhooks are not configured.")
	}
	ev, err := webhook.ConstructEventWithOptions(payload, header, w.Secret,
		webhook.ConstructEventOptions{Tolerance: w.Tolerance, IgnoreAPIVersionMismatch: true})
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrTooOld):
		return billing.PaymentEvent{}, billing.Errorf(billing.EInvalid, "Webhook signature verification failed: %v", err)
	case err != nil:
		return billing.PaymentEvent{}, billing.Errorf(billing.EInvalid, "Malformed webhook event: %v", err)
	}
	if err := checkEnvelope(payload, &ev); err != nil {
		return billing.PaymentEvent{}, err
	}
	out := billing.PaymentEvent{ID: ev.ID, Type: string(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	raw := ev.Data.Raw
	switch {
	case strings.HasPrefix(out.Type, "checkout.session."):
		var o stripe.CheckoutSession
		err = json.Unmarshal(raw, &o)
		out.Checkout = checkoutEvent(&o)
	case strings.HasPrefix(out.Type, "invoice."):
		var o stripe.Invoice
		err = json.Unmarshal(raw, &o)
		out.Invoice = invoiceEvent(&o)
	case strings.HasPrefix(out.Type, "customer.subscription."):
		var o stripe.Subscription
		err = json.Unmarshal(raw, &o)
		out.Subscription = subscriptionEvent(&o)
	case strings.HasPrefix(out.Type, "charge."):
		var o stripe.Charge
		err = json.Unmarshal(raw, &o)
		out.Charge = chargeEvent(&o)
	case strings.HasPrefix(out.Type, "payment_intent."):
		var o stripe.PaymentIntent
		err = json.Unmarshal(raw, &o)
		out.PaymentIntent = intentEvent(&o)
	}
	if err != nil {
		return billing.PaymentEvent{}, billing.Errorf(billing.EInvalid, "Malformed %s event: %v", out.Type, err)
	}
	return out, nil
}

// checkEnvelope refuses, with a 400 that changes nothing, a signed event that no retry can
// fix: no id or type, no data.object, or text PostgreSQL cannot store anywhere in it.
func checkEnvelope(payload []byte, ev *stripe.Event) error {
	if err := billing.CheckJSONText(payload); err != nil {
		return err
	}
	var v billing.Validation
	if strings.TrimSpace(ev.ID) == "" {
		v.Add("id", "Required: the event id (evt_...).")
	} else if len(ev.ID) > 255 {
		v.Add("id", "Use at most 255 characters.")
	} else if err := billing.CheckText("id", ev.ID); err != nil {
		return err
	}
	if strings.TrimSpace(string(ev.Type)) == "" {
		v.Add("type", "Required: the event type.")
	} else if len(ev.Type) > 255 {
		v.Add("type", "Use at most 255 characters.")
	} else if err := billing.CheckText("type", string(ev.Type)); err != nil {
		return err
	}
	if ev.Data == nil || len(ev.Data.Raw) == 0 || ev.Data.Raw[0] != '{' {
		v.Add("data.object", "Required: the event's object.")
	}
	return v.Err()
}

func unix(t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(t, 0).UTC()
}

func checkoutEvent(o *stripe.CheckoutSession) *billing.CheckoutEvent {
	e := &billing.CheckoutEvent{ID: o.ID, ClientReferenceID: o.ClientReferenceID, Mode: string(o.Mode),
		PaymentStatus: string(o.PaymentStatus), Metadata: o.Metadata, AmountTotal: o.AmountTotal, Currency: string(o.Currency),
		Created: unix(o.Created)}
	if o.Customer != nil {
		e.CustomerID = o.Customer.ID
	}
	if o.PaymentIntent != nil {
		e.PaymentIntentID = o.PaymentIntent.ID
	}
	if o.Subscription != nil {
		e.SubscriptionID = o.Subscription.ID
	}
	return e
}

// planOfPrice maps a Stripe price to a plan key: its lookup key, else its metadata "plan".
// Prices made inline by our Checkout carry neither; the subscription's metadata does.
func planOfPrice(p *stripe.Price) string {
	if p == nil {
		return ""
	}
	if p.LookupKey != "" {
		return p.LookupKey
	}
	return p.Metadata["plan"]
}

func invoiceEvent(o *stripe.Invoice) *billing.InvoiceEvent {
	e := &billing.InvoiceEvent{ID: o.ID, AmountPaid: o.AmountPaid, AmountDue: o.AmountDue, Currency: string(o.Currency), HostedURL: o.HostedInvoiceURL,
		PeriodStart: unix(o.PeriodStart), PeriodEnd: unix(o.PeriodEnd)}
	if o.Customer != nil {
		e.CustomerID = o.Customer.ID
	}
	if o.Subscription != nil {
		e.SubscriptionID = o.Subscription.ID
	}
	if o.PaymentIntent != nil {
		e.PaymentIntentID = o.PaymentIntent.ID
	}
	if o.Lines != nil {
		for _, l := range o.Lines.Data {
			if k := planOfPrice(l.Price); k != "" && l.Period != nil && l.Period.End > 0 {
				e.PlanKey = k // the line of the period just paid for (the last one wins after a change)
				if l.Period.Start > 0 {
					e.PeriodStart, e.PeriodEnd = unix(l.Period.Start), unix(l.Period.End)
				}
			}
		}
	}
	if d := o.SubscriptionDetails; d != nil {
		if e.PlanKey == "" {
			e.PlanKey = d.Metadata["plan"]
		}
		e.AccountID = d.Metadata["account"]
	}
	return e
}

func subscriptionEvent(o *stripe.Subscription) *billing.SubscriptionEvent {
	e := &billing.SubscriptionEvent{ID: o.ID, Status: string(o.Status), CurrentPeriodStart: unix(o.CurrentPeriodStart), CurrentPeriodEnd: unix(o.CurrentPeriodEnd),
		CancelAtPeriodEnd: o.CancelAtPeriodEnd, AccountID: o.Metadata["account"]}
	if o.Customer != nil {
		e.CustomerID = o.Customer.ID
	}
	// The item's price is what the portal changes; the metadata is what our Checkout set.
	if o.Items != nil && len(o.Items.Data) > 0 {
		e.PlanKey = planOfPrice(o.Items.Data[0].Price)
	}
	if e.PlanKey == "" {
		e.PlanKey = o.Metadata["plan"]
	}
	return e
}

func chargeEvent(o *stripe.Charge) *billing.ChargeEvent {
	e := &billing.ChargeEvent{ID: o.ID, Amount: o.Amount, AmountRefunded: o.AmountRefunded, Currency: string(o.Currency)}
	if o.Customer != nil {
		e.CustomerID = o.Customer.ID
	}
	if o.PaymentIntent != nil {
		e.PaymentIntentID = o.PaymentIntent.ID
	}
	if o.Invoice != nil {
		e.InvoiceID = o.Invoice.ID
	}
	return e
}

func intentEvent(o *stripe.PaymentIntent) *billing.PaymentIntentEvent {
	e := &billing.PaymentIntentEvent{ID: o.ID, Status: string(o.Status), Amount: o.Amount, Currency: string(o.Currency), Metadata: o.Metadata}
	if o.Customer != nil {
		e.CustomerID = o.Customer.ID
	}
	if o.PaymentMethod != nil {
		e.PaymentMethodID = o.PaymentMethod.ID
	}
	if o.LastPaymentError != nil {
		e.FailureMessage = o.LastPaymentError.Msg
	}
	if o.NextAction != nil && o.NextAction.RedirectToURL != nil {
		e.ActionURL = o.NextAction.RedirectToURL.URL
	}
	return e
}
