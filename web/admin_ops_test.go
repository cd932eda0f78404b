package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"github.com/PuerkitoBio/goquery"
)

// auditActions lists the actions the signed-in admin did, oldest first.
func (a *adminEnv) auditActions() []string {
	a.t.Helper()
	u, err := a.Store.UserByEmail(context.Background(), a.boss)
	if err != nil {
		a.t.Fatal(err)
	}
	p, err := a.Svc.AuditLog(context.Background(), billing.AuditFilter{Actor: &billing.Actor{Kind: billing.ActorUser, ID: u.ID}, Limit: 500})
	if err != nil {
		a.t.Fatal(err)
	}
	var out []string
	for i := len(p.Entries) - 1; i >= 0; i-- {
		out = append(out, p.Entries[i].Action)
	}
	return out
}

func (a *adminEnv) keyRow(id string) string {
	a.t.Helper()
	return strings.TrimSpace(a.adm.Get("/admin/api-keys").Doc.Find(`[data-testid="key-row"][data-key="` + id + `"] [data-testid="key-status"]`).Text())
}

func TestAdminPlatformKeys(t *testing.T) {
	a := newAdminEnv(t)
	if p := a.cust.Get("/admin/api-keys"); p.Status != http.StatusNotFound {
		t.Fatalf("customer GET: %d", p.Status)
	}
	if p := a.adm.Get("/admin/api-keys"); p.Status != http.StatusOK {
		t.Fatalf("admin GET: %d", p.Status)
	}
	bad := a.adm.Submit("/admin/api-keys", "/admin/api-keys", url.Values{"name": {"  "}, "reason": {"keep"}})
	if bad.Status != 422 || bad.Doc.Find(`[data-testid="error-name"]`).Length() != 1 || bad.Doc.Find(`[data-testid="new-key"]`).Length() != 0 {
		t.Fatalf("empty name: %d", bad.Status)
	}
	p := a.adm.Submit("/admin/api-keys", "/admin/api-keys", url.Values{"name": {"ci backend " + a.tok}, "reason": {"CI needs it"}})
	secret := strings.TrimSpace(p.Doc.Find(`[data-testid="new-key-secret"]`).Text())
	if p.Status != http.StatusOK || !strings.HasPrefix(secret, "sk_") || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %q", p.Status, secret)
	}
	id := ""
	p.Doc.Find(`[data-testid="key-row"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "ci backend "+a.tok) {
			id, _ = s.Attr("data-key")
		}
	})
	if id == "" {
		t.Fatal("new key not listed")
	}
	key := a.PlatformKey(t).WithKey(secret)
	if r := key.Do("GET", "/api/v1/accounts/"+a.acc.ID, nil); r.Status != http.StatusOK {
		t.Fatalf("new key refused: %d %s", r.Status, r.Raw)
	}
	// Revoke: a confirmation first, then a required reason; the key works until then.
	c := a.adm.Submit("/admin/api-keys", "/admin/api-keys/"+id+"/revoke", url.Values{})
	if c.Status != http.StatusOK || c.Doc.Find(`[data-testid="confirm"]`).Length() != 1 || !strings.HasPrefix(a.keyRow(id), "Active") {
		t.Fatalf("revoke without confirmation: %d, %q", c.Status, a.keyRow(id))
	}
	noReason := a.adm.Submit("/admin/api-keys", "/admin/api-keys/"+id+"/revoke", url.Values{"confirm": {"yes"}})
	if noReason.Status != 422 || noReason.Doc.Find(`[data-testid="error-reason"]`).Length() != 1 || !strings.HasPrefix(a.keyRow(id), "Active") {
		t.Fatalf("revoke without reason: %d", noReason.Status)
	}
	for range 2 { // a double submit revokes (and audits) once
		r := a.adm.Submit("/admin/api-keys", "/admin/api-keys/"+id+"/revoke", url.Values{"confirm": {"yes"}, "reason": {"leaked in a log"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
	}
	if !strings.HasPrefix(a.keyRow(id), "Revoked") {
		t.Fatalf("status after revoke: %q", a.keyRow(id))
	}
	if r := key.Do("GET", "/api/v1/accounts/"+a.acc.ID, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d", r.Status)
	}
	if got := strings.Join(a.auditActions(), ","); got != "api_key.create,api_key.revoke" {
		t.Fatalf("audit: %s", got)
	}
}

// failedJob enqueues a job no worker runs and marks it failed with an error.
func (a *adminEnv) failedJob(kind string) int64 {
	a.t.Helper()
	ctx := context.Background()
	if err := a.Store.EnqueueJob(ctx, billing.NewJob(kind, map[string]string{"to": "x@example.com"}, time.Now().Add(time.Hour), "")); err != nil {
		a.t.Fatal(err)
	}
	js, err := a.Store.JobsByStatus(ctx, billing.JobQueued, 500)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, j := range js {
		if j.Kind == kind {
			if err := a.Store.RetryJob(ctx, j.ID, "smtp: connection refused", nil); err != nil {
				a.t.Fatal(err)
			}
			return j.ID
		}
	}
	a.t.Fatal("job not queued")
	return 0
}

func (a *adminEnv) jobStatus(id int64) string {
	a.t.Helper()
	for _, st := range []string{billing.JobQueued, billing.JobRunning, billing.JobFailed, billing.JobDone, billing.JobCancelled} {
		js, err := a.Store.JobsByStatus(context.Background(), st, 500)
		if err != nil {
			a.t.Fatal(err)
		}
		for _, j := range js {
			if j.ID == id {
				return st
			}
		}
	}
	return "missing"
}

func TestAdminJobsRetryAndCancel(t *testing.T) {
	a := newAdminEnv(t)
	if p := a.cust.Get("/admin/jobs"); p.Status != http.StatusNotFound {
		t.Fatalf("customer GET: %d", p.Status)
	}
	retry, cancel := a.failedJob("test.retry."+a.tok), a.failedJob("test.cancel."+a.tok)
	p := a.adm.Get("/admin/jobs")
	row := p.Doc.Find(`[data-testid="jobs-failed"] [data-job="` + strconv.FormatInt(cancel, 10) + `"]`)
	if p.Status != http.StatusOK || !strings.Contains(row.Find(`[data-testid="job-error"]`).Text(), "connection refused") {
		t.Fatalf("failed job not listed with its error: %d", p.Status)
	}
	if r := a.cust.PostForm("/admin/jobs/"+strconv.FormatInt(cancel, 10)+"/cancel", url.Values{}); r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
		t.Fatalf("customer cancel: %d", r.Status)
	}
	if got := a.jobStatus(cancel); got != billing.JobFailed {
		t.Fatalf("after the customer's try: %s", got)
	}
	for i := range 2 { // a double submit cancels (and audits) once
		r := a.adm.Submit("/admin/jobs", "/admin/jobs/"+strconv.FormatInt(cancel, 10)+"/cancel", url.Values{"reason": {"customer deleted"}})
		want := []string{"done=cancel", "done=nothing"}[i]
		if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), want) {
			t.Fatalf("cancel %d: %d %s", i, r.Status, r.Header.Get("Location"))
		}
	}
	if got := a.jobStatus(cancel); got != billing.JobCancelled {
		t.Fatalf("cancelled job: %s", got)
	}
	r := a.adm.Submit("/admin/jobs", "/admin/jobs/"+strconv.FormatInt(retry, 10)+"/retry", url.Values{})
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=retry") {
		t.Fatalf("retry: %d %s", r.Status, r.Header.Get("Location"))
	}
	// The worker knows no such kind, so the one extra attempt may already have failed again.
	js, _ := a.Store.JobsByStatus(context.Background(), a.jobStatus(retry), 500)
	for _, j := range js {
		if j.ID == retry && (j.MaxAttempts != 1 || j.Status == billing.JobFailed && j.Attempts != 1) {
			t.Errorf("retried job: %+v", j)
		}
	}
	if got := strings.Join(a.auditActions(), ","); got != "job.cancel,job.retry" {
		t.Fatalf("audit: %s", got)
	}
}
