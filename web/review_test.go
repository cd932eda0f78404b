package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"creditline/billing"
	"creditline/web"
	"creditline/web/webtest"
	"github.com/labstack/echo/v4"
)

// csrfOf loads a form page with c and returns its CSRF token.
func csrfOf(t *testing.T, c *webtest.Client, page string) string {
	t.Helper()
	tok, ok := c.Get(page).Doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok {
		t.Fatalf("no CSRF token on %s", page)
	}
	return tok
}

// Concurrent wrong passwords for one email from one address: at most the free five are
// checked, the rest wait (each attempt is counted before bcrypt runs, not after it fails).
// The email is unknown, so each check costs the slow dummy hash.
func TestConcurrentSignInsGetOnlyTheFreeAttempts(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	tok := csrfOf(t, c, "/login")
	const n = 30
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", env.URL+"/login", strings.NewReader(url.Values{
				"_csrf": {tok}, "email": {"nobody-concurrent@example.com"}, "password": {"wrong-" + string(rune('a'+i))}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.HTTP.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for st := range statuses {
		counts[st]++
	}
	if counts[http.StatusUnprocessableEntity] > 5 || counts[http.StatusUnprocessableEntity]+counts[http.StatusTooManyRequests] != n {
		t.Fatalf("statuses %v: at most 5 passwords may be checked, the rest 429", counts)
	}
}

// The change-password form is the same oracle for a stolen session: concurrent wrong current
// passwords get only the free five checks.
func TestConcurrentWrongCurrentPasswordsGetOnlyTheFreeAttempts(t *testing.T) {
	env := webtest.Start(t, func(o *billing.Options) { o.PasswordCost = 10 }) // a slow hash widens the window between check and count
	if _, _, err := env.Svc.SignUp(context.Background(), billing.SignUpInput{Name: "Pat", Email: "pat-concurrent@example.com", Password: "long-enough-pw"}); err != nil {
		t.Fatal(err)
	}
	c := env.Client(t)
	if p := c.Login("pat-concurrent@example.com", "long-enough-pw"); p.Status != http.StatusSeeOther {
		t.Fatalf("login: %d", p.Status)
	}
	tok := csrfOf(t, c, "/account/password")
	const n = 20
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", env.URL+"/account/password", strings.NewReader(url.Values{"_csrf": {tok},
				"current_password": {fmt.Sprintf("guess-%d", i)}, "new_password": {"another long pw"}, "confirm_password": {"another long pw"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.HTTP.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for st := range statuses {
		counts[st]++
	}
	if counts[http.StatusUnprocessableEntity] > 5 || counts[http.StatusUnprocessableEntity]+counts[http.StatusTooManyRequests] != n {
		t.Fatalf("statuses %v: at most 5 current passwords may be checked, the rest 429", counts)
	}
}

// Go's form parsers match the media type case-insensitively, so the text rule must too: a
// NUL in a form field is a 400, never a 500 from PostgreSQL.
func TestTextRuleCoversFormsWhateverTheContentTypeCase(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	post := func(path, ct string, body []byte) (int, string) {
		req, _ := http.NewRequest("POST", env.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	tok := csrfOf(t, c, "/signup")
	form := url.Values{"_csrf": {tok}, "name": {"a\x00b"}, "email": {"nul@example.com"}, "password": {"long-enough-pw"}}.Encode()
	for _, ct := range []string{"Application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8"} {
		if st, body := post("/signup", ct, []byte(form)); st != http.StatusBadRequest {
			t.Errorf("%s with a NUL: %d\n%.300s", ct, st, body)
		}
	}
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	_ = w.WriteField("_csrf", tok)
	_ = w.WriteField("email", "a\x00b@example.com")
	_ = w.WriteField("password", "whatever-password")
	_ = w.Close()
	for _, ct := range []string{"Multipart/Form-Data; boundary=" + w.Boundary(), "MULTIPART/FORM-DATA; boundary=" + w.Boundary()} {
		if st, body := post("/login", ct, mp.Bytes()); st != http.StatusBadRequest {
			t.Errorf("%s with a NUL: %d\n%.300s", ct, st, body)
		}
	}
}

// Secrets in query strings (a sign-up link's token, a key) never reach the log, neither the
// access log nor the error handler's line, also when nested in a next= URL.
func TestLogsRedactSecretQueryParameters(t *testing.T) {
	ie := startInput(t, nil, func(e *echo.Echo) {
		e.GET("/test/boom", func(echo.Context) error { return context.DeadlineExceeded })
	})
	for _, p := range []string{
		"/signup/confirm?token=SIGNUPSECRET1&x=1",
		"/test/boom?api_key=KEYSECRET2&Reset_Token=TOKSECRET3",
		"/login?next=" + url.QueryEscape("/signup/confirm?token=NESTEDSECRET4"),
	} {
		raw(t, "GET", ie.URL+p, "", nil, nil)
	}
	log := ie.log.String()
	for _, secret := range []string{"SIGNUPSECRET1", "KEYSECRET2", "TOKSECRET3", "NESTEDSECRET4"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %s:\n%s", secret, log)
		}
	}
	for _, want := range []string{"uri=\"/signup/confirm?token=REDACTED&x=1\"", "unexpected error", "api_key=REDACTED&Reset_Token=REDACTED"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
}

// One address gets at most billing.SignupMailsPerDay sign-up mails a day, whoever asks from
// wherever; past that the page is the same but nothing is sent.
func TestSignUpMailsPerAddressAreBounded(t *testing.T) {
	env := webtest.Start(t)
	sent := 0
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		c := env.Client(t)
		fromIP(c, ip)
		for i := 0; i < 3; i++ { // the per-IP+email limit is 3 an hour
			p := c.Submit("/signup", "/signup", url.Values{"name": {"Vic"}, "email": {"vic-mails@example.com"}, "password": {"long-enough-pw"}})
			if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="signup-sent"]`).Length() != 1 {
				t.Fatalf("sign-up from %s: %d", ip, p.Status)
			}
			sent++
		}
	}
	mail, err := env.Svc.Outbox(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, m := range mail {
		if m.To == "vic-mails@example.com" {
			got++
		}
	}
	if got != billing.SignupMailsPerDay {
		t.Fatalf("%d sign-ups mailed %d times, want %d", sent, got, billing.SignupMailsPerDay)
	}
	// A name that would write lines of its own into the mail is refused beside the field.
	p := env.Client(t).Submit("/signup", "/signup", url.Values{"name": {"Vic\n\nVisit https://evil.example"}, "email": {"multiline-name@example.com"}, "password": {"long-enough-pw"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "single line") {
		t.Fatalf("multi-line name: %d", p.Status)
	}
}

// xffTransport sends every request as if from the address in *ip, through a trusted proxy.
type xffTransport struct{ ip *string }

func (x xffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", *x.ip)
	return http.DefaultTransport.RoundTrip(r)
}

// An IPv6 client rotating through its /64 is one client to every per-address throttle.
func TestIPv6ClientsAreThrottledByTheirSlash64(t *testing.T) {
	ie := startInput(t, func(d *web.Deps) { d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }, nil)
	api := ie.PlatformKey(t)
	from := func(ip, key string) int {
		st, _, _ := raw(t, "GET", ie.URL+"/api/v1/actions", "", nil, http.Header{"X-Forwarded-For": {ip}, "Authorization": {"Bearer " + key}})
		return st
	}
	for i := 0; i < 20; i++ {
		if st := from(fmt.Sprintf("2001:db8:1:2::%x", i+1), "sk_guess"); st != 401 {
			t.Fatalf("guess %d: %d", i, st)
		}
	}
	if st := from("2001:db8:1:2:ffff::1", "sk_guess"); st != 429 {
		t.Errorf("21st guess from the same /64: %d, want 429", st)
	}
	if st := from("2001:db8:1:3::1", api.Key); st != 200 {
		t.Errorf("valid key from the next /64: %d", st)
	}

	// Sign-in: five wrong passwords from five addresses of one /64, then the sixth waits.
	ip := "2001:db8:9:9::1"
	c := ie.Client(t)
	c.HTTP.Transport = xffTransport{&ip}
	for i := 0; i < 5; i++ {
		ip = fmt.Sprintf("2001:db8:9:9::%x", i+1)
		if p := c.Login("nobody-v6@example.com", "wrong-password"); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong password %d: %d", i, p.Status)
		}
	}
	ip = "2001:db8:9:9:abcd::7"
	if p := c.Login("nobody-v6@example.com", "wrong-password"); p.Status != http.StatusTooManyRequests {
		t.Errorf("sixth try from the same /64: %d, want 429", p.Status)
	}
}
