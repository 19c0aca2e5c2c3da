package isapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one EventNotificationAlert as the box sees it. Strings are kept as
// sent; numbers a device left out or empty are zero with their Has* flag false.
type Event struct {
	IPAddress   string
	IPv6Address string
	PortNo      int
	Protocol    string // <protocol>, or <protocolType> on other firmware
	MACAddress  string

	// ChannelID and DynChannelID are the raw numbers; either may be missing.
	ChannelID       int
	HasChannelID    bool
	DynChannelID    int
	HasDynChannelID bool
	// Channel is the resolved channel, 0 for the device itself; see ResolveChannel.
	Channel int

	// DateTimeRaw is the device's time string, untouched: device clocks and their
	// offset formats are not trusted. DateTime is a best-effort parse (zero if it
	// failed); DateTimeHasZone says whether the string carried an offset.
	DateTimeRaw     string
	DateTime        time.Time
	DateTimeHasZone bool

	ActivePostCount  int
	EventType        string // as sent; compare with EventTypeIs
	EventState       string // "active" or "inactive" (as sent)
	EventDescription string
	ChannelName      string
	TargetType       string
	Regions          []Region
	SerialNumber     string // <Extensions><serialNumber>
	Namespace        string // the root element's namespace, informational

	// Received is the box's clock when the part arrived.
	Received time.Time
}

// Region is one DetectionRegionEntry of a smart event.
type Region struct {
	ID          int `json:"id"`
	Sensitivity int `json:"sensitivity"`
	// Points are in the device's 0..1000 coordinate space; a line-crossing rule
	// has two.
	Points []Point `json:"points"`
	// Target is the detected object's box, if the firmware sent one. Its scale
	// varies by firmware: see Rect.Normalized.
	Target *Rect `json:"target,omitempty"`
}

// Point is a coordinate in 0..1000 space.
type Point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// Rect is a TargetRect as sent: 0..1 floats on some firmware, 0..1000 on others.
type Rect struct {
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Normalized returns the rectangle in 0..1000 space. A rectangle whose values
// all lie within 0..1 is taken as fractional; in 0..1000 space such a box would
// be a single unit wide, which no detector reports.
func (r Rect) Normalized() Rect {
	if r.X <= 1 && r.Y <= 1 && r.Width <= 1 && r.Height <= 1 {
		return Rect{r.X * 1000, r.Y * 1000, r.Width * 1000, r.Height * 1000}
	}
	return r
}

// ParseOptions tune how alerts are read. The zero value is the default.
type ParseOptions struct {
	// IPChannelOffset handles NVRs that number IP channel N as Offset+N in
	// <channelID> (32 on many hybrid DVRs/NVRs). 0, the default, disables the
	// mapping because on a 64-channel NVR channels above 32 are real channels.
	IPChannelOffset int
}

// ResolveChannel is the channel rule:
//  1. take <dynChannelID> when present (NVRs that send both use it for the IP
//     channel number while <channelID> may hold an internal index), else
//     <channelID>, else 0 (the device itself; an empty element counts as absent);
//  2. if IPChannelOffset is set and the number exceeds it, subtract it (the
//     32+N convention, whichever element carries it).
func (o ParseOptions) ResolveChannel(e Event) int {
	ch := 0
	switch {
	case e.HasDynChannelID:
		ch = e.DynChannelID
	case e.HasChannelID:
		ch = e.ChannelID
	}
	if o.IPChannelOffset > 0 && ch > o.IPChannelOffset {
		ch -= o.IPChannelOffset
	}
	return ch
}

// ParseAlert parses one EventNotificationAlert body, ignoring namespaces and
// tolerating a bare '&'. received is stored as Event.Received.
func ParseAlert(body []byte, received time.Time, opts ParseOptions) (Event, error) {
	root, err := parseXML(body)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrNotAlert, err)
	}
	if !strings.EqualFold(root.Name, "EventNotificationAlert") {
		return Event{}, fmt.Errorf("%w: root element <%s>", ErrNotAlert, root.Name)
	}
	e := Event{
		IPAddress:        root.text("ipAddress"),
		IPv6Address:      root.text("ipv6Address"),
		Protocol:         firstNonEmpty(root.text("protocol"), root.text("protocolType")),
		MACAddress:       root.text("macAddress"),
		DateTimeRaw:      root.text("dateTime"),
		EventType:        root.text("eventType"),
		EventState:       root.text("eventState"),
		EventDescription: root.text("eventDescription"),
		ChannelName:      root.text("channelName"),
		TargetType:       firstNonEmpty(root.text("targetType"), root.text("DetectionRegionList", "DetectionRegionEntry", "targetType")),
		SerialNumber:     root.text("Extensions", "serialNumber"),
		Namespace:        root.Space,
		Received:         received,
	}
	if e.EventType == "" {
		return Event{}, fmt.Errorf("%w: no <eventType>", ErrNotAlert)
	}
	e.PortNo, _ = root.int("portNo")
	e.ChannelID, e.HasChannelID = root.int("channelID")
	e.DynChannelID, e.HasDynChannelID = root.int("dynChannelID")
	e.ActivePostCount, _ = root.int("activePostCount")
	e.Channel = opts.ResolveChannel(e)
	e.DateTime, e.DateTimeHasZone, _ = ParseDeviceTime(e.DateTimeRaw)
	for _, entry := range root.path("DetectionRegionList").children("DetectionRegionEntry") {
		e.Regions = append(e.Regions, parseRegion(entry))
	}
	return e, nil
}

func parseRegion(n *node) Region {
	var r Region
	r.ID, _ = n.int("regionID")
	r.Sensitivity, _ = n.int("sensitivityLevel")
	for _, c := range n.path("RegionCoordinatesList").children("RegionCoordinates") {
		x, _ := c.int("positionX")
		y, _ := c.int("positionY")
		r.Points = append(r.Points, Point{X: x, Y: y})
	}
	if t := n.child("TargetRect"); t != nil {
		x, _ := t.float("X")
		y, _ := t.float("Y")
		w, _ := t.float("width")
		h, _ := t.float("height")
		r.Target = &Rect{X: x, Y: y, Width: w, Height: h}
	}
	return r
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// EventTypeIs compares event types the way devices need: case-insensitively
// ("VMD" vs "vmd", "lineDetection" vs "linedetection").
func EventTypeIs(eventType, want string) bool { return strings.EqualFold(eventType, want) }

// IsClipEvent reports whether an event type opens or extends a clip window:
// motion (VMD), line crossing and intrusion. Other types only update health.
func IsClipEvent(eventType string) bool {
	return EventTypeIs(eventType, "VMD") || EventTypeIs(eventType, "linedetection") || EventTypeIs(eventType, "fielddetection")
}

// IsActive reports whether the event is in the active state.
func (e Event) IsActive() bool { return strings.EqualFold(e.EventState, "active") }

// IsHeartbeat reports the cameras' keep-alive: videoloss, inactive, with
// activePostCount 0. A videoloss *active* (a dead NVR channel) is not one, nor
// is the inactive that ends a real videoloss burst (its count is non-zero).
func IsHeartbeat(e Event) bool {
	return EventTypeIs(e.EventType, "videoloss") && strings.EqualFold(e.EventState, "inactive") && e.ActivePostCount == 0
}

// ParseDeviceTime parses the dateTime formats devices send, best effort:
// RFC 3339, one-digit hour offsets ("-8:00"), offsets without sign or colon
// glued to the seconds ("T11:46:3100:00", read as +00:00), "+0800", "Z", optional
// fractional seconds, a space instead of 'T', and no offset at all (hasZone false,
// the wall time returned in UTC).
func ParseDeviceTime(s string) (t time.Time, hasZone bool, err error) {
	s = strings.TrimSpace(s)
	if len(s) < 19 {
		return time.Time{}, false, fmt.Errorf("isapi: device time %q: too short", s)
	}
	base := []byte(s[:19])
	if base[10] == ' ' {
		base[10] = 'T'
	}
	t, err = time.Parse("2006-01-02T15:04:05", string(base))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("isapi: device time %q: %w", s, err)
	}
	rest := s[19:]
	if strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, ",") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if frac := rest[1:i]; frac != "" {
			if len(frac) > 9 {
				frac = frac[:9]
			}
			ns, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
			t = t.Add(time.Duration(ns))
		}
		rest = rest[i:]
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return t, false, nil
	}
	if rest == "Z" || rest == "z" {
		return t, true, nil
	}
	sign := 1
	switch rest[0] {
	case '+':
		rest = rest[1:]
	case '-':
		sign, rest = -1, rest[1:]
	}
	h, m, ok := parseOffset(rest)
	if !ok || h > 14 || m > 59 {
		return t, false, fmt.Errorf("isapi: device time %q: bad offset", s)
	}
	off := sign * (h*3600 + m*60)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone("", off)), true, nil
}

// parseOffset reads "8", "08", "8:00", "08:00", "0800".
func parseOffset(s string) (h, m int, ok bool) {
	hs, ms, colon := strings.Cut(s, ":")
	if !colon {
		switch len(s) {
		case 1, 2:
			hs, ms = s, "0"
		case 4:
			hs, ms = s[:2], s[2:]
		default:
			return 0, 0, false
		}
	}
	if len(hs) < 1 || len(hs) > 2 || len(ms) < 1 || len(ms) > 2 {
		return 0, 0, false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	return h, m, err1 == nil && err2 == nil && h >= 0 && m >= 0
}
