package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// apiLimiters holds one fixed-window limiter per distinct per-minute limit.
type apiLimiters struct {
	mu sync.Mutex
	m  map[int]*billing.Limiter
	// failures throttles failed key attempts per client IP.
	failures keyFailures
}

func (l *apiLimiters) get(perMin int) *billing.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[int]*billing.Limiter{}
	}
	if lim := l.m[perMin]; lim != nil {
		return lim
	}
	lim := billing.NewLimiter(perMin, time.Minute, nil)
	l.m[perMin] = lim
	return lim
}

// APIAuth authenticates the bearer key of every /api/v1 request (except the OpenAPI document).
func (h *Handlers) APIAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		fails := &h.apiLimits.failures
		if wait := fails.blocked(clientKey(c)); wait > 0 {
			return keyThrottled(c, wait)
		}
		auth := c.Request().Header.Get("Authorization")
		raw, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || strings.TrimSpace(raw) == "" {
			return billing.Errorf(billing.EUnauthenticated, "Missing API key: send Authorization: Bearer <key>.")
		}
		k, err := h.svc.AuthenticateKey(c.Request().Context(), strings.TrimSpace(raw))
		if err != nil {
			if billing.ErrorCode(err) == billing.EUnauthenticated {
				fails.fail(clientKey(c))
			}
			return err
		}
		c.Set("apikey", &k)
		return next(c)
	}
}

func apiKey(c echo.Context) *billing.APIKey { k, _ := c.Get("apikey").(*billing.APIKey); return k }

// requirePlatform refuses account keys on platform-only endpoints.
func requirePlatform(c echo.Context) error {
	if apiKey(c).Kind != billing.KeyPlatform {
		return billing.Errorf(billing.EForbidden, "This endpoint needs a platform key (sk_...); account keys cannot use it.")
	}
	return nil
}

// account resolves an id or external:<id> and applies the key's scope and rate limit:
// an account key naming another account gets not_found.
func (h *Handlers) account(c echo.Context, ref string) (billing.Account, error) {
	if strings.TrimSpace(ref) == "" {
		return billing.Account{}, billing.FieldError("account", "Required: an account id (acc_...) or external:<your id>.")
	}
	a, err := h.svc.AccountSnapshot(c.Request().Context(), ref)
	if err != nil {
		return billing.Account{}, err
	}
	k := apiKey(c)
	if k.Kind == billing.KeyAccount && (k.AccountID == nil || *k.AccountID != a.ID) {
		return billing.Account{}, billing.Errorf(billing.ENotFound, "No account %s.", ref)
	}
	// A batch request counts once per account it names, not once per event.
	if seen, ok := c.Get(seenAccountsKey).(map[string]error); ok {
		if err, done := seen[a.ID]; done {
			return a, err
		}
		err := h.rateLimit(c, k, a)
		seen[a.ID] = err
		return a, err
	}
	return a, h.rateLimit(c, k, a)
}

const seenAccountsKey = "accounts-seen"

// rateLimit counts one request of this key on this account against the plan's per-minute limit.
func (h *Handlers) rateLimit(c echo.Context, k *billing.APIKey, a billing.Account) error {
	ent, err := h.svc.Entitlements(c.Request().Context(), a)
	if err != nil {
		return err
	}
	ok, wait := h.apiLimits.get(ent.RateLimitPerMin).Allow(k.ID + "|" + a.ID)
	if ok {
		return nil
	}
	secs := int(wait.Seconds() + 0.999)
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return &billing.Error{Code: billing.ERateLimited,
		Message: fmt.Sprintf("Rate limit of %d requests per minute reached for this key and account; retry in %d s.", ent.RateLimitPerMin, max(secs, 1)),
		Details: map[string]any{"limit_per_min": ent.RateLimitPerMin, "retry_after": max(secs, 1)}}
}

// decode reads a JSON body strictly: unknown fields, wrong types and trailing data are
// invalid_request naming the field. It returns the canonical hash of the body.
func decode(c echo.Context, v any) (string, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return "", bodyError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "", billing.Errorf(billing.EInvalid, "The request body is empty; send a JSON object.")
	}
	if d := billing.JSONDepth(body); d > billing.MaxJSONDepth {
		return "", billing.Errorf(billing.EInvalid, "The JSON body nests %d levels; at most %d.", d, billing.MaxJSONDepth)
	}
	if err := billing.CheckJSONText(body); err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return "", jsonError(err)
	}
	if dec.More() {
		return "", billing.Errorf(billing.EInvalid, "The request body has data after the JSON object.")
	}
	canon, _ := json.Marshal(v)
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:16]), nil
}

// bodyError explains a failed body read: too large (the limit set by the server), or cut short.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return BodyTooLarge(mbe.Limit)
	}
	return billing.Errorf(billing.EInvalid, "Could not read the request body.")
}

// BodyTooLarge is the invalid_request of a body over its route's limit.
func BodyTooLarge(limit int64) *billing.Error {
	size := fmt.Sprintf("%d KiB", limit>>10)
	if limit >= 1<<20 {
		size = fmt.Sprintf("%d MiB", limit>>20)
	}
	return &billing.Error{Code: billing.EInvalid, Message: "The request body is larger than " + size + ".",
		Details: map[string]any{"limit_bytes": limit}}
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return billing.Errorf(billing.EInvalid, "Malformed JSON at byte %d: %v.", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return billing.FieldError(field, "must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return billing.FieldError(f, "is not a field of this request")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return billing.Errorf(billing.EInvalid, "Malformed JSON: the body ends early.")
	}
	var be *billing.Error
	if errors.As(err, &be) {
		return be
	}
	// Credits and quantities report their own problems.
	msg := err.Error()
	if i := strings.Index(msg, "json: cannot unmarshal"); i >= 0 {
		return billing.Errorf(billing.EInvalid, "%s", msg[i:])
	}
	return billing.Errorf(billing.EInvalid, "Invalid JSON: %s.", msg)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	}
	return "a number"
}

// created answers 201, or 200 with Idempotent-Replayed: true for a replay.
func created(c echo.Context, replayed bool, body any) error {
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.JSON(http.StatusOK, body)
	}
	return c.JSON(http.StatusCreated, body)
}

// list is the paginated envelope.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func pageLimit(c echo.Context) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 500 {
		return 0, billing.FieldError("limit", "must be a whole number from 1 to 500")
	}
	return n, nil
}

func timeStr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}
