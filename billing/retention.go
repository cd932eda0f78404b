package billing

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// Retention: finished background work (done, failed and cancelled jobs, sent mail, settled customer
// webhook deliveries with their attempts) is kept for Options.Retention, then deleted by an
// hourly job in bounded batches, so neither the tables nor one DELETE's locks grow without end.

// DefaultRetention is how long finished rows are kept when Options.Retention is 0.
const DefaultRetention = 30 * 24 * time.Hour

// JobRetentionPrune deletes the finished rows older than the retention, once an hour.
const JobRetentionPrune = "retention.prune"

// Each prune statement deletes at most pruneBatch rows; one run deletes at most
// pruneMaxBatches of them per table, and the next hour's run takes the rest.
const (
	pruneBatch      = 1000
	pruneMaxBatches = 50
)

// RetentionStore deletes old finished rows, at most limit per call, and says how many it deleted.
type RetentionStore interface {
	// PruneJobs deletes jobs done, failed or cancelled before the given time.
	PruneJobs(ctx context.Context, before time.Time, limit int) (int64, error)
	// PruneSentMail deletes outbox mail sent before the given time (kept, queued and failed
	// mail stays: nobody has received it).
	PruneSentMail(ctx context.Context, before time.Time, limit int) (int64, error)
	// PruneWebhookDeliveries deletes customer webhook deliveries settled (succeeded or failed)
	// before the given time, with their attempts; pending ones stay.
	PruneWebhookDeliveries(ctx context.Context, before time.Time, limit int) (int64, error)
}

// Retention is how long finished rows are kept.
func (s *Service) Retention() time.Duration {
	if s.retention <= 0 {
		return DefaultRetention
	}
	return s.retention
}

// PruneResult counts the rows one prune deleted.
type PruneResult struct {
	Jobs, Mail, WebhookDeliveries int64
}

// PruneOld deletes what the retention no longer keeps, in batches (at most pruneMaxBatches of
// each kind). The job runs it; tests call it directly.
func (s *Service) PruneOld(ctx context.Context) (PruneResult, error) {
	before := s.Now().Add(-s.Retention())
	var r PruneResult
	for _, p := range []struct {
		n     *int64
		prune func(context.Context, time.Time, int) (int64, error)
	}{{&r.Jobs, s.store.PruneJobs}, {&r.Mail, s.store.PruneSentMail}, {&r.WebhookDeliveries, s.store.PruneWebhookDeliveries}} {
		for range pruneMaxBatches {
			n, err := p.prune(ctx, before, pruneBatch)
			*p.n += n
			if err != nil {
				return r, err
			}
			if n < pruneBatch {
				break
			}
		}
	}
	return r, nil
}

func (s *Service) handleRetentionPrune(ctx context.Context, _ json.RawMessage) error {
	_, err := s.PruneOld(ctx)
	return err
}

// ScheduleRetention enqueues the prune of the next full hour; its unique key makes the
// minute-by-minute sweeps add it once.
func (s *Service) ScheduleRetention(ctx context.Context) error {
	at := s.Now().Truncate(time.Hour).Add(time.Hour)
	return s.store.EnqueueJob(ctx, NewJob(JobRetentionPrune, struct{}{}, at, JobRetentionPrune+":"+strconv.FormatInt(at.Unix(), 10)))
}
