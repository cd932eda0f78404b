package main

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"creditline/billing"
)

// Config is read from the environment once, at start, and validated there.
type Config struct {
	DatabaseURL         string
	Addr                string
	BaseURL             string
	SessionSecret       string
	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	SMTPURL             string
	// Payments is "test" (the built-in provider: no money moves) or "" (Stripe, keys required).
	Payments string
	Dev      bool
	// TrustedProxies are the proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, is the bearer token /metrics asks for (METRICS_TOKEN).
	MetricsToken string
	// MetricsAddr, when set, serves /metrics on a listener of its own (METRICS_ADDR).
	MetricsAddr string
	// DebitShards is how many transactions of single debits may run at once (group commit).
	DebitShards int
	// DebitBulkShards is how many transactions of usage batches may run at once, beside them.
	DebitBulkShards int
	// DebitWindow is how long a small debit batch waits for company (0: none).
	DebitWindow time.Duration
	// LedgerCacheAccounts bounds the accounts cached for lock-free debits (LEDGER_CACHE_ACCOUNTS).
	LedgerCacheAccounts int
	// LedgerCacheFill reads the whole customer base into the ledger cache in the background
	// after the start (LEDGER_CACHE_FILL=on); by default accounts are cached as traffic
	// reaches them, read several at a time.
	LedgerCacheFill bool
	// Grace is how long a failed subscription payment keeps its plan (DUNNING_GRACE_DAYS).
	Grace time.Duration
	// Retention is how long finished jobs, sent mail and settled webhook deliveries are kept
	// (RETENTION_DAYS, 30 by default).
	Retention time.Duration
	// WebhookAllowPrivate (WEBHOOK_ALLOW_PRIVATE=true) lets customer webhooks reach private
	// addresses and use http: development and tests only, never on by default outside dev.
	WebhookAllowPrivate bool
}

// TestMode says payments run on the built-in provider. Only PAYMENTS=test turns it on: a
// missing Stripe key is a configuration error, never a silent switch to free checkouts.
func (c Config) TestMode() bool { return c.Payments == paymentsTest }

const paymentsTest = "test"

// loadConfig reads and checks every setting; the error is one line naming the setting.
// dev relaxes DATABASE_URL (a local cluster is started) and SESSION_SECRET (generated).
func loadConfig(getenv func(string) string, dev bool) (Config, error) {
	c := Config{
		DatabaseURL:         strings.TrimSpace(getenv("DATABASE_URL")),
		Addr:                strings.TrimSpace(getenv("ADDR")),
		BaseURL:             strings.TrimSpace(getenv("BASE_URL")),
		SessionSecret:       getenv("SESSION_SECRET"),
		StripeSecretKey:     strings.TrimSpace(getenv("STRIPE_SECRET_KEY")),
		StripeWebhookSecret: strings.TrimSpace(getenv("STRIPE_WEBHOOK_SECRET")),
		StripeAPIBase:       strings.TrimSpace(getenv("STRIPE_API_BASE")),
		SMTPURL:             strings.TrimSpace(getenv("SMTP_URL")),
		Payments:            strings.TrimSpace(getenv("PAYMENTS")),
		MetricsToken:        getenv("METRICS_TOKEN"),
		MetricsAddr:         strings.TrimSpace(getenv("METRICS_ADDR")),
		Dev:                 dev,
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	// Measured on 2 cores: single debits gain more from one queue's bigger batches than from
	// two transactions at once (spread +12%); batches of 500 events are big enough already and
	// gain from running two at once (+50%).
	c.DebitShards, c.DebitBulkShards = 1, 2
	for _, s := range []struct {
		name string
		to   *int
	}{{"DEBIT_SHARDS", &c.DebitShards}, {"DEBIT_BULK_SHARDS", &c.DebitBulkShards}} {
		if v := strings.TrimSpace(getenv(s.name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 64 {
				return c, fmt.Errorf("%s %q must be a whole number from 1 to 64", s.name, v)
			}
			*s.to = n
		}
	}
	if v := strings.TrimSpace(getenv("DEBIT_WINDOW")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 100*time.Millisecond {
			return c, fmt.Errorf("DEBIT_WINDOW %q must be a duration from 0 to 100ms (e.g. 500us)", v)
		}
		c.DebitWindow = d
	}
	c.LedgerCacheAccounts = billing.DefaultLedgerCacheAccounts
	if v := strings.TrimSpace(getenv("LEDGER_CACHE_ACCOUNTS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 || n > 50_000_000 {
			return c, fmt.Errorf("LEDGER_CACHE_ACCOUNTS %q must be a whole number from 1000 to 50000000", v)
		}
		c.LedgerCacheAccounts = n
	}
	switch v := strings.TrimSpace(getenv("LEDGER_CACHE_FILL")); v {
	case "", "off":
	case "on":
		c.LedgerCacheFill = true
	default:
		return c, fmt.Errorf("LEDGER_CACHE_FILL %q must be on or off", v)
	}
	c.Grace = billing.DefaultGrace
	if v := strings.TrimSpace(getenv("DUNNING_GRACE_DAYS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 60 {
			return c, fmt.Errorf("DUNNING_GRACE_DAYS %q must be a whole number of days from 1 to 60", v)
		}
		c.Grace = time.Duration(n) * 24 * time.Hour
	}
	c.Retention = billing.DefaultRetention
	if v := strings.TrimSpace(getenv("RETENTION_DAYS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return c, fmt.Errorf("RETENTION_DAYS %q must be a whole number of days from 1 to 3650", v)
		}
		c.Retention = time.Duration(n) * 24 * time.Hour
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return c, fmt.Errorf("ADDR %q is not host:port (e.g. :8080 or 127.0.0.1:8080)", c.Addr)
	}
	if c.BaseURL == "" {
		host, port, _ := net.SplitHostPort(c.Addr)
		if host == "" || host == "0.0.0.0" {
			host = "localhost"
		}
		c.BaseURL = "http://" + host + ":" + port
	}
	if err := checkURL("BASE_URL", c.BaseURL, "http", "https"); err != nil {
		return c, err
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.DatabaseURL == "" && !dev {
		return c, fmt.Errorf("DATABASE_URL is required (e.g. postgres://user:pass@localhost:5432/creditline?sslmode=disable)")
	}
	if c.DatabaseURL != "" {
		if err := checkURL("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql"); err != nil {
			return c, err
		}
	}
	if c.SessionSecret == "" && !dev {
		return c, fmt.Errorf("SESSION_SECRET is required: at least 32 random characters (e.g. openssl rand -hex 32)")
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		return c, fmt.Errorf("SESSION_SECRET is too short: use at least 32 random characters")
	}
	if err := c.checkPayments(); err != nil {
		return c, err
	}
	if c.StripeSecretKey != "" {
		if !strings.HasPrefix(c.StripeSecretKey, "sk_") && !strings.HasPrefix(c.StripeSecretKey, "rk_") {
			return c, fmt.Errorf("STRIPE_SECRET_KEY must start with sk_ or rk_")
		}
		if c.StripeWebhookSecret == "" {
			return c, fmt.Errorf("STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set (whsec_...)")
		}
	}
	if c.StripeWebhookSecret != "" && !strings.HasPrefix(c.StripeWebhookSecret, "whsec_") {
		return c, fmt.Errorf("STRIPE_WEBHOOK_SECRET must start with whsec_")
	}
	if c.StripeAPIBase != "" {
		if err := checkURL("STRIPE_API_BASE", c.StripeAPIBase, "http", "https"); err != nil {
			return c, err
		}
	}
	if c.SMTPURL != "" {
		if err := checkURL("SMTP_URL", c.SMTPURL, "smtp", "smtps"); err != nil {
			return c, err
		}
	}
	if err := c.checkOperations(getenv("TRUSTED_PROXIES")); err != nil {
		return c, err
	}
	switch v := strings.TrimSpace(getenv("WEBHOOK_ALLOW_PRIVATE")); v {
	case "", "false":
	case "true":
		c.WebhookAllowPrivate = true
	default:
		return c, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE %q must be true or false", v)
	}
	return c, nil
}

// checkPayments makes the payment mode explicit: Stripe keys, or PAYMENTS=test. Both at once is
// refused as ambiguous (a test deployment that was handed live keys, or the reverse).
func (c Config) checkPayments() error {
	switch {
	case c.Payments != "" && c.Payments != paymentsTest:
		return fmt.Errorf("PAYMENTS %q is not understood: the only value is test (test-mode payments where no money moves)", c.Payments)
	case c.Payments == paymentsTest && c.StripeSecretKey != "":
		return fmt.Errorf("PAYMENTS=test and STRIPE_SECRET_KEY are both set: unset one (test mode moves no money, the key charges real cards)")
	case c.Payments == "" && c.StripeSecretKey == "":
		return fmt.Errorf("STRIPE_SECRET_KEY is required (or PAYMENTS=test for test-mode payments where no money moves)")
	}
	return nil
}

// checkOperations reads TRUSTED_PROXIES and checks METRICS_TOKEN and METRICS_ADDR.
func (c *Config) checkOperations(proxies string) error {
	for _, f := range strings.Split(proxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := parseProxy(f)
		if err != nil {
			return fmt.Errorf("TRUSTED_PROXIES: %q is not an IP address or CIDR (e.g. 10.0.0.0/8,192.0.2.7)", f)
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return fmt.Errorf("METRICS_TOKEN is too short: use at least 16 random characters")
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			return fmt.Errorf("METRICS_ADDR %q is not host:port (e.g. 127.0.0.1:9090)", c.MetricsAddr)
		}
	}
	return nil
}

// parseProxy reads "10.0.0.0/8" or a single address ("192.0.2.7" is 192.0.2.7/32).
func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("not an address")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func checkURL(name, raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	// postgres://user@/db?host=/var/run/postgresql names a Unix socket directory instead of a host.
	if err != nil || (u.Host == "" && !strings.HasPrefix(u.Query().Get("host"), "/")) {
		return fmt.Errorf("%s is not a valid URL", name)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return fmt.Errorf("%s must use %s://", name, strings.Join(schemes, ":// or "))
}
