package anr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ClipMeta describes a clip handed to Add. It is validated: Channel >= 0, at least
// one and at most maxEventTypes event types made of [A-Za-z0-9-] (ISAPI eventType
// strings), Start set, End not before Start.
type ClipMeta struct {
	Channel    int
	EventTypes []string
	Start      time.Time
	End        time.Time
}

const (
	maxEventTypes  = 8
	maxEventLen    = 32
	clipExt        = ".mp4"
	tmpExt         = ".mp4.tmp"
	fieldSeparator = "_"
	eventSeparator = "+"
)

func (m ClipMeta) normalize() (ClipMeta, error) {
	if m.Channel < 0 {
		return m, fmt.Errorf("%w: channel %d", ErrInvalidMeta, m.Channel)
	}
	if len(m.EventTypes) == 0 || len(m.EventTypes) > maxEventTypes {
		return m, fmt.Errorf("%w: %d event types (want 1..%d)", ErrInvalidMeta, len(m.EventTypes), maxEventTypes)
	}
	for _, e := range m.EventTypes {
		if !validEventType(e) {
			return m, fmt.Errorf("%w: event type %q", ErrInvalidMeta, e)
		}
	}
	if m.Start.IsZero() {
		return m, fmt.Errorf("%w: zero start", ErrInvalidMeta)
	}
	if m.End.Before(m.Start) {
		return m, fmt.Errorf("%w: end %s before start %s", ErrInvalidMeta, m.End, m.Start)
	}
	// UTC and no monotonic reading: the record must round-trip through the file name
	// and JSON and compare equal.
	m.Start = time.Unix(0, m.Start.UnixNano()).UTC()
	m.End = time.Unix(0, m.End.UnixNano()).UTC()
	m.EventTypes = append([]string(nil), m.EventTypes...)
	return m, nil
}

func validEventType(e string) bool {
	if e == "" || len(e) > maxEventLen {
		return false
	}
	for _, r := range e {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

// clipFileName puts the metadata needed to rebuild the index into the file name:
//
//	<id>_c<channel>_<event>+<event>_<start unix ns>_<end unix ns>.mp4
//
// so that the one rename that publishes the data also publishes its metadata,
// atomically, without a sidecar file and its extra fsync. The checksum is not in
// the name: recovery recomputes it from the data.
func clipFileName(id string, m ClipMeta) string {
	return strings.Join([]string{
		id,
		"c" + strconv.Itoa(m.Channel),
		strings.Join(m.EventTypes, eventSeparator),
		strconv.FormatInt(m.Start.UnixNano(), 10),
		strconv.FormatInt(m.End.UnixNano(), 10),
	}, fieldSeparator) + clipExt
}

// parseClipFileName is the inverse of clipFileName.
func parseClipFileName(name string) (string, ClipMeta, error) {
	base, ok := strings.CutSuffix(name, clipExt)
	if !ok {
		return "", ClipMeta{}, fmt.Errorf("%w: %q: not a clip file", ErrInvalidMeta, name)
	}
	f := strings.Split(base, fieldSeparator)
	if len(f) != 5 || !validID(f[0]) || !strings.HasPrefix(f[1], "c") {
		return "", ClipMeta{}, fmt.Errorf("%w: %q: malformed clip file name", ErrInvalidMeta, name)
	}
	ch, err1 := strconv.Atoi(f[1][1:])
	start, err2 := strconv.ParseInt(f[3], 10, 64)
	end, err3 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", ClipMeta{}, fmt.Errorf("%w: %q: malformed clip file name", ErrInvalidMeta, name)
	}
	m, err := ClipMeta{
		Channel:    ch,
		EventTypes: strings.Split(f[2], eventSeparator),
		Start:      time.Unix(0, start),
		End:        time.Unix(0, end),
	}.normalize()
	if err != nil {
		return "", ClipMeta{}, fmt.Errorf("clip file %q: %w", name, err)
	}
	return f[0], m, nil
}
