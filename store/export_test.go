package store

// Internal helpers under test from package store_test (which may import pgtest).
var (
	TextArray  = textArray
	Int64Array = int64Array
	BoolArray  = boolArray
)
