package payments_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"creditline/billing"
)

// A correctly signed event that no retry can fix is a 400 that stores nothing (a 500 would
// have Stripe retry it for days).
func TestMalformedEnvelopesAre400(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	before := e.available(acc.ID)
	obj := packSession(e.u("cs_env"), acc.ID, cus, "paid")
	objJSON, _ := json.Marshal(obj)
	cases := map[string]string{
		"empty id":         `{"id":"","object":"event","type":"checkout.session.completed","created":1,"data":{"object":` + string(objJSON) + `}}`,
		"no id":            `{"object":"event","type":"checkout.session.completed","created":1,"data":{"object":` + string(objJSON) + `}}`,
		"empty type":       `{"id":"` + e.u("evt_env1") + `","object":"event","type":"","data":{"object":` + string(objJSON) + `}}`,
		"no data":          `{"id":"` + e.u("evt_env2") + `","object":"event","type":"checkout.session.completed"}`,
		"no data.object":   `{"id":"` + e.u("evt_env3") + `","object":"event","type":"checkout.session.completed","data":{}}`,
		"string object":    `{"id":"` + e.u("evt_env4") + `","object":"event","type":"checkout.session.completed","data":{"object":"cs_1"}}`,
		"null object":      `{"id":"` + e.u("evt_env5") + `","object":"event","type":"customer.created","data":{"object":null}}`,
		"NUL in metadata":  `{"id":"` + e.u("evt_env6") + `","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_n","metadata":{"pack":"gro\u0000wth"}}}}`,
		"NUL in the id":    `{"id":"evt_\u0000","object":"event","type":"customer.created","data":{"object":{}}}`,
		"not JSON":         `{"id":`,
		"array":            `[]`,
		"wrong id type":    `{"id":5,"type":"customer.created","data":{"object":{}}}`,
		"invalid UTF-8 id": "{\"id\":\"evt_\xff\",\"type\":\"customer.created\",\"data\":{\"object\":{}}}",
	}
	for name, body := range cases {
		st, out := e.sendAt([]byte(body), time.Now(), secret)
		if st != http.StatusBadRequest {
			t.Errorf("%s: %d %v", name, st, out)
		}
	}
	for _, id := range []string{"", e.u("evt_env1"), e.u("evt_env2"), e.u("evt_env3"), e.u("evt_env4"), e.u("evt_env5"), e.u("evt_env6")} {
		if _, err := e.svc.PaymentEvent(context.Background(), id); billing.ErrorCode(err) != billing.ENotFound {
			t.Errorf("refused event %q was stored: %v", id, err)
		}
	}
	if e.available(acc.ID) != before {
		t.Error("a refused event changed the balance")
	}
	// A well-formed event of a type nobody handles is still a 200 (stored, ignored).
	if out := e.send(e.u("evt_env7"), "customer.updated", time.Now(), map[string]any{"id": "cus_y"}); out["received"] != true {
		t.Errorf("unknown type: %v", out)
	}
}
