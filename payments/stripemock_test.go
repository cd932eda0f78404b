package payments_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/payments"
)

const stripeMockVersion = "github.com/stripe/stripe-mock@v0.203.0"

// stripeMockPath finds stripe-mock in PATH or $(go env GOPATH)/bin, installing it with
// `go install` when missing. It never skips: a missing tool fails the test.
func stripeMockPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		t.Fatalf("go env GOPATH: %v", err)
	}
	bin := filepath.Join(strings.TrimSpace(strings.Split(string(out), string(os.PathListSeparator))[0]), "bin", "stripe-mock")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("installing %s", stripeMockVersion)
	if out, err := exec.Command("go", "install", stripeMockVersion).CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", stripeMockVersion, err, out)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("stripe-mock not found at %s after go install", bin)
	}
	return bin
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startStripeMock runs stripe-mock on free ports until the test ends; it returns its HTTP URL.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin := stripeMockPath(t)
	httpPort, httpsPort := freePort(t), freePort(t)
	cmd := exec.Command(bin, "-http-port", strconv.Itoa(httpPort), "-https-port", strconv.Itoa(httpsPort))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(httpPort)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock did not listen on %s:\n%s", addr, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The requests the Stripe provider makes are ones Stripe's OpenAPI spec accepts:
// stripe-mock validates every parameter and answers 4xx for a malformed request.
func TestStripeRequestsAreAcceptedByStripeMock(t *testing.T) {
	base := startStripeMock(t)
	p := payments.NewStripe(payments.Config{SecretKey: "sk_test_123", APIBase: base, BaseURL: "http://localhost:8080"})
	ctx := context.Background()

	cus, err := p.CreateCustomer(ctx, billing.CustomerInput{AccountID: "acc_1", Name: "Ada", Email: "ada@example.com"})
	if err != nil || !strings.HasPrefix(cus, "cus_") {
		t.Fatalf("customer %q: %v", cus, err)
	}
	for _, kind := range []string{billing.KindPack, billing.KindPlan, "auto_recharge"} {
		sess, err := p.CreateCheckoutSession(ctx, billing.CheckoutInput{AccountID: "acc_1", CustomerID: cus, Kind: kind, Key: "growth",
			Name: "Growth pack: 500 credits", Amount: 4500, Currency: "usd", SuccessURL: "/billing?checkout=success", CancelURL: "/billing"})
		if err != nil || sess.ID == "" {
			t.Fatalf("checkout %s: %+v %v", kind, sess, err)
		}
	}
	for _, sub := range []string{"", "sub_123"} {
		url, err := p.CreatePortalSession(ctx, billing.PortalInput{CustomerID: cus, ReturnURL: "/billing", SubscriptionID: sub})
		if err != nil || url == "" {
			t.Fatalf("portal (subscription %q): %q %v", sub, url, err)
		}
	}
	res, err := p.ChargeOffSession(ctx, billing.ChargeInput{AccountID: "acc_1", CustomerID: cus, PaymentMethodID: "pm_card_visa",
		Amount: 1000, Currency: "usd", Description: "Auto-recharge", RechargeID: "rch_1", IdempotencyKey: "recharge-rch_1"})
	if err != nil || res.PaymentIntentID == "" || res.Settled {
		t.Fatalf("charge: %+v %v", res, err)
	}
	if _, err := p.ReceiptURL(ctx, res.PaymentIntentID); err != nil && billing.ErrorCode(err) != billing.ENotFound {
		t.Fatalf("receipt: %v", err)
	}
	// A request Stripe would refuse is refused, so the checks above mean something.
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/checkout/sessions", strings.NewReader("mode=payment&not_a_parameter=1"))
	req.Header.Set("Authorization", "Bearer sk_test_123")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("stripe-mock answered %d to an unknown parameter", resp.StatusCode)
	}
}
