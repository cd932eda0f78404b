package payments_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"creditline/billing"
)

// auditOf lists the account's audit entries, oldest first.
func (e *env) auditOf(t *testing.T, acc string) []billing.AuditEntry {
	t.Helper()
	p, err := e.svc.AuditLog(context.Background(), billing.AuditFilter{AccountID: acc, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]billing.AuditEntry, 0, len(p.Entries))
	for i := len(p.Entries) - 1; i >= 0; i-- {
		out = append(out, p.Entries[i])
	}
	return out
}

// wantAudit checks that exactly one entry was added since from, by actor, doing action, with
// after (and before, when not nil) holding the given fields.
func (e *env) wantAudit(t *testing.T, acc string, from int, action string, actor billing.Actor, before, after map[string]any) {
	t.Helper()
	es := e.auditOf(t, acc)[from:]
	if len(es) != 1 {
		t.Fatalf("want one %s entry by %s, got %d: %+v", action, actor, len(es), es)
	}
	got := es[0]
	if got.Action != action || got.Actor() != actor || got.AccountID == nil || *got.AccountID != acc {
		t.Fatalf("entry %s by %s on %v, want %s by %s on %s", got.Action, got.Actor(), got.AccountID, action, actor, acc)
	}
	check := func(side string, raw []byte, want map[string]any) {
		if want == nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v (%s)", side, err, raw)
		}
		for k, v := range want {
			if m[k] != v {
				t.Fatalf("%s.%s = %v, want %v (%s)", side, k, m[k], v, raw)
			}
		}
	}
	check("before", got.Before, before)
	check("after", got.After, after)
}

// Every grant, revoke and plan change a payment event makes is audited once, in its
// transaction, as the event's: a replayed event, or another event for the same payment, adds none.
func TestPaymentEventsAreAuditedOnce(t *testing.T) {
	e := newEnv(t)
	now := time.Now()

	t.Run("pack bought, then refunded", func(t *testing.T) {
		uid, acc := e.user()
		cus := e.customer(uid)
		n := len(e.auditOf(t, acc.ID))
		sess := packSession(e.u("cs_a"), acc.ID, cus, "paid")
		e.send(e.u("evt_pack"), "checkout.session.completed", now, sess)
		e.send(e.u("evt_pack"), "checkout.session.completed", now, sess)                     // replay
		e.send(e.u("evt_pack_async"), "checkout.session.async_payment_succeeded", now, sess) // same session
		e.wantAudit(t, acc.ID, n, billing.AuditGrant, billing.Actor{Kind: billing.ActorWebhook, ID: e.u("evt_pack")}, nil,
			map[string]any{"source": "purchase", "credits": "500", "remaining": "500"})

		n = len(e.auditOf(t, acc.ID))
		pi := "pi_" + e.u("cs_a")
		e.send(e.u("evt_ref"), "charge.refunded", now, chargeObj(e.u("ch_a"), pi, 4500, 2250))
		e.send(e.u("evt_ref_again"), "charge.refunded", now, chargeObj(e.u("ch_a"), pi, 4500, 2250)) // same figure
		e.wantAudit(t, acc.ID, n, billing.AuditRevoke, billing.Actor{Kind: billing.ActorWebhook, ID: e.u("evt_ref")},
			map[string]any{"balance": "550"}, map[string]any{"balance": "300", "revoked": "250"})
	})

	t.Run("subscription: plan changes and allotments", func(t *testing.T) {
		uid, acc := e.user()
		cus := e.customer(uid)
		sub := e.u("sub_b")
		end := now.AddDate(0, 1, 0)
		webhook := func(id string) billing.Actor { return billing.Actor{Kind: billing.ActorWebhook, ID: e.u(id)} }

		n := len(e.auditOf(t, acc.ID))
		e.send(e.u("evt_cs"), "checkout.session.completed", now, subSession(e.u("cs_b"), acc.ID, cus, sub, "basic"))
		e.wantAudit(t, acc.ID, n, billing.AuditAccountUpdate, webhook("evt_cs"), map[string]any{"plan": "free"}, map[string]any{"plan": "basic"})

		n = len(e.auditOf(t, acc.ID))
		e.send(e.u("evt_created"), "customer.subscription.created", now, subObj(sub, acc.ID, cus, "basic", "active", end)) // no change
		e.send(e.u("evt_up"), "customer.subscription.updated", now.Add(time.Second), subObj(sub, acc.ID, cus, "pro", "active", end))
		e.send(e.u("evt_up"), "customer.subscription.updated", now.Add(time.Second), subObj(sub, acc.ID, cus, "pro", "active", end))
		e.wantAudit(t, acc.ID, n, billing.AuditAccountUpdate, webhook("evt_up"), map[string]any{"plan": "basic"}, map[string]any{"plan": "pro"})

		n = len(e.auditOf(t, acc.ID))
		inv := invoiceObj(e.u("in_b"), acc.ID, cus, sub, "pro", 4900)
		e.send(e.u("evt_inv"), "invoice.paid", now, inv)
		e.send(e.u("evt_inv_again"), "invoice.paid", now, inv) // same invoice
		e.wantAudit(t, acc.ID, n, billing.AuditGrant, webhook("evt_inv"), nil, map[string]any{"source": "subscription", "credits": "5000"})

		n = len(e.auditOf(t, acc.ID))
		e.send(e.u("evt_del"), "customer.subscription.deleted", now.Add(2*time.Second), subObj(sub, acc.ID, cus, "pro", "canceled", end))
		e.wantAudit(t, acc.ID, n, billing.AuditAccountUpdate, webhook("evt_del"), map[string]any{"plan": "pro"}, map[string]any{"plan": "free"})
	})

	t.Run("auto-recharge", func(t *testing.T) {
		_, acc := e.rechargeUser("400", "10", "500")
		e.pay.Plan(acc, billing.ChargeProcessing)
		e.debit(acc, "200")
		e.runJobs()
		r := e.recharges(acc)[0]
		if r.PaymentIntent == nil {
			t.Fatalf("recharge %+v", r)
		}
		n := len(e.auditOf(t, acc))
		ok := intentObj(*r.PaymentIntent, acc, r.ID, nil)
		e.send(e.u("evt_rc"), "payment_intent.succeeded", now, ok)
		e.send(e.u("evt_rc"), "payment_intent.succeeded", now, ok)       // replay
		e.send(e.u("evt_rc_again"), "payment_intent.succeeded", now, ok) // same payment
		e.wantAudit(t, acc, n, billing.AuditGrant, billing.Actor{Kind: billing.ActorWebhook, ID: e.u("evt_rc")}, nil,
			map[string]any{"source": "auto_recharge", "credits": "100"})

		// In test mode the charge settles inside the job, through the same fulfilment.
		n = len(e.auditOf(t, acc))
		e.debit(acc, "300")
		e.runJobs()
		es := e.auditOf(t, acc)[n:]
		if len(es) != 1 || es[0].Action != billing.AuditGrant || es[0].ActorKind != billing.ActorWebhook {
			t.Fatalf("test-mode recharge audit: %+v", es)
		}
	})
}
