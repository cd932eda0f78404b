package billing

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CheckText is the one rule for text that comes from outside: valid UTF-8 and no control
// characters (C0, DEL, C1) except tab, newline and carriage return. PostgreSQL refuses NUL
// and invalid UTF-8 in text, and the other controls only hide what a value says. Errors:
// invalid_request naming field.
func CheckText(field, s string) error {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f {
			return checkTextSlow(field, s[i:])
		}
	}
	return nil
}

func checkTextSlow(field, s string) error {
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			if !utf8.ValidString(s) {
				return FieldError(field, "must be valid UTF-8 text")
			}
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r >= 0x7f && r < 0xa0:
			return FieldError(field, "must not contain NUL bytes or control characters")
		}
	}
	return nil
}

// singleLineProblem says what is wrong with a one-line value (a name, an email) that passed
// CheckText, or "": line breaks and tabs would let it forge lines of a mail or a log, and
// bidi overrides and isolates make it display as something else.
func singleLineProblem(s string) string {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029':
			return "Use a single line, without line breaks or tabs."
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return "Remove the invisible text-direction characters."
		}
	}
	return ""
}

// Bounds of the JSON a client may send.
const (
	MaxJSONDepth        = 32   // nesting of a whole request body
	MaxMetadataKeys     = 50   // top-level keys of a usage event's metadata
	MaxMetadataBytes    = 4096 // metadata, serialized compactly
	MaxMetadataDepth    = 3    // the metadata object itself is level 1
	maxTextCheckedNames = 64   // longest key quoted in a field path
)

// JSONDepth is how deeply raw nests objects and arrays (0 for a scalar); it counts brackets
// outside strings without decoding, so it can run before a decoder recurses.
func JSONDepth(raw []byte) int {
	depth, deepest, inStr, esc := 0, 0, false, false
	for _, b := range raw {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case b == '\\':
				esc = true
			case b == '"':
				inStr = false
			}
		case b == '"':
			inStr = true
		case b == '{' || b == '[':
			depth++
			deepest = max(deepest, depth)
		case b == '}' || b == ']':
			depth--
		}
	}
	return deepest
}

// CheckJSONText applies CheckText to every string and object key of a JSON document, at
// any depth, naming the field by its path (metadata.note, events[2].account). A malformed
// document passes: the caller's decoder reports syntax errors. The common clean body costs
// one scan: only bodies with a control escape or invalid UTF-8 are walked.
func CheckJSONText(raw []byte) error {
	if utf8.Valid(raw) && !suspectEscape(raw) && !rawControl(raw) {
		return nil // JSON strings cannot hold raw C0 controls; only escapes and DEL or C1 can
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	w := jsonWalker{dec: dec, raw: raw}
	err := w.value("")
	var be *Error
	if errors.As(err, &be) {
		return be
	}
	return nil
}

type jsonWalker struct {
	dec *json.Decoder
	raw []byte
}

func (w *jsonWalker) token() (json.Token, []byte, error) {
	start := w.dec.InputOffset()
	t, err := w.dec.Token()
	end := w.dec.InputOffset()
	if err != nil {
		return nil, nil, err
	}
	return t, w.raw[start:end], nil
}

// suspectEscape finds escapes that decode to a control (\b, \f, \u00xx) or may be a lone
// surrogate (\udxxx), which PostgreSQL's jsonb refuses. In valid JSON a backslash only
// starts an escape, so stepping over each escape's next byte keeps \\ from confusing it.
func suspectEscape(raw []byte) bool {
	for i := bytes.IndexByte(raw, '\\'); i >= 0 && i+1 < len(raw); {
		switch raw[i+1] {
		case 'b', 'f':
			return true
		case 'u':
			if i+2 < len(raw) && (raw[i+2] == '0' || raw[i+2] == 'd' || raw[i+2] == 'D') {
				return true
			}
		}
		next := bytes.IndexByte(raw[i+2:], '\\')
		if next < 0 {
			return false
		}
		i += 2 + next
	}
	return false
}

// rawControl finds the controls JSON lets a string carry unescaped: DEL (0x7f) and the C1
// range U+0080..U+009F (0xc2 0x80..0x9f in UTF-8).
func rawControl(raw []byte) bool {
	if bytes.IndexByte(raw, 0x7f) >= 0 {
		return true
	}
	for i := bytes.IndexByte(raw, 0xc2); i >= 0 && i+1 < len(raw); {
		if raw[i+1] >= 0x80 && raw[i+1] <= 0x9f {
			return true
		}
		next := bytes.IndexByte(raw[i+1:], 0xc2)
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

// checkToken refuses a string token. The decoder replaces invalid UTF-8 and lone surrogates
// with U+FFFD, so the raw bytes are checked too.
func checkToken(field, s string, raw []byte) error {
	if !utf8.Valid(raw) {
		return FieldError(field, "must be valid UTF-8 text")
	}
	if n := strings.Count(s, "\uFFFD"); n > 0 && n > bytes.Count(raw, []byte("\uFFFD"))+countFold(raw, `\ufffd`) {
		return FieldError(field, "must be valid Unicode text (a lone surrogate escape)")
	}
	return CheckText(field, s)
}

func countFold(raw []byte, esc string) int {
	return bytes.Count(bytes.ToLower(raw), []byte(esc))
}

func (w *jsonWalker) value(path string) error {
	t, raw, err := w.token()
	if err != nil {
		return err
	}
	return w.after(path, t, raw)
}

func (w *jsonWalker) after(path string, t json.Token, raw []byte) error {
	field := path
	if field == "" {
		field = "body"
	}
	switch v := t.(type) {
	case string:
		return checkToken(field, v, raw)
	case json.Delim:
		switch v {
		case '{':
			for w.dec.More() {
				kt, kraw, err := w.token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				if err := checkToken(field, key, kraw); err != nil {
					return FieldError(field, "keys must be valid UTF-8 text without NUL bytes or control characters")
				}
				if err := w.value(join(path, key)); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; w.dec.More(); i++ {
				if err := w.value(path + "[" + strconv.Itoa(i) + "]"); err != nil {
					return err
				}
			}
		}
		if _, _, err := w.token(); err != nil && err != io.EOF { // the closing delimiter
			return err
		}
	}
	return nil
}

func join(path, key string) string {
	if len(key) > maxTextCheckedNames {
		key = key[:maxTextCheckedNames] + "…"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// CheckMetadata bounds a usage event's metadata: a JSON object (or null) of at most
// MaxMetadataKeys keys, MaxMetadataBytes compact bytes and MaxMetadataDepth levels.
// Errors: invalid_request naming metadata.
func CheckMetadata(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] != '{' {
		return FieldError("metadata", "must be a JSON object")
	}
	if d := JSONDepth(raw); d > MaxMetadataDepth {
		return FieldError("metadata", "nests %d levels; at most %d", d, MaxMetadataDepth)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return FieldError("metadata", "must be a JSON object")
	}
	if compact.Len() > MaxMetadataBytes {
		return FieldError("metadata", "is %d bytes; at most %d", compact.Len(), MaxMetadataBytes)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return FieldError("metadata", "must be a JSON object")
	}
	if len(keys) > MaxMetadataKeys {
		return FieldError("metadata", "has %d keys; at most %d", len(keys), MaxMetadataKeys)
	}
	return nil
}
