package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// APIAuth authenticates the bearer key of every /api/v1 request (except the OpenAPI document).
func (h *Handlers) APIAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		fails := &h.keyFails
		if wait := fails.blocked(clientKey(c)); wait > 0 {
			return keyThrottled(wait)
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

// account authorises the request's key on an id or external:<id> (billing.AuthorizeAccount).
func (h *Handlers) account(c echo.Context, ref string) (billing.Account, error) {
	return h.svc.AuthorizeAccount(c.Request().Context(), *apiKey(c), ref)
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

// idCursor reads the ?cursor= of a list keyed by a numeric id (0 when absent): what
// nextIDCursor wrote. Errors: invalid_request on field cursor.
func idCursor(c echo.Context) (int64, error) {
	cur := c.QueryParam("cursor")
	if cur == "" {
		return 0, nil
	}
	b, derr := base64.RawURLEncoding.DecodeString(cur)
	id, err := strconv.ParseInt(string(b), 10, 64)
	if derr != nil || err != nil || id <= 0 {
		return 0, billing.FieldError("cursor", "is not a cursor this endpoint returned")
	}
	return id, nil
}

// nextIDCursor is the cursor of the page after the entry with this id.
func nextIDCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
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
