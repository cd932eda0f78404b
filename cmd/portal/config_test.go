package main

import (
	"context"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"creditline/payments"
)

// base is a valid serve environment without any payment setting.
func base(extra map[string]string) func(string) string {
	m := map[string]string{"DATABASE_URL": "postgres://h/db", "SESSION_SECRET": strings.Repeat("s", 32)}
	for k, v := range extra {
		m[k] = v
	}
	return env(m)
}

// TestServeRefusesWithoutAPaymentMode: no Stripe key no longer means free test checkouts.
func TestServeRefusesWithoutAPaymentMode(t *testing.T) {
	cases := []struct {
		extra map[string]string
		want  string
	}{
		{nil, "STRIPE_SECRET_KEY is required (or PAYMENTS=test"},
		{map[string]string{"PAYMENTS": "live"}, `PAYMENTS "live" is not understood`},
		{map[string]string{"PAYMENTS": "TEST"}, `PAYMENTS "TEST"`},
		{map[string]string{"PAYMENTS": "test", "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "PAYMENTS=test and STRIPE_SECRET_KEY are both set"},
	}
	for _, c := range cases {
		err := run(context.Background(), []string{"serve"}, base(c.extra), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("env %v: err %v, want one line containing %q", c.extra, err, c.want)
		}
	}
}

func TestTestModeFollowsPaymentsOnly(t *testing.T) {
	cfg, err := loadConfig(base(map[string]string{"PAYMENTS": "test"}), false)
	if err != nil || !cfg.TestMode() {
		t.Fatalf("PAYMENTS=test: %v, test mode %v", err, cfg.TestMode())
	}
	if _, ok := newPayments(cfg).(*payments.TestMode); !ok {
		t.Fatalf("PAYMENTS=test does not build the test-mode provider")
	}
	cfg, err = loadConfig(base(map[string]string{"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}), false)
	if err != nil || cfg.TestMode() {
		t.Fatalf("Stripe keys: %v, test mode %v", err, cfg.TestMode())
	}
	if p := newPayments(cfg); p == nil || p.TestMode() {
		t.Fatalf("Stripe keys built %T", p)
	}
	// The maintenance commands configure no payments: nothing may run in test mode there.
	if p := newPayments(Config{DatabaseURL: "postgres://h/db", Dev: true}); p != nil {
		t.Fatalf("no payment setting built %T", p)
	}
	// dev asks for test mode itself (it reads the same settings through loadConfig).
	cfg, err = loadConfig(env(map[string]string{"PAYMENTS": "test"}), true)
	if err != nil || !cfg.TestMode() {
		t.Fatalf("dev with PAYMENTS=test: %v", err)
	}
}

func TestOperationsSettings(t *testing.T) {
	cfg, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,10.1.2.3/8",
		"METRICS_TOKEN": strings.Repeat("m", 16), "METRICS_ADDR": "127.0.0.1:9090"}), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.0.0.0/8")}
	if !slices.Equal(cfg.TrustedProxies, want) {
		t.Errorf("TrustedProxies = %v, want %v", cfg.TrustedProxies, want)
	}
	if cfg.MetricsToken != strings.Repeat("m", 16) || cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("metrics settings = %q %q", cfg.MetricsToken, cfg.MetricsAddr)
	}
	cfg, err = loadConfig(base(map[string]string{"PAYMENTS": "test"}), false)
	if err != nil || cfg.TrustedProxies != nil || cfg.MetricsToken != "" || cfg.MetricsAddr != "" {
		t.Errorf("unset: %v %+v", err, cfg)
	}
	for _, c := range []struct{ k, v, want string }{
		{"TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES"},
		{"TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", `"proxy.internal"`},
		{"TRUSTED_PROXIES", "fe80::1%eth0", "TRUSTED_PROXIES"},
		{"METRICS_TOKEN", "short", "METRICS_TOKEN is too short"},
		{"METRICS_ADDR", "9090", "METRICS_ADDR"},
	} {
		_, err := loadConfig(base(map[string]string{"PAYMENTS": "test", c.k: c.v}), false)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: err %v, want one line containing %q", c.k, c.v, err, c.want)
		}
	}
}
