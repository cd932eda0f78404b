package value

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

const IDAlphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford's base32, lower case, in ASCII order

// NewID returns prefix_ followed by 20 characters, e.g. deb_01kb2m7q3x...: 10 encode the
// milliseconds since the Unix epoch (50 bits, good until the year 37,000), 10 are random
// (50 bits). Because the alphabet is in ASCII order, ids sort by creation time: new rows land
// at the right edge of their primary-key index, where PostgreSQL appends without descending
// the tree, instead of on a random leaf page.
func NewID(prefix string) string {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return newID(prefix, time.Now(), binary.BigEndian.Uint64(r[:]))
}

func newID(prefix string, at time.Time, random uint64) string {
	b := make([]byte, 0, len(prefix)+21)
	b = append(b, prefix...)
	b = append(b, '_')
	ms := uint64(at.UnixMilli())
	for i := 9; i >= 0; i-- {
		b = append(b, IDAlphabet[(ms>>(5*uint(i)))&31])
	}
	for i := 9; i >= 0; i-- {
		b = append(b, IDAlphabet[(random>>(5*uint(i)))&31])
	}
	return string(b)
}
