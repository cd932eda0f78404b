package abuse

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"creditline/billing"
)

// Windows of the detectors.
const (
	baselineDays   = 14
	foldBatch      = 50_000
	refusalWindow  = 10 * time.Minute
	networkWindow  = 24 * time.Hour
	sharedWindow   = 24 * time.Hour
	drainWindow    = time.Hour
	checkoutWindow = time.Hour
)

// RunReport says what one detector run did.
type RunReport struct {
	Folded  int            // ledger entries folded into the rollups
	Events  int            // usage events among them
	Raised  map[string]int // new flags per kind
	Waiting bool           // the fold stopped at a ledger writer still running (the next run goes on)
	Elapsed time.Duration
}

// detectPayload is the detector job's payload: the minute it stands for.
type detectPayload struct {
	At time.Time `json:"at"`
}

// Register makes the worker run the detector job; the job enqueues its next run, keyed by
// the minute, so every instance's chain merges into one.
func (s *Service) Register(w *billing.Worker) { w.Handle(JobDetect, s.handleDetect) }

// Start enqueues the detector job for the next period (a no-op when it is queued already).
func (s *Service) Start(ctx context.Context) error {
	return s.store.EnqueueJob(ctx, s.detectJob(s.now()))
}

func (s *Service) detectJob(after time.Time) billing.Job {
	at := after.Truncate(s.every).Add(s.every)
	return billing.NewJob(JobDetect, detectPayload{At: at}, at, fmt.Sprintf("%s@%d", JobDetect, at.Unix()))
}

func (s *Service) handleDetect(ctx context.Context, payload json.RawMessage) error {
	var p detectPayload
	_ = json.Unmarshal(payload, &p)
	rep, err := s.Run(ctx)
	if err != nil {
		return err
	}
	if n := total(rep.Raised); n > 0 || rep.Elapsed > 10*time.Second || rep.Waiting {
		s.log.Info("abuse detectors", "raised", n, "folded", rep.Folded, "ms", rep.Elapsed.Milliseconds(),
			"waiting_for_ledger_writer", rep.Waiting)
	}
	return s.store.EnqueueJob(ctx, s.detectJob(s.now()))
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// FlushRefusals saves the rate-limit refusals this process counted since its last flush.
// Every instance counts its own, so every instance flushes on its own (FlushLoop), not only the
// one whose worker happens to run the detector job.
func (s *Service) FlushRefusals(ctx context.Context) error {
	counts := s.billing.TakeRateLimitRefusals()
	if len(counts) == 0 {
		return nil
	}
	if err := s.store.AddRefusals(ctx, s.now().Truncate(time.Minute), counts); err != nil {
		s.billing.RestoreRateLimitRefusals(counts) // counted again at the next flush
		return err
	}
	return nil
}

// FlushLoop flushes this process's refusals every interval until ctx ends, and once more then.
func (s *Service) FlushLoop(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := s.FlushRefusals(fctx); err != nil {
				log.Warn("abuse: rate-limit refusals not saved at shutdown", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := s.FlushRefusals(ctx); err != nil {
				log.Warn("abuse: rate-limit refusals not saved; kept for the next flush", "err", err)
			}
		}
	}
}

// Run flushes this process's rate-limit refusals, folds the ledger up to the horizon into the
// rollups, and runs every detector once.
func (s *Service) Run(ctx context.Context) (RunReport, error) {
	start := time.Now()
	now := s.now()
	rep := RunReport{Raised: map[string]int{}}
	if err := s.FlushRefusals(ctx); err != nil {
		return rep, err
	}
	if err := s.fold(ctx, now, &rep); err != nil {
		return rep, err
	}
	th, err := s.Thresholds(ctx)
	if err != nil {
		return rep, err
	}
	var flags []NewFlag
	for _, d := range []func(context.Context, time.Time, Thresholds) ([]NewFlag, error){
		s.detectVelocity, s.detectRepeatedPrompts, s.detectSharedPrompts, s.detectSignupNetworks,
		s.detectDrainedGrants, s.detectRefusals, s.detectCheckouts, s.detectFailedPayments, s.detectCardNetworks,
	} {
		fs, err := d(ctx, now, th)
		if err != nil {
			return rep, err
		}
		flags = append(flags, fs...)
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		for _, f := range flags {
			f.At = now
			ok, err := tx.RaiseFlag(ctx, f)
			if err != nil {
				return err
			}
			if ok {
				rep.Raised[f.Kind]++
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if err := s.store.Prune(ctx, now.Add(-2*24*time.Hour), now.Add(-(baselineDays+1)*24*time.Hour)); err != nil {
		return rep, err
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// fold folds every committed ledger entry up to a fresh horizon into the rollups, waiting up
// to s.wait for the writers the horizon lists; past that it leaves the rest to the next run.
func (s *Service) fold(ctx context.Context, now time.Time, rep *RunReport) error {
	deadline := time.Now().Add(s.wait)
	for {
		r, st, err := s.foldStep(ctx, now)
		if err != nil {
			return err
		}
		rep.Folded += r.Entries
		rep.Events += r.Events
		switch {
		case st == foldMore:
			continue
		case st == foldWaiting && time.Now().Before(deadline):
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		rep.Waiting = st == foldWaiting
		return nil
	}
}

type foldState int

const (
	foldDone    foldState = iota // every entry up to the horizon is folded
	foldMore                     // a full batch: more entries up to the horizon
	foldWaiting                  // a writer that may hold a lower id still runs
)

// foldStep is one transaction: take a fresh horizon when the last one is folded, wait (by
// returning) while a transaction listed with it still runs, else fold one batch.
//
// Why not "id > cursor" (or "older than 30 s"): ids are drawn before commit, so a transaction
// holding id 7 can commit after id 8 has been read. The horizon is the sequence's last value
// read before listing the transactions holding a write lock on ledger_entries; once those have
// ended, every id up to the horizon is committed or gone for good (store: LedgerHorizon).
func (s *Service) foldStep(ctx context.Context, now time.Time) (r FoldResult, st foldState, err error) {
	err = s.store.InTx(ctx, func(tx Tx) error {
		c, err := tx.LockFoldCursor(ctx)
		if err != nil {
			return err
		}
		if c.LastID >= c.PendingUpto {
			upto, vx, err := tx.LedgerHorizon(ctx)
			if err != nil {
				return err
			}
			if upto <= c.LastID {
				return nil // nothing new
			}
			c.PendingUpto, c.PendingVxids = upto, vx
		}
		if len(c.PendingVxids) > 0 {
			running, err := tx.LedgerWritersRunning(ctx, c.PendingVxids)
			if err != nil {
				return err
			}
			if running {
				st = foldWaiting
				return tx.SaveFoldCursor(ctx, c)
			}
			c.PendingVxids = nil
		}
		if r, err = tx.FoldLedger(ctx, c.LastID, c.PendingUpto, foldBatch, now.Add(-2*time.Hour)); err != nil {
			return err
		}
		c.LastID = c.PendingUpto
		if r.Entries == foldBatch {
			c.LastID, st = r.LastID, foldMore
		}
		return tx.SaveFoldCursor(ctx, c)
	})
	return r, st, err
}

// median of the hourly credits over n hours, hours without usage counting as zero.
func median(hours []int64, n int) int64 {
	if len(hours)*2 < n {
		return 0
	}
	all := make([]int64, n)
	copy(all[n-len(hours):], hours)
	slices.Sort(all)
	return all[n/2]
}

func (s *Service) detectVelocity(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	window := now.Truncate(time.Hour).Add(-time.Hour)
	baseFrom := window.Add(-baselineDays * 24 * time.Hour)
	floor := billing.Credits(th.VelocityFloorCredits) * billing.Credit
	rows, err := s.store.Velocity(ctx, window, baseFrom, floor)
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		med := median(r.Hours, baselineDays*24)
		// The window spans up to two clock hours, so it is compared with two median hours.
		if int64(r.Credits) <= 2*th.VelocityMultiplier*med {
			continue
		}
		sev := SeverityMedium
		if med > 0 && int64(r.Credits) > 10*2*th.VelocityMultiplier*med || med == 0 && r.Credits > 10*floor {
			sev = SeverityHigh
		}
		out = append(out, NewFlag{AccountID: r.AccountID, Kind: KindVelocity, Severity: sev, Since: window,
			Ref: fmt.Sprintf("%s:%d", r.AccountID, window.Unix()), Evidence: map[string]any{
				"window_start": window, "window_end": now, "events": r.Events, "credits": r.Credits.String(),
				"baseline_hourly_median": billing.Credits(med).String(), "baseline_days": baselineDays,
				"multiplier": th.VelocityMultiplier, "floor": floor.String()}})
	}
	return out, nil
}

func (s *Service) detectRepeatedPrompts(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	since := now.Truncate(time.Hour).Add(-time.Hour)
	rows, err := s.store.RepeatedPrompts(ctx, since, th.RepeatedPromptEvents)
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		out = append(out, NewFlag{AccountID: r.AccountID, Kind: KindRepeatedPrompt, Severity: SeverityMedium, Since: since,
			Ref: fmt.Sprintf("%s:%s:%d", r.AccountID, r.Hash, since.Unix()), Evidence: map[string]any{
				"prompt_hash": r.Hash, "events": r.Events, "window_start": since, "window_end": now,
				"threshold": th.RepeatedPromptEvents}})
	}
	return out, nil
}

func (s *Service) detectSharedPrompts(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	since := now.Truncate(time.Hour).Add(-sharedWindow)
	rows, err := s.store.SharedPrompts(ctx, since, int(th.SharedPromptAccounts))
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		for _, acc := range r.Accounts {
			out = append(out, NewFlag{AccountID: acc, Kind: KindSharedPrompt, Severity: SeverityMedium, Since: since,
				Ref: fmt.Sprintf("%s:%s:%d", acc, r.Hash, since.Unix()), Evidence: map[string]any{
					"prompt_hash": r.Hash, "accounts": len(r.Accounts), "events": r.Events, "window_start": since,
					"window_end": now, "threshold": th.SharedPromptAccounts}})
		}
	}
	return out, nil
}

func (s *Service) detectSignupNetworks(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	since := now.Add(-networkWindow)
	rows, err := s.store.SignupNetworks(ctx, since, int(th.SignupsPerNetwork))
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		for _, acc := range r.Accounts {
			out = append(out, NewFlag{AccountID: acc, Kind: KindSignupNetwork, Severity: SeverityHigh, Since: since,
				Ref: fmt.Sprintf("%s:%s", acc, r.Network), Evidence: map[string]any{
					"network": r.Network, "accounts": len(r.Accounts), "trial_grants": r.Trials,
					"window_start": since, "window_end": now, "threshold": th.SignupsPerNetwork}})
		}
	}
	return out, nil
}

func (s *Service) detectDrainedGrants(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	since := now.Add(-drainWindow)
	rows, err := s.store.DrainedGrants(ctx, since, billing.Credits(th.DrainedGrantMinCredits)*billing.Credit)
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		sev := SeverityMedium
		if r.Source == "purchase" || r.Source == "auto_recharge" {
			sev = SeverityHigh // stolen cards buy packs that are drained at once
		}
		out = append(out, NewFlag{AccountID: r.AccountID, Kind: KindGrantDrained, Severity: sev, Since: r.CreatedAt,
			Ref: r.GrantID, Evidence: map[string]any{"grant": r.GrantID, "source": r.Source, "amount": r.Amount.String(),
				"granted_at": r.CreatedAt, "empty_by": now, "minutes": int(now.Sub(r.CreatedAt).Minutes())}})
	}
	return out, nil
}

func (s *Service) detectRefusals(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	since := now.Truncate(time.Minute).Add(-refusalWindow)
	rows, err := s.store.RefusalBursts(ctx, since, th.RateLimitRefusals)
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		out = append(out, NewFlag{AccountID: r.AccountID, Kind: KindRateLimitBurst, Severity: SeverityLow, Since: since,
			Ref: fmt.Sprintf("%s:%d", r.AccountID, since.Unix()), Evidence: map[string]any{
				"refusals": r.Count, "minutes": r.Other, "window_start": since, "window_end": now,
				"threshold": th.RateLimitRefusals}})
	}
	return out, nil
}

func (s *Service) detectCheckouts(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	since := now.Add(-checkoutWindow)
	rows, err := s.store.CheckoutBursts(ctx, since, th.CheckoutAttempts)
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		out = append(out, NewFlag{AccountID: r.AccountID, Kind: KindCardTesting, Severity: SeverityHigh, Since: since,
			Ref: fmt.Sprintf("%s:%d", r.AccountID, since.Truncate(time.Hour).Unix()), Evidence: map[string]any{
				"unpaid_checkouts": r.Count, "paid_checkouts": r.Other, "window_start": since, "window_end": now,
				"threshold": th.CheckoutAttempts}})
	}
	return out, nil
}

func (s *Service) detectFailedPayments(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	since := now.Add(-checkoutWindow)
	rows, err := s.store.FailedPayments(ctx, since, th.FailedPayments)
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		out = append(out, NewFlag{AccountID: r.AccountID, Kind: KindCardTesting, Severity: SeverityHigh, Since: since,
			Ref: fmt.Sprintf("%s:failed:%d", r.AccountID, since.Truncate(time.Hour).Unix()), Evidence: map[string]any{
				"failed_payments": r.Failures, "declined_on_checkout": r.Intent, "failed_async_checkouts": r.Checkout,
				"declined_auto_recharges": r.Recharge, "networks": r.Networks, "window_start": since, "window_end": now,
				"threshold": th.FailedPayments}})
	}
	return out, nil
}

// maxOthers bounds the other accounts a network flag's evidence names.
const maxOthers = 50

// detectCardNetworks flags every account of a network whose card attempts together pass the
// threshold, however few each made; the evidence names the network and the other accounts.
func (s *Service) detectCardNetworks(ctx context.Context, now time.Time, th Thresholds) ([]NewFlag, error) {
	since := now.Add(-checkoutWindow)
	rows, err := s.store.CardNetworks(ctx, since, th.NetworkCardAttempts, 2)
	if err != nil {
		return nil, err
	}
	var out []NewFlag
	for _, r := range rows {
		for _, acc := range r.Accounts {
			others := make([]string, 0, min(len(r.Accounts)-1, maxOthers))
			for _, o := range r.Accounts {
				if o != acc && len(others) < maxOthers {
					others = append(others, o)
				}
			}
			out = append(out, NewFlag{AccountID: acc, Kind: KindCardTesting, Severity: SeverityHigh, Since: since,
				Ref: fmt.Sprintf("%s:net:%s:%d", acc, r.Network, since.Truncate(time.Hour).Unix()), Evidence: map[string]any{
					"network": r.Network, "accounts": len(r.Accounts), "other_accounts": others,
					"unpaid_checkouts": r.Unpaid, "failed_payments": r.Failed, "window_start": since, "window_end": now,
					"threshold": th.NetworkCardAttempts}})
		}
	}
	return out, nil
}
