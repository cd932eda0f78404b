package main

import (
	"strings"
	"testing"
	"time"
)

// RETENTION_DAYS: 30 days by default, whole days from 1 to 3650, anything else stops the start.
func TestRetentionSetting(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 30 * 24 * time.Hour, "1": 24 * time.Hour, " 3650 ": 3650 * 24 * time.Hour} {
		cfg, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "RETENTION_DAYS": v}), false)
		if err != nil || cfg.Retention != want {
			t.Errorf("RETENTION_DAYS=%q: retention %v (%v), want %v", v, cfg.Retention, err, want)
		}
	}
	for _, v := range []string{"0", "3651", "-3", "30d", "1.5"} {
		_, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "RETENTION_DAYS": v}), false)
		if err == nil || !strings.HasPrefix(err.Error(), "RETENTION_DAYS") || strings.Contains(err.Error(), "\n") {
			t.Errorf("RETENTION_DAYS=%q: err %v, want one line naming the setting", v, err)
		}
	}
}
