package payments_test

import (
	"errors"
	"testing"
	"time"

	"creditline/billing"
	"creditline/payments"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Any correctly signed payload: Parse never panics, refuses with an invalid_request, or
// returns an event whose id and type are text PostgreSQL stores.
func FuzzStripeWebhook(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"checkout.session.completed","created":1700000000,"api_version":"2024-06-20","data":{"object":{"id":"cs_1","client_reference_id":"acc_1","payment_status":"paid","metadata":{"kind":"pack","pack":"growth"}}}}`))
	f.Add([]byte(`{"id":"evt_2","type":"invoice.paid","data":{"object":{"id":"in_1","lines":{"data":[{"price":{"lookup_key":"pro"},"period":{"start":1,"end":2}}]}}}}`))
	f.Add([]byte(`{"id":"","type":"charge.refunded","data":{"object":{}}}`))
	f.Add([]byte(`{"id":"evt_3","type":"x\u0000","data":{"object":"s"}}`))
	f.Add([]byte(`{"id":"evt_4","type":"customer.subscription.updated","data":{"object":{"items":{"data":[{"price":null}]}}}}`))
	w := payments.Webhooks{Secret: "whsec_fuzz"}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: w.Secret, Timestamp: time.Now()})
		ev, err := w.Parse(payload, sp.Header)
		if err != nil {
			var be *billing.Error
			if !errors.As(err, &be) || be.Code != billing.EInvalid {
				t.Fatalf("payload %q: %v, want invalid_request", payload, err)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" || billing.CheckText("id", ev.ID) != nil || billing.CheckText("type", ev.Type) != nil {
			t.Fatalf("payload %q: accepted id %q type %q", payload, ev.ID, ev.Type)
		}
		if billing.CheckJSONText(payload) != nil {
			t.Fatalf("payload %q: accepted text PostgreSQL refuses", payload)
		}
	})
}
