package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"time"

	"creditline/billing"
	"creditline/static"
	"creditline/views"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

const sessionName = "creditline"

// Session keys. An anonymous cookie carries only the CSRF token; a signed-in one adds the
// session id (whose row in PostgreSQL decides whether it is alive) and the user id.
const (
	keySID  = "sid"
	keyUID  = "uid"
	keyCSRF = "csrf"
	keyAcc  = "acc"
)

// Sessions keeps the cookie signed and encrypted; whether a signed-in session is still alive
// is decided by the sessions table (billing.SessionUser), so logout is final.
type Sessions struct {
	store *sessions.CookieStore
}

// NewSessions derives the signing and encryption keys from one secret.
func NewSessions(secret []byte, secure bool) *Sessions {
	hashKey := sha256.Sum256(append([]byte("creditline-session-hash:"), secret...))
	blockKey := sha256.Sum256(append([]byte("creditline-session-block:"), secret...))
	cs := sessions.NewCookieStore(hashKey[:], blockKey[:])
	cs.Options = &sessions.Options{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	cs.MaxAge(int(billing.SessionLifetime / time.Second)) // the cookie outlives no session
	return &Sessions{store: cs}
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (h *Handlers) session(c echo.Context) *sessions.Session {
	if s, ok := c.Get("session").(*sessions.Session); ok {
		return s
	}
	s, _ := h.sess.store.Get(c.Request(), sessionName) // a bad cookie yields a fresh session
	c.Set("session", s)
	return s
}

func (h *Handlers) saveSession(c echo.Context) error {
	return h.session(c).Save(c.Request(), c.Response())
}

// LoadSession reads the session cookie, makes sure it carries a CSRF token, loads the signed-in
// user of a live session (one indexed lookup), and hands the layout its per-request facts.
func (h *Handlers) LoadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s := h.session(c)
		if _, ok := s.Values[keyCSRF].(string); !ok {
			s.Values[keyCSRF] = randomToken()
			if err := h.saveSession(c); err != nil {
				return err
			}
		}
		if sid, _ := s.Values[keySID].(string); sid != "" {
			u, err := h.svc.SessionUser(c.Request().Context(), sid)
			switch {
			case err == nil && u.ID == s.Values[keyUID]:
				c.Set("user", &u)
			case err == nil || billing.ErrorCode(err) == billing.EUnauthenticated:
				// Revoked, expired or the user is gone: the browser is anonymous from now on.
				clear(s.Values)
				s.Values[keyCSRF] = randomToken()
				if err := h.saveSession(c); err != nil {
					return err
				}
			default:
				return err
			}
		}
		req := &views.Request{
			CSRF:      s.Values[keyCSRF].(string),
			Path:      c.Request().URL.Path,
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
			Asset:     static.URL,
			TestMode:  h.testMode,
		}
		req.User = currentUser(c)
		c.SetRequest(c.Request().WithContext(views.WithRequest(c.Request().Context(), req)))
		return next(c)
	}
}

// CSRF refuses a state-changing request whose token (form field _csrf or header
// X-CSRF-Token) does not match the session's.
func (h *Handlers) CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want, _ := h.session(c).Values[keyCSRF].(string)
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			return &billing.Error{Code: billing.EForbidden, Message: "This form has expired or did not come from this site. Reload the page and try again."}
		}
		return next(c)
	}
}

// currentUser is the signed-in user, or nil.
func currentUser(c echo.Context) *billing.User {
	u, _ := c.Get("user").(*billing.User)
	return u
}

// RequireUser sends anonymous visitors to /login, remembering where they were going.
func (h *Handlers) RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) == nil {
			return redirectToLogin(c)
		}
		return next(c)
	}
}

// RequireAdmin lets platform admins through, sends anonymous visitors to /login and refuses
// everyone else with a 404 so the console's existence is not advertised.
func (h *Handlers) RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		if u == nil {
			return redirectToLogin(c)
		}
		if !u.IsAdmin {
			return &billing.Error{Code: billing.ENotFound, Message: "Page not found."}
		}
		return next(c)
	}
}

func redirectToLogin(c echo.Context) error {
	target := "/login"
	if p := c.Request().URL.RequestURI(); p != "/" {
		target += "?next=" + url.QueryEscape(p)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// client is what a new session records about the browser.
func client(c echo.Context) billing.Client {
	return billing.Client{IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// startSession signs a user in: a new server-side session (any previous one of this browser
// ends), then the cookie is rotated (new id, new CSRF token).
func (h *Handlers) startSession(c echo.Context, userID string) error {
	ctx := c.Request().Context()
	if old, _ := h.session(c).Values[keySID].(string); old != "" {
		if err := h.svc.EndSession(ctx, old); err != nil {
			return err
		}
	}
	sid, err := h.svc.StartSession(ctx, userID, client(c))
	if err != nil {
		return err
	}
	return h.useSession(c, userID, sid)
}

// useSession points the cookie at a session the service started, with a new CSRF token.
func (h *Handlers) useSession(c echo.Context, userID, sid string) error {
	s := h.session(c)
	clear(s.Values)
	s.Values[keySID] = sid
	s.Values[keyCSRF] = randomToken()
	s.Values[keyUID] = userID
	return h.saveSession(c)
}

// endSession revokes the server-side session for good and clears the cookie.
func (h *Handlers) endSession(c echo.Context) error {
	s := h.session(c)
	if sid, _ := s.Values[keySID].(string); sid != "" {
		if err := h.svc.EndSession(c.Request().Context(), sid); err != nil {
			return err
		}
	}
	clear(s.Values)
	s.Options.MaxAge = -1
	return h.saveSession(c)
}
