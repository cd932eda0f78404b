package main

import (
	"testing"
)

// WEBHOOK_ALLOW_PRIVATE is off unless set to true; anything else stops the program.
func TestWebhookAllowPrivateSetting(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "true": true} {
		c, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "WEBHOOK_ALLOW_PRIVATE": v}), false)
		if err != nil || c.WebhookAllowPrivate != want {
			t.Errorf("WEBHOOK_ALLOW_PRIVATE=%q: %v, %v; want %v", v, c.WebhookAllowPrivate, err, want)
		}
	}
	if _, err := loadConfig(base(map[string]string{"PAYMENTS": "test", "WEBHOOK_ALLOW_PRIVATE": "yes"}), false); err == nil {
		t.Error("WEBHOOK_ALLOW_PRIVATE=yes accepted")
	}
}
