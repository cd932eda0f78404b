package billing

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// onIntentSucceeded saves the card a payment used (for later off-session charges) and, for
// an auto-recharge, grants its credits: the only place recharge credits come from.
func (s *Service) onIntentSucceeded(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	pi := ev.PaymentIntent
	saved := ""
	if pi.CustomerID != "" && pi.PaymentMethodID != "" {
		if err := ignoreNotFound(tx.SetPaymentMethod(ctx, pi.CustomerID, pi.PaymentMethodID)); err != nil {
			return "", err
		}
		saved = "card saved; "
		if c, err := tx.CustomerByID(ctx, pi.CustomerID); err == nil {
			if err := s.clearVerification(ctx, tx, c.AccountID, eventActor(ev), "a card was saved"); err != nil {
				return "", err
			}
		}
	}
	if id := pi.Metadata["recharge"]; pi.Metadata["kind"] == "auto_recharge" && id != "" {
		out, err := s.rechargeSucceeded(ctx, tx, id, pi.ID, eventActor(ev))
		return saved + out, err
	}
	return saved + "no recharge", nil
}

func (s *Service) onIntentFailed(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	pi := ev.PaymentIntent
	if id := pi.Metadata["recharge"]; pi.Metadata["kind"] == "auto_recharge" && id != "" {
		return s.rechargeDeclined(ctx, tx, id, pi.ID, pi.FailureMessage)
	}
	// A card declined on a Checkout page: the session stays open for another card, and each
	// attempt is its own event, counted by the card-testing detector.
	accID, err := s.accountOfCustomer(ctx, tx, pi.Metadata["account"], pi.CustomerID)
	switch ErrorCode(err) {
	case "":
	case ENotFound, EInvalid:
		return "ignored: not an auto-recharge, account unknown", nil
	default:
		return "", err
	}
	if err := s.recordPaymentFailure(ctx, tx, accID, FailurePaymentIntent, ev.ID, ""); err != nil {
		return "", err
	}
	return "payment failed: counted for abuse detection", nil
}

func (s *Service) onIntentRequiresAction(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	pi := ev.PaymentIntent
	if id := pi.Metadata["recharge"]; pi.Metadata["kind"] == "auto_recharge" && id != "" {
		return s.rechargeNeedsAction(ctx, tx, id, pi.ID, pi.ActionURL)
	}
	return "ignored: not an auto-recharge", nil
}

// FormatMoney shows minor units with the currency's symbol: "$45.00", "€9.50", "12.00 CHF".
func FormatMoney(amount int64, currency string) string {
	sym := map[string]string{"usd": "$", "eur": "€", "gbp": "£"}[strings.ToLower(currency)]
	neg := ""
	if amount < 0 {
		neg, amount = "-", -amount
	}
	whole := Credits(amount / 100 * 1000).Display() // thousands separators
	s := fmt.Sprintf("%s.%02d", whole, amount%100)
	if sym == "" {
		return neg + s + " " + strings.ToUpper(currency)
	}
	return neg + sym + s
}

// FormatAmount is minor units as a plain decimal for a form field: "150.00".
func FormatAmount(amount int64) string { return fmt.Sprintf("%d.%02d", amount/100, amount%100) }

// ParseAmount reads a money amount typed by a person ("150", "150.5", "$1,000.00") into
// minor units. Errors: anything else, negative amounts, more than 2 decimals.
func ParseAmount(s string) (int64, error) {
	s = strings.TrimPrefix(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), "$")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || len(whole) > 12 || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	frac += strings.Repeat("0", 2-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}
