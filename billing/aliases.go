package billing

// The value types (billing/value) and the pricing engine (billing/pricing) are packages of
// their own, so that pricing stands alone with its tests and neither can reach back into the
// Service (layers_test.go checks the arrows). The names below keep the rest of the code base,
// which imports only billing, unchanged: type aliases are the same types, not copies.

import (
	"time"

	"creditline/billing/pricing"
	"creditline/billing/value"
)

// From billing/value: amounts, ids and the one error type.
type (
	Credits    = value.Credits
	BigCredits = value.BigCredits
	Quantity   = value.Quantity
	Multiplier = value.Multiplier
	Error      = value.Error
	Validation = value.Validation
)

const (
	Milli         = value.Milli
	Credit        = value.Credit
	MultiplierOne = value.MultiplierOne
	MaxCredits    = value.MaxCredits
	MaxBalance    = value.MaxBalance
	MaxQuantity   = value.MaxQuantity
	MaxMoney      = value.MaxMoney

	EInvalid             = value.EInvalid
	EUnauthenticated     = value.EUnauthenticated
	EForbidden           = value.EForbidden
	EInsufficient        = value.EInsufficient
	ESpendLimit          = value.ESpendLimit
	EAccountPaused       = value.EAccountPaused
	EAccountSuspended    = value.EAccountSuspended
	ENotEntitled         = value.ENotEntitled
	ENotFound            = value.ENotFound
	EConflict            = value.EConflict
	EIdempotencyConflict = value.EIdempotencyConflict
	EUnknownAction       = value.EUnknownAction
	ERateLimited         = value.ERateLimited
	EInternal            = value.EInternal
)

// EVerificationRequired: see value.EVerificationRequired.
const EVerificationRequired = value.EVerificationRequired

// ErrStale is value.ErrStale itself, so errors.Is matches either name.
var ErrStale = value.ErrStale

func ParseCredits(s string) (Credits, error)         { return value.ParseCredits(s) }
func MustCredits(s string) Credits                   { return value.MustCredits(s) }
func BigOf(c Credits) BigCredits                     { return value.BigOf(c) }
func Count(n int64) Quantity                         { return value.Count(n) }
func ParseQuantity(s string) (Quantity, error)       { return value.ParseQuantity(s) }
func MustQuantity(s string) Quantity                 { return value.MustQuantity(s) }
func ParseMultiplier(s string) (Multiplier, error)   { return value.ParseMultiplier(s) }
func MustMultiplier(s string) Multiplier             { return value.MustMultiplier(s) }
func NewID(prefix string) string                     { return value.NewID(prefix) }
func Errorf(code, format string, args ...any) *Error { return value.Errorf(code, format, args...) }
func ErrorCode(err error) string                     { return value.ErrorCode(err) }
func ErrorMessage(err error) string                  { return value.ErrorMessage(err) }

func FieldError(field, format string, args ...any) *Error {
	return value.FieldError(field, format, args...)
}

func CheckCreditInput(field string, c Credits, positive bool) error {
	return value.CheckCreditInput(field, c, positive)
}

// Helpers billing's own rules share with the value types, under their old names.
const idAlphabet = value.IDAlphabet

func allDigits(s string) bool                                  { return value.AllDigits(s) }
func creditsProblem(c, min Credits) string                     { return value.CreditsProblem(c, min) }
func checkCredits(v *Validation, field string, c, min Credits) { value.CheckCredits(v, field, c, min) }
func addTotal(total, x Credits) Credits                        { return value.AddTotal(total, x) }

// From billing/pricing: the price book, the live book, quotes and the catalog.
type (
	PriceBook      = pricing.Book
	BookData       = pricing.BookData
	BookStatus     = pricing.BookStatus
	Action         = pricing.Action
	Rate           = pricing.Rate
	Component      = pricing.Component
	Tier           = pricing.Tier
	Schedule       = pricing.Schedule
	Window         = pricing.Window
	Change         = pricing.Change
	LiveBook       = pricing.LiveBook
	PriceRequest   = pricing.Request
	Quote          = pricing.Quote
	Breakdown      = pricing.Breakdown
	ComponentLine  = pricing.ComponentLine
	MultiplierLine = pricing.MultiplierLine
	CatalogAction  = pricing.CatalogAction
	CatalogRate    = pricing.CatalogRate
)

const (
	BookDraft     = pricing.BookDraft
	BookPublished = pricing.BookPublished
)

func NewPriceBook(d BookData) (*PriceBook, error)            { return pricing.NewBook(d) }
func NewDraftFrom(live *PriceBook, now time.Time) *PriceBook { return pricing.NewDraftFrom(live, now) }
func Diff(live, draft *PriceBook) []Change                   { return pricing.Diff(live, draft) }
func SeedPriceBook() *PriceBook                              { return pricing.SeedBook() }
func KnownQuantities() []string                              { return pricing.KnownQuantities() }
func KnownAttributes() []string                              { return pricing.KnownAttributes() }
func QuantityIsMeasured(name string) bool                    { return pricing.QuantityIsMeasured(name) }
