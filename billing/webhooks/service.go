package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"slices"
	"strings"
	"time"

	"creditline/billing"
)

// Audit actions of endpoint changes.
const (
	AuditEndpointCreate = "webhook_endpoint.create"
	AuditEndpointDelete = "webhook_endpoint.delete"
	AuditEndpointTest   = "webhook_endpoint.test"
	AuditDeliveryResend = "webhook_delivery.resend"
)

// MaxEndpoints is how many live endpoints one account may have.
const MaxEndpoints = 10

// RoleAPIKey stands for an API key authorised on the account, which may manage its endpoints
// as an owner or admin may.
const RoleAPIKey = "api_key"

// Service manages endpoints and sends deliveries.
type Service struct {
	billing      *billing.Service
	store        Store
	allowPrivate bool
	resolver     *net.Resolver
	sender       *sender
}

// Options configures New.
type Options struct {
	// AllowPrivate (WEBHOOK_ALLOW_PRIVATE=true) lifts the SSRF guard and allows http URLs:
	// development and tests only.
	AllowPrivate bool
	// Resolver looks host names up at creation; nil is net.DefaultResolver.
	Resolver *net.Resolver
}

// New builds the service over billing (for its clock) and a store.
func New(b *billing.Service, st Store, o Options) *Service {
	s := &Service{billing: b, store: st, allowPrivate: o.AllowPrivate, resolver: o.Resolver}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	s.sender = newSender(o.AllowPrivate)
	return s
}

// Register makes the worker send deliveries.
func (s *Service) Register(w *billing.Worker) { w.Handle(billing.JobWebhookDeliver, s.handleDeliver) }

func canManage(role string) bool {
	return role == RoleAPIKey || billing.Can(role, billing.ActManageLimits)
}

// forbidden is the refusal of a member: not_found, as for every page they may not use.
func forbidden() error { return billing.Authorize("", billing.ActManageLimits) }

// Endpoints lists the account's live endpoints, oldest first.
func (s *Service) Endpoints(ctx context.Context, accountID string) ([]Endpoint, error) {
	return s.store.EndpointsOf(ctx, accountID)
}

// EndpointInput is a new endpoint as asked for.
type EndpointInput struct {
	URL    string
	Events []string
}

// CreateEndpoint adds an endpoint and returns it with its secret, which is shown this once.
// Errors: not_found (role), invalid_request (url, events; the endpoint limit), not_found.
func (s *Service) CreateEndpoint(ctx context.Context, accountID, role string, in EndpointInput, op billing.Op) (Endpoint, error) {
	if !canManage(role) {
		return Endpoint{}, forbidden()
	}
	events, err := checkEvents(in.Events)
	if err != nil {
		return Endpoint{}, err
	}
	u, err := s.checkURL(ctx, in.URL)
	if err != nil {
		return Endpoint{}, err
	}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	e := Endpoint{ID: billing.NewID("whe"), AccountID: accountID, URL: u, Events: events,
		Secret: "whsec_" + hex.EncodeToString(secret), CreatedAt: s.billing.Now()}
	err = s.store.InTx(ctx, func(tx Tx) error {
		n, err := tx.LiveEndpointCount(ctx, accountID)
		if err != nil {
			return err
		}
		if n >= MaxEndpoints {
			return billing.FieldError("url", "This account already has %d endpoints; delete one first.", MaxEndpoints)
		}
		if err := tx.InsertEndpoint(ctx, e); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditEndpointCreate, accountID, nil, endpointSnapshot(e))
	})
	if err != nil {
		return Endpoint{}, err
	}
	return e, nil
}

// checkEvents validates and de-duplicates event types, in the order of billing.EventTypes.
func checkEvents(in []string) ([]string, error) {
	out := []string{}
	for _, t := range in {
		t = strings.TrimSpace(t)
		if !slices.Contains(billing.EventTypes, t) {
			return nil, billing.FieldError("events", "Unknown event type %q; use %s.", t, strings.Join(billing.EventTypes, ", "))
		}
	}
	for _, t := range billing.EventTypes {
		if slices.ContainsFunc(in, func(s string) bool { return strings.TrimSpace(s) == t }) {
			out = append(out, t)
		}
	}
	return out, nil
}

// owned reads an endpoint of the account's; not_found for anyone else's, or a deleted one.
func (s *Service) owned(ctx context.Context, accountID, id string) (Endpoint, error) {
	e, err := s.store.EndpointByID(ctx, id)
	if err != nil && billing.ErrorCode(err) != billing.ENotFound {
		return Endpoint{}, err
	}
	if err != nil || e.AccountID != accountID || e.DisabledAt != nil {
		return Endpoint{}, billing.Errorf(billing.ENotFound, "No webhook endpoint %q on this account.", id)
	}
	return e, nil
}

// DeleteEndpoint stops deliveries to an endpoint; pending ones end failed at their next try.
// Errors: not_found (role), not_found.
func (s *Service) DeleteEndpoint(ctx context.Context, accountID, role, id string, op billing.Op) error {
	if !canManage(role) {
		return forbidden()
	}
	e, err := s.owned(ctx, accountID, id)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.DisableEndpoint(ctx, e.ID, s.billing.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditEndpointDelete, accountID, endpointSnapshot(e), nil)
	})
}

// Deliveries lists an endpoint's newest deliveries (limit 1-100) with every attempt.
// Errors: not_found, invalid_request (limit).
func (s *Service) Deliveries(ctx context.Context, accountID, endpointID string, limit int) ([]Delivery, error) {
	_, ds, err := s.Log(ctx, accountID, endpointID, limit)
	return ds, err
}

// Log is an endpoint of the account's and its newest deliveries (limit 1-100), each with
// every attempt. Errors: not_found, invalid_request (limit).
func (s *Service) Log(ctx context.Context, accountID, endpointID string, limit int) (Endpoint, []Delivery, error) {
	if limit < 1 || limit > 100 {
		return Endpoint{}, nil, billing.FieldError("limit", "Must be a whole number from 1 to 100.")
	}
	e, err := s.owned(ctx, accountID, endpointID)
	if err != nil {
		return Endpoint{}, nil, err
	}
	ds, err := s.store.DeliveriesOf(ctx, endpointID, limit)
	return e, ds, err
}

// SendTest queues a webhook.test event to one endpoint. Errors: forbidden, not_found.
func (s *Service) SendTest(ctx context.Context, accountID, role, endpointID string, op billing.Op) (Delivery, error) {
	if !canManage(role) {
		return Delivery{}, forbidden()
	}
	e, err := s.owned(ctx, accountID, endpointID)
	if err != nil {
		return Delivery{}, err
	}
	now := s.billing.Now()
	body := billing.EventBody{ID: billing.NewID("evt"), Type: billing.EventWebhookTest, CreatedAt: now, Account: accountID,
		Data: map[string]any{"message": "A test event sent from the Creditline portal."}}
	payload, err := json.Marshal(body)
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{ID: billing.NewID("whd"), EndpointID: e.ID, AccountID: accountID, EventID: body.ID, Type: body.Type,
		Payload: string(payload), Status: StatusPending, NextAttemptAt: &now, CreatedAt: now}
	return d, s.queue(ctx, op, AuditEndpointTest, d, endpointSnapshot(e))
}

// SendAgain queues a new delivery of a delivery's event (same id and body) to its endpoint,
// whatever became of the first. Errors: forbidden, not_found.
func (s *Service) SendAgain(ctx context.Context, accountID, role, deliveryID string, op billing.Op) (Delivery, error) {
	if !canManage(role) {
		return Delivery{}, forbidden()
	}
	old, err := s.store.DeliveryByID(ctx, deliveryID)
	if err != nil && billing.ErrorCode(err) != billing.ENotFound {
		return Delivery{}, err
	}
	if err != nil || old.AccountID != accountID {
		return Delivery{}, billing.Errorf(billing.ENotFound, "No webhook delivery %q on this account.", deliveryID)
	}
	if _, err := s.owned(ctx, accountID, old.EndpointID); err != nil {
		return Delivery{}, err
	}
	now := s.billing.Now()
	d := old
	d.ID, d.Status, d.Attempts, d.NextAttemptAt, d.CreatedAt, d.FinishedAt, d.Log = billing.NewID("whd"), StatusPending, 0, &now, now, nil, nil
	return d, s.queue(ctx, op, AuditDeliveryResend, d, map[string]any{"delivery": old.ID, "event": old.EventID})
}

func (s *Service) queue(ctx context.Context, op billing.Op, action string, d Delivery, before any) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertDelivery(ctx, d); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, billing.NewDeliverJob(d.ID, 1, d.CreatedAt)); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, action, d.AccountID, before, map[string]any{"delivery": d.ID, "event": d.EventID, "type": d.Type})
	})
}

func endpointSnapshot(e Endpoint) map[string]any {
	return map[string]any{"id": e.ID, "url": e.URL, "events": e.Events}
}

// audit writes one audit entry (never the secret) in tx.
func (s *Service) audit(ctx context.Context, tx Tx, op billing.Op, action, accountID string, before, after any) error {
	e := billing.AuditEntry{At: s.billing.Now(), ActorKind: op.Actor.Kind, ActorID: op.Actor.ID, Action: action,
		AccountID: &accountID, Reason: op.Reason, RequestID: op.RequestID}
	if e.ActorKind == "" {
		e.ActorKind = billing.ActorSystem
	}
	var err error
	if before != nil {
		if e.Before, err = json.Marshal(before); err != nil {
			return err
		}
	}
	if after != nil {
		if e.After, err = json.Marshal(after); err != nil {
			return err
		}
	}
	return tx.InsertAudit(ctx, e)
}

// now is the service clock.
func (s *Service) now() time.Time { return s.billing.Now() }
