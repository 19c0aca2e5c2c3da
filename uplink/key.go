package uplink

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/proconnect-oss/boxfw/anr"
)

// keyTimeLayout is the clip start in the object name: compact, sortable, UTC.
const keyTimeLayout = "20060102T150405Z"

// ObjectKey returns the clip's object key (see the package doc for the format).
func ObjectKey(prefix, serial string, c anr.Clip) (string, error) {
	if c.ID == "" || c.Start.IsZero() || c.Channel < 0 {
		return "", fmt.Errorf("%w: clip %q needs an id, a start and a channel >= 0", ErrInvalidClip, c.ID)
	}
	s := safeSegment(serial)
	if s == "" {
		return "", fmt.Errorf("%w: empty box serial", ErrInvalidOptions)
	}
	start := c.Start.UTC()
	var b strings.Builder
	if p := strings.Trim(prefix, "/"); p != "" {
		b.WriteString(p)
		b.WriteByte('/')
	}
	fmt.Fprintf(&b, "%s/ch%02d/%s/%s_%s_%s.mp4", s, c.Channel, start.Format("2006/01/02"),
		start.Format(keyTimeLayout), EventSegment(c.EventTypes), safeSegment(c.ID))
	return b.String(), nil
}

// boxPrefix is where all of this box's objects live ("<prefix>/<serial>/").
func boxPrefix(prefix, serial string) string {
	if p := strings.Trim(prefix, "/"); p != "" {
		return p + "/" + safeSegment(serial) + "/"
	}
	return safeSegment(serial) + "/"
}

// EventSegment formats event types for a key: lowercased, reduced to [a-z0-9],
// de-duplicated, sorted, joined by '-'; "event" when nothing is left.
func EventSegment(types []string) string {
	out := make([]string, 0, len(types))
	for _, t := range types {
		var b strings.Builder
		for _, r := range strings.ToLower(t) {
			if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
			}
		}
		if b.Len() > 0 {
			out = append(out, b.String())
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return "event"
	}
	return strings.Join(out, "-")
}

// safeSegment keeps a path segment free of separators and characters that need
// escaping in URLs or shells: anything outside [A-Za-z0-9._-] becomes '_', and a
// segment of dots only becomes underscores.
func safeSegment(s string) string {
	if s != "" && strings.Trim(s, ".") == "" {
		// "." and ".." mean something to every path-minded tool that lists the bucket.
		return strings.Repeat("_", len(s))
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// ConflictKey is where a clip goes when its key holds different content:
// "<key without .mp4>.<first 12 hex of sha256>.mp4".
func ConflictKey(key, sha256Hex string) string {
	short := sha256Hex
	if len(short) > 12 {
		short = short[:12]
	}
	return strings.TrimSuffix(key, ".mp4") + "." + short + ".mp4"
}

// metadata is the user metadata stored with every clip object.
func metadata(c anr.Clip) map[string]string {
	types := make([]string, len(c.EventTypes))
	copy(types, c.EventTypes)
	slices.Sort(types)
	return map[string]string{
		"sha256":      strings.ToLower(c.SHA256),
		"clip-id":     c.ID,
		"channel":     fmt.Sprint(c.Channel),
		"event-types": strings.Join(types, ","),
		"start":       c.Start.UTC().Format(time.RFC3339),
		"end":         c.End.UTC().Format(time.RFC3339),
	}
}

// checkSHA256 validates the spool's hex digest and returns its raw bytes.
func checkSHA256(c anr.Clip) ([]byte, error) {
	raw, err := hex.DecodeString(c.SHA256)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("%w: clip %s: sha256 %q is not 64 hex digits", ErrInvalidClip, c.ID, c.SHA256)
	}
	return raw, nil
}
