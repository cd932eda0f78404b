package billing

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

type alertLinkConfig struct {
	base   string
	secret []byte
}

// AlertLinks is Options.AlertLinks: the site's URL and the secret unsubscribe keys derive from.
type AlertLinks struct {
	BaseURL string
	Secret  []byte
}

// setAlertLinks derives the unsubscribe key from the secret; without one (dev) the key is
// random, made once per process.
func (s *Service) setAlertLinks(l AlertLinks) {
	baseURL, secret := l.BaseURL, l.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			panic(err)
		}
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("creditline alert unsubscribe"))
	s.alertLinkCfg.Store(&alertLinkConfig{base: baseURL, secret: mac.Sum(nil)})
}

// alertLinks is the configuration, or one with a random key made once (tokens then hold only
// while this process runs: tests and maintenance commands).
func (s *Service) alertLinks() *alertLinkConfig {
	if c := s.alertLinkCfg.Load(); c != nil {
		return c
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	s.alertLinkCfg.CompareAndSwap(nil, &alertLinkConfig{secret: k})
	return s.alertLinkCfg.Load()
}

func (s *Service) unsubscribeSig(accountID, ruleID string) string {
	mac := hmac.New(sha256.New, s.alertLinks().secret)
	mac.Write([]byte(accountID + "|" + ruleID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// UnsubscribeToken is the signed token of a rule's unsubscribe link: it names the account and
// the rule and cannot be made without the key.
func (s *Service) UnsubscribeToken(accountID, ruleID string) string {
	return accountID + "." + ruleID + "." + s.unsubscribeSig(accountID, ruleID)
}

// AlertUnsubscribe reads a token: the rule it stands for. Errors: not_found for a token
// that is malformed, forged, or whose rule is gone (all alike, so nothing is revealed).
func (s *Service) AlertUnsubscribe(ctx context.Context, token string) (AlertRule, error) {
	parts := strings.Split(token, ".")
	notFound := Errorf(ENotFound, "This unsubscribe link is not valid (or its alert rule was deleted).")
	if len(parts) != 3 || !hmac.Equal([]byte(parts[2]), []byte(s.unsubscribeSig(parts[0], parts[1]))) {
		return AlertRule{}, notFound
	}
	r, err := s.store.AlertRuleByID(ctx, parts[0], parts[1])
	if ErrorCode(err) == ENotFound {
		return AlertRule{}, notFound
	}
	return r, err
}

// ConfirmAlertUnsubscribe turns the email channel of the token's rule off, audited as the
// account's owner (the link stands for them). Doing it twice changes nothing more.
func (s *Service) ConfirmAlertUnsubscribe(ctx context.Context, token string) (AlertRule, error) {
	r0, err := s.AlertUnsubscribe(ctx, token)
	if err != nil {
		return AlertRule{}, err
	}
	actor := Actor{Kind: ActorUser}
	if ms, err := s.store.AccountMembers(ctx, r0.AccountID); err == nil && len(ms) > 0 {
		actor.ID = ms[0].UserID
	}
	var out AlertRule
	defer s.ledger.drop([]string{r0.AccountID})
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.TouchAccount(ctx, r0.AccountID); err != nil {
			return err
		}
		r, err := tx.AlertRuleForUpdate(ctx, r0.AccountID, r0.ID)
		if err != nil {
			return err
		}
		out = r
		if !r.HasChannel(ChannelEmail) {
			return nil
		}
		before := alertSnapshot(r)
		var keep []string
		for _, ch := range r.Channels {
			if ch != ChannelEmail {
				keep = append(keep, ch)
			}
		}
		r.Channels, r.UpdatedAt = keep, s.Now()
		if r.Channels == nil {
			r.Channels = []string{}
		}
		if err := tx.UpdateAlertRule(ctx, r); err != nil {
			return err
		}
		out = r
		op := Op{Actor: actor, Reason: "unsubscribed from the alert's email by its link"}
		return s.audit(ctx, tx, op, AuditAlertUpdate, r.AccountID, "", before, alertSnapshot(r))
	})
	return out, err
}
