package main

import (
	"strings"
	"testing"

	"creditline/billing"
)

// LEDGER_CACHE_ACCOUNTS: the default bound unless set, a whole number from 1,000 to 50,000,000,
// anything else stops the start.
func TestLedgerCacheSetting(t *testing.T) {
	for v, want := range map[string]int{"": billing.DefaultLedgerCacheAccounts, "1000": 1000, " 250000 ": 250_000} {
		cfg, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "LEDGER_CACHE_ACCOUNTS": v}), false)
		if err != nil || cfg.LedgerCacheAccounts != want {
			t.Errorf("LEDGER_CACHE_ACCOUNTS=%q: %d (%v), want %d", v, cfg.LedgerCacheAccounts, err, want)
		}
	}
	for _, v := range []string{"0", "999", "50000001", "-5", "1e6", "100k"} {
		_, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "LEDGER_CACHE_ACCOUNTS": v}), false)
		if err == nil || !strings.HasPrefix(err.Error(), "LEDGER_CACHE_ACCOUNTS") {
			t.Errorf("LEDGER_CACHE_ACCOUNTS=%q: err %v, want one naming the setting", v, err)
		}
	}
}

// LEDGER_CACHE_FILL: off unless set to on; anything else stops the start.
func TestLedgerCacheFillSetting(t *testing.T) {
	for v, want := range map[string]bool{"": false, "off": false, " on ": true} {
		cfg, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "LEDGER_CACHE_FILL": v}), false)
		if err != nil || cfg.LedgerCacheFill != want {
			t.Errorf("LEDGER_CACHE_FILL=%q: %v (%v), want %v", v, cfg.LedgerCacheFill, err, want)
		}
	}
	for _, v := range []string{"yes", "ON", "1", "true"} {
		_, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "LEDGER_CACHE_FILL": v}), false)
		if err == nil || !strings.HasPrefix(err.Error(), "LEDGER_CACHE_FILL") {
			t.Errorf("LEDGER_CACHE_FILL=%q: err %v, want one naming the setting", v, err)
		}
	}
}
