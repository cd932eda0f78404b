package mail

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/mail/mailtest"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/emersion/go-smtp"
	"github.com/jmoiron/sqlx"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// deliveryEnv is the service over a fresh database with a clock the test moves, its worker
// logging into a buffer.
type deliveryEnv struct {
	db    *sqlx.DB
	st    *store.Store
	mu    sync.Mutex
	clock time.Time
	log   *bytes.Buffer
}

func newDeliveryEnv(t *testing.T) *deliveryEnv {
	db := pgtest.Fresh(t)
	return &deliveryEnv{db: db, st: store.New(db), clock: time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC), log: &bytes.Buffer{}}
}

func (e *deliveryEnv) now() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.clock }

func (e *deliveryEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock = e.clock.Add(d)
}

func (e *deliveryEnv) service(m billing.Mailer) (*billing.Service, *billing.Worker) {
	svc := billing.NewService(e.st, billing.Options{Now: e.now, PasswordCost: 4, Mailer: m})
	return svc, svc.NewWorker(slog.New(slog.NewTextHandler(e.log, nil)))
}

func (e *deliveryEnv) onlyMail(t *testing.T) billing.Mail {
	t.Helper()
	mail, err := e.st.Outbox(context.Background(), 0, 10)
	if err != nil || len(mail) != 1 {
		t.Fatalf("outbox: %d messages, %v", len(mail), err)
	}
	return mail[0]
}

type jobRow struct {
	Status    string    `db:"status"`
	Attempts  int       `db:"attempts"`
	LastError string    `db:"last_error"`
	RunAt     time.Time `db:"run_at"`
}

func (e *deliveryEnv) mailJobs(t *testing.T) []jobRow {
	t.Helper()
	var out []jobRow
	if err := e.db.Select(&out, `SELECT status, attempts, last_error, run_at FROM jobs WHERE kind = $1 ORDER BY id`, billing.JobSendMail); err != nil {
		t.Fatal(err)
	}
	return out
}

func signUp(t *testing.T, svc *billing.Service, email string) {
	t.Helper()
	in := billing.SignUpInput{Name: "Ann", Email: email, Password: "ann-long-password"}
	if err := svc.RequestSignUp(context.Background(), in, "http://portal.test"); err != nil {
		t.Fatalf("sign-up: %v", err)
	}
}

var linkRE = regexp.MustCompile(`http://portal\.test/signup/confirm\?token=[A-Za-z0-9_-]+`)

func TestSignUpMailIsRetriedThenSentOnce(t *testing.T) {
	ctx := context.Background()
	e := newDeliveryEnv(t)
	ts := mailtest.Start(t, mailtest.Options{User: "relay", Pass: "relay-secret-pw"})
	ts.SetFail(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Mailbox busy, try later"})
	_, port, _ := net.SplitHostPort(ts.Addr)
	m := mustNew(t, "smtp://relay:relay-secret-pw@127.0.0.1:"+port)
	svc, w := e.service(m)

	signUp(t, svc, "ann@example.com")
	queued := e.onlyMail(t)
	link := linkRE.FindString(queued.Body)
	if queued.Status != billing.MailQueued || queued.Attempts != 0 || link == "" {
		t.Fatalf("after sign-up: %+v", queued)
	}
	// Committed with the message, in the same transaction.
	if jobs := e.mailJobs(t); len(jobs) != 1 || jobs[0].Status != "queued" {
		t.Fatalf("send jobs %+v", jobs)
	}

	// The server refuses: the error is recorded on the message and the job waits to retry.
	if n := w.RunDue(ctx); n != 1 {
		t.Fatalf("ran %d jobs", n)
	}
	failed := e.onlyMail(t)
	if failed.Status != billing.MailQueued || failed.Attempts != 1 || !strings.Contains(failed.LastError, "451") || !strings.Contains(failed.LastError, "Mailbox busy") || failed.SentAt != nil {
		t.Fatalf("after a refusal: %+v", failed)
	}
	jobs := e.mailJobs(t)
	if len(jobs) != 1 || jobs[0].Status != "queued" || jobs[0].Attempts != 1 || !jobs[0].RunAt.After(e.now()) {
		t.Fatalf("job after a refusal %+v", jobs)
	}
	if n := w.RunDue(ctx); n != 0 || len(ts.Received()) != 0 {
		t.Fatalf("retried before its backoff: %d jobs, %d messages", n, len(ts.Received()))
	}

	ts.SetFail(nil)
	e.advance(time.Hour)
	if n := w.RunDue(ctx); n != 1 {
		t.Fatalf("retry ran %d jobs", n)
	}
	sent := e.onlyMail(t)
	if sent.Status != billing.MailSent || sent.Attempts != 2 || sent.SentAt == nil || !sent.SentAt.Equal(e.now()) || sent.LastError != "" {
		t.Fatalf("after the retry: %+v", sent)
	}
	got := ts.Received()
	if len(got) != 1 || got[0].To[0] != "ann@example.com" {
		t.Fatalf("received %+v", got)
	}
	if body := got[0].Parse(t).Text; !strings.Contains(body, link) {
		t.Fatalf("the mail lacks the link %s:\n%s", link, body)
	}

	// A repeated job (a crash before it was marked done) does not send a sent message again.
	if err := e.st.EnqueueJob(ctx, billing.NewJob(billing.JobSendMail, map[string]int64{"id": sent.ID}, e.now(), "")); err != nil {
		t.Fatal(err)
	}
	if n := w.RunDue(ctx); n != 1 || len(ts.Received()) != 1 || e.onlyMail(t).Attempts != 2 {
		t.Fatalf("repeated job: ran %d, %d messages received", n, len(ts.Received()))
	}

	// The worker logged the refusal, but neither the SMTP password nor the message.
	logs := e.log.String()
	token := strings.TrimPrefix(link, "http://portal.test/signup/confirm?token=")
	if !strings.Contains(logs, "Mailbox busy") || strings.Contains(logs, "relay-secret-pw") || strings.Contains(logs, token) || strings.Contains(logs, "follow this link") {
		t.Fatalf("worker log:\n%s", logs)
	}
}

func TestMailFailsForGoodAfterItsLastAttempt(t *testing.T) {
	ctx := context.Background()
	e := newDeliveryEnv(t)
	ts := mailtest.Start(t, mailtest.Options{})
	ts.SetFail(&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 0, 0}, Message: "No thanks"})
	_, port, _ := net.SplitHostPort(ts.Addr)
	svc, w := e.service(mustNew(t, "smtp://127.0.0.1:"+port))
	signUp(t, svc, "bob@example.com")
	for i := 0; i < billing.MailMaxAttempts; i++ {
		if n := w.RunDue(ctx); n != 1 {
			t.Fatalf("attempt %d: ran %d jobs", i+1, n)
		}
		e.advance(2 * time.Hour)
	}
	m := e.onlyMail(t)
	if m.Status != billing.MailFailed || m.Attempts != billing.MailMaxAttempts || !strings.Contains(m.LastError, "No thanks") {
		t.Fatalf("after every attempt: %+v", m)
	}
	if jobs := e.mailJobs(t); len(jobs) != 1 || jobs[0].Status != "failed" {
		t.Fatalf("job %+v", jobs)
	}
	if n := w.RunDue(ctx); n != 0 {
		t.Fatalf("ran %d jobs after giving up", n)
	}
}

func TestWithoutSMTPMailIsKept(t *testing.T) {
	ctx := context.Background()
	e := newDeliveryEnv(t)
	ts := mailtest.Start(t, mailtest.Options{})
	_, port, _ := net.SplitHostPort(ts.Addr)
	withSMTP, _ := e.service(mustNew(t, "smtp://127.0.0.1:"+port))
	signUp(t, withSMTP, "queued@example.com") // queued while SMTP was on

	without, w := e.service(nil)
	signUp(t, without, "kept@example.com")
	mail, err := e.st.Outbox(ctx, 0, 10)
	if err != nil || len(mail) != 2 || mail[0].Status != billing.MailKept || mail[1].Status != billing.MailQueued {
		t.Fatalf("outbox %+v, %v", mail, err)
	}
	if jobs := e.mailJobs(t); len(jobs) != 1 {
		t.Fatalf("%d send jobs: a kept message got one", len(jobs))
	}
	// SMTP turned off since: the queued message is kept instead, nothing is attempted.
	w.RunDue(ctx)
	mail, _ = e.st.Outbox(ctx, 0, 10)
	if mail[1].Status != billing.MailKept || len(ts.Received()) != 0 {
		t.Fatalf("after SMTP was turned off: %+v, %d sent", mail[1], len(ts.Received()))
	}
}
