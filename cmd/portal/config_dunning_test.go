package main

import (
	"strings"
	"testing"
	"time"
)

// DUNNING_GRACE_DAYS: 7 days by default, whole days from 1 to 60, anything else stops the start.
func TestGracePeriodSetting(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 7 * 24 * time.Hour, "1": 24 * time.Hour, " 60 ": 60 * 24 * time.Hour} {
		cfg, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "DUNNING_GRACE_DAYS": v}), false)
		if err != nil || cfg.Grace != want {
			t.Errorf("DUNNING_GRACE_DAYS=%q: grace %v (%v), want %v", v, cfg.Grace, err, want)
		}
	}
	for _, v := range []string{"0", "61", "-3", "7d", "1.5"} {
		_, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "DUNNING_GRACE_DAYS": v}), false)
		if err == nil || !strings.HasPrefix(err.Error(), "DUNNING_GRACE_DAYS") {
			t.Errorf("DUNNING_GRACE_DAYS=%q: err %v, want one naming the setting", v, err)
		}
	}
}
