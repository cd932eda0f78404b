package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"creditline/billing"
)

// An account's copy of its enabled debit-path alert rules (accounts.debit_rules, migration
// 0033, kept by triggers on alert_rules): what the ledger cache needs of them to decide a debit
// without locks. One item a rule: the letter of its kind, its threshold, and '!' when it is
// firing; items sorted bytewise and joined by commas ("p20,s100,s80" are the default rules).
// No rule ids: a rule that fires or resolves sends its batch to the locked path, which reads
// the rules whole.

// ruleCopyCodes are the kinds' letters, as the migration's account_debit_rules spells them.
// Every kind of billing.CachedAlertKinds has one (TestRuleCopyMatchesTheTrigger).
var ruleCopyCodes = map[string]byte{
	billing.AlertBalanceBelow:        'b',
	billing.AlertBalanceBelowPercent: 'p',
	billing.AlertSpendPercent:        's',
}

// encodeRuleCopy is the copy of rules the trigger would write: their enabled debit-path rules.
func encodeRuleCopy(rules []billing.AlertRule) string {
	var items []string
	for _, r := range rules {
		code, ok := ruleCopyCodes[r.Kind]
		if !ok || !r.Enabled {
			continue
		}
		item := string(code) + strconv.FormatInt(r.Threshold, 10)
		if r.Firing {
			item += "!"
		}
		items = append(items, item)
	}
	slices.Sort(items)
	return strings.Join(items, ",")
}

// parseRuleCopy reads the copy of account's rules into what the ledger cache keeps of them.
func parseRuleCopy(account, s string) ([]billing.AlertRule, error) {
	if s == "" {
		return nil, nil
	}
	items := strings.Split(s, ",")
	out := make([]billing.AlertRule, 0, len(items))
	for _, item := range items {
		r := billing.AlertRule{AccountID: account, Enabled: true}
		if n := len(item); n > 0 && item[n-1] == '!' {
			r.Firing, item = true, item[:n-1]
		}
		if item != "" {
			for kind, code := range ruleCopyCodes {
				if item[0] == code {
					r.Kind = kind
				}
			}
		}
		th, err := strconv.ParseInt(item[min(1, len(item)):], 10, 64)
		if r.Kind == "" || err != nil {
			return nil, fmt.Errorf("rules of %s: %q is not a rule", account, item)
		}
		r.Threshold = th
		out = append(out, r)
	}
	return out, nil
}
