package store

// Internal helpers under test from package store_test (which may import pgtest).
var (
	TextArray  = textArray
	Int64Array = int64Array
	BoolArray  = boolArray
)

// The per-member sums read under an account's lock (their plans are checked).
const (
	MemberUsageSinceSQL = memberUsageSinceSQL
	MemberSelectSQL     = memberSelect
	MemberSpendsSQL     = memberSpendsSQL
)

// An account's copy of its debit-path rules (rulecopy.go).
var (
	EncodeRuleCopy = encodeRuleCopy
	ParseRuleCopy  = parseRuleCopy
	RuleCopyCodes  = ruleCopyCodes
)
