package anr

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// idTimeLayout sorts lexically in time order and uses only [0-9TZ], so IDs are safe
// in file names, S3 keys and URLs without escaping.
const (
	idTimeLayout = "20060102T150405"
	idRandBytes  = 6
	idLen        = len(idTimeLayout) + 6 + 1 + 1 + 2*idRandBytes // + micros + Z + '-' + hex
)

// newID returns "<UTC time to the microsecond>Z-<48 random bits in hex>", e.g.
// 20261127T092304123456Z-3f9a1c0b2d4e: sortable by creation time, and unique across
// restarts and clock steps without any persisted sequence.
func newID(t time.Time) string {
	var b [idRandBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it aborts the program)
	t = t.UTC()
	return fmt.Sprintf("%s%06dZ-%s", t.Format(idTimeLayout), t.Nanosecond()/1000, hex.EncodeToString(b[:]))
}

func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i, r := range id {
		var ok bool
		switch {
		case i == 8:
			ok = r == 'T'
		case i == 21:
			ok = r == 'Z'
		case i == 22:
			ok = r == '-'
		case i > 22:
			ok = r >= '0' && r <= '9' || r >= 'a' && r <= 'f'
		default:
			ok = r >= '0' && r <= '9'
		}
		if !ok {
			return false
		}
	}
	return true
}
