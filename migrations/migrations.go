// Package migrations holds the schema as embedded, ordered, append-only SQL files.
// Never edit a file that has landed: add a new one.
package migrations

import "embed"

// FS holds NNNN_name.sql files, applied in order of NNNN, each in its own transaction.
//
//go:embed *.sql
var FS embed.FS
