package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

// addNotifications inserts n notifications for the account, oldest first, one minute apart,
// and returns their ids in that order.
func addNotifications(t *testing.T, env *webtest.Env, accountID string, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	start := time.Now().Add(-time.Duration(n) * time.Minute)
	err := env.Store.InTx(ctx, func(tx billing.Tx) error {
		for i := range n {
			kind, level := "payment_failed", "error"
			if i%2 == 1 {
				kind, level = "auto_recharge", "info"
			}
			err := tx.InsertNotification(ctx, billing.Notification{AccountID: accountID, Kind: kind, Level: level,
				Message: fmt.Sprintf("Notice number %d", i), Link: "/billing", Key: fmt.Sprintf("test:%d", i),
				CreatedAt: start.Add(time.Duration(i) * time.Minute)})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := env.Store.NotificationsPage(ctx, accountID, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(ns))
	for i, x := range ns {
		ids[len(ns)-1-i] = x.ID
	}
	return ids
}

func bellLabel(p *webtest.Page) string {
	return p.Doc.Find(`[data-testid="bell"]`).AttrOr("aria-label", "")
}

// TestNotificationCentre: the bell names the unread count on every page; /notifications
// lists newest first, 20 a page with a link to older ones; "Mark as read" works as a plain
// form and through htmx (the row and the bell swap), another account's id is a 404, and
// "Mark all read" empties the count.
func TestNotificationCentre(t *testing.T) {
	env := webtest.Start(t)
	c, _, acc := limitsCustomer(t, env, "notes@example.com")
	eve, _, eveAcc := limitsCustomer(t, env, "notes-eve@example.com")

	if got := bellLabel(c.Get("/")); got != "Notifications, none unread" {
		t.Fatalf("bell before any notification: %q", got)
	}
	empty := c.Get("/notifications")
	if empty.Status != http.StatusOK || empty.Doc.Find(`[data-empty="notifications"]`).Length() != 1 {
		t.Fatalf("empty centre: %d", empty.Status)
	}
	ids := addNotifications(t, env, acc.ID, 25)
	eveIDs := addNotifications(t, env, eveAcc.ID, 1)

	for _, path := range []string{"/", "/usage", "/billing", "/limits"} {
		if got := bellLabel(c.Get(path)); got != "Notifications, 25 unread" {
			t.Errorf("bell on %s: %q", path, got)
		}
	}
	p := c.Get("/notifications")
	items := p.Doc.Find(`[data-testid="notification"]`)
	if items.Length() != 20 {
		t.Fatalf("first page: %d items", items.Length())
	}
	if first := items.First().Find(`[data-testid="notification-message"]`).Text(); first != "Notice number 24" {
		t.Errorf("newest first: %q", first)
	}
	if items.First().Find(`[data-testid="unread-mark"]`).Length() != 1 || items.First().Find(`a[href="/billing"]`).Length() != 1 ||
		items.First().Find(`time[datetime]`).Length() != 1 || !strings.Contains(items.First().Text(), "Error") {
		t.Error("an item lacks its unread mark, link, time or level")
	}
	older, ok := p.Doc.Find(`[data-testid="older"]`).Attr("href")
	if !ok {
		t.Fatal("no link to older notifications")
	}
	p2 := c.Get(older)
	if n := p2.Doc.Find(`[data-testid="notification"]`).Length(); n != 5 || p2.Doc.Find(`[data-testid="older"]`).Length() != 0 {
		t.Fatalf("second page: %d items", n)
	}
	if last := p2.Doc.Find(`[data-testid="notification-message"]`).Last().Text(); last != "Notice number 0" {
		t.Errorf("oldest last: %q", last)
	}

	if r := c.Submit("/notifications", "/notifications/"+strconv.FormatInt(ids[24], 10)+"/read", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("mark read (no JS): %d", r.Status)
	}
	p = c.Get("/notifications")
	if got := bellLabel(p); got != "Notifications, 24 unread" {
		t.Errorf("bell after one read: %q", got)
	}
	if p.Doc.Find(`#n-`+strconv.FormatInt(ids[24], 10)).AttrOr("data-read", "") != "true" {
		t.Error("the read notification is still unread in the list")
	}

	tok := p.Doc.Find(`input[name="_csrf"]`).First().AttrOr("value", "")
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/notifications/"+strconv.FormatInt(ids[23], 10)+"/read", strings.NewReader(url.Values{"_csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var frag strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		frag.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	body := frag.String()
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-read="true"`) || !strings.Contains(body, `hx-swap-oob="true"`) ||
		!strings.Contains(body, `aria-label="Notifications, 23 unread"`) || !strings.Contains(body, `aria-current="page"`) || strings.Contains(body, "<html") {
		t.Fatalf("htmx mark read: %d\n%s", resp.StatusCode, body)
	}

	if r := c.Submit("/notifications", "/notifications/"+strconv.FormatInt(eveIDs[0], 10)+"/read", url.Values{}); r.Status != http.StatusNotFound {
		t.Errorf("marking another account's notification: %d, want 404", r.Status)
	}
	if r := c.Submit("/notifications", "/notifications/abc/read", url.Values{}); r.Status != http.StatusNotFound {
		t.Errorf("a malformed id: %d, want 404", r.Status)
	}
	if got := bellLabel(eve.Get("/")); got != "Notifications, 1 unread" {
		t.Errorf("eve's bell after the refused mark: %q", got)
	}

	if r := c.Submit("/notifications", "/notifications/read-all", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("mark all read: %d", r.Status)
	}
	p = c.Get("/notifications")
	if got := bellLabel(p); got != "Notifications, none unread" || p.Doc.Find(`[data-testid="unread-mark"]`).Length() != 0 || p.Doc.Find(`[data-testid="mark-all-read"]`).Length() != 0 {
		t.Errorf("after mark all read: bell %q", got)
	}
	if p.Doc.Find(`[data-testid="bell"][aria-current="page"]`).Length() != 1 {
		t.Error("the bell does not mark the notification centre as the current page")
	}
}

// TestUnreadCountStopsAtTheCap: the count on every page reads at most UnreadCap rows and
// shows "99+".
func TestUnreadCountStopsAtTheCap(t *testing.T) {
	env := webtest.Start(t)
	c, _, acc := limitsCustomer(t, env, "notes-many@example.com")
	addNotifications(t, env, acc.ID, billing.UnreadCap+5)
	n, err := env.Svc.UnreadCount(context.Background(), acc.ID)
	if err != nil || n != billing.UnreadCap {
		t.Fatalf("unread %d %v, want the cap %d", n, err, billing.UnreadCap)
	}
	p := c.Get("/")
	if got := bellLabel(p); got != "Notifications, 99+ unread" || strings.TrimSpace(p.Doc.Find(`[data-testid="bell-count"]`).Text()) != "99+" {
		t.Errorf("bell at the cap: %q", got)
	}
}
