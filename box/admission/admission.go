// Package admission owns the box's input budget: which channels may be linked, given
// their vendor and the resolution learned from the stream, and the output frame rate
// that follows from the number of linked channels. The rules are pure functions (see
// Check, Plan, OutputFPS); Set is the small thread-safe ledger the daemon keeps.
package admission

import (
	"fmt"
	"sort"
	"sync"
)

// Budget limits from the product sheet ("2 MP -> 8 channels, 4 MP -> 4, at most 8 MP"),
// read as a pixel budget so mixed installations are judged fairly.
const (
	MaxChannels      = 8
	MaxChannelWidth  = 3840 // long side
	MaxChannelHeight = 2160 // short side
	MaxChannelPixels = MaxChannelWidth * MaxChannelHeight
	PixelBudget      = 8 * 1920 * 1080
)

// Vendor is the manufacturer verdict computed from ISAPI deviceInfo elsewhere.
type Vendor int

// Vendors. The zero value is unknown and is refused: a device must prove it is Hikvision.
const (
	VendorUnknown Vendor = iota
	VendorHikvision
	VendorOther
)

func (v Vendor) String() string {
	switch v {
	case VendorHikvision:
		return "Hikvision"
	case VendorOther:
		return "other"
	default:
		return "unknown"
	}
}

// Channel is one candidate input. Width and Height come from the stream's SPS.
type Channel struct {
	ID     int
	Vendor Vendor
	Width  int
	Height int
}

// Pixels is the channel's input pixel count.
func (c Channel) Pixels() int { return c.Width * c.Height }

// OutputFPS is the transcoder's output frame rate for a number of linked channels:
// 1-5 -> 10, 6 -> 8, 7 -> 7, 8 -> 6. Fewer than one is treated as one (a single
// diagnostic clip); more than eight as eight (they are refused anyway).
func OutputFPS(linked int) int {
	switch {
	case linked <= 5:
		return 10
	case linked == 6:
		return 8
	case linked == 7:
		return 7
	default:
		return 6
	}
}

// CheckResolution applies the per-channel limit alone (what `boxd clip` needs).
// Orientation does not matter: 2160x3840 portrait is as fine as 3840x2160.
func CheckResolution(id, width, height int) error {
	if width <= 0 || height <= 0 {
		return &RefusedError{Channel: id, Rule: ErrUnknownResolution,
			Detail: fmt.Sprintf("resolution %dx%d not known", width, height)}
	}
	long, short := max(width, height), min(width, height)
	if long > MaxChannelWidth || short > MaxChannelHeight || width*height > MaxChannelPixels {
		return &RefusedError{Channel: id, Rule: ErrResolution,
			Detail: fmt.Sprintf("resolution %dx%d (%d pixels) exceeds maximum %dx%d (%d pixels, 8 MP)",
				width, height, width*height, MaxChannelWidth, MaxChannelHeight, MaxChannelPixels)}
	}
	return nil
}

// Check decides whether c may join the already admitted channels. Rules run in a fixed
// order (vendor, resolution, count, pixel budget) so the first broken one is named.
// An entry of admitted with c's ID is ignored, so a channel whose resolution changed
// is re-judged against the others only.
func Check(admitted []Channel, c Channel) error {
	if c.Vendor != VendorHikvision {
		return &RefusedError{Channel: c.ID, Rule: ErrVendor,
			Detail: fmt.Sprintf("vendor %s is not Hikvision", c.Vendor)}
	}
	if err := CheckResolution(c.ID, c.Width, c.Height); err != nil {
		return err
	}
	n, used := 0, 0
	for _, a := range admitted {
		if a.ID == c.ID {
			continue
		}
		n++
		used += a.Pixels()
	}
	if n+1 > MaxChannels {
		return &RefusedError{Channel: c.ID, Rule: ErrChannelCount,
			Detail: fmt.Sprintf("channel count %d exceeds maximum %d", n+1, MaxChannels)}
	}
	if used+c.Pixels() > PixelBudget {
		return &RefusedError{Channel: c.ID, Rule: ErrPixelBudget,
			Detail: fmt.Sprintf("total input pixels %d + %d exceeds budget %d (8 x 1920x1080)",
				used, c.Pixels(), PixelBudget)}
	}
	return nil
}

// Plan judges channels in channel order, each against those admitted before it, and
// returns one verdict per channel (nil = admitted), indexed like chans.
func Plan(chans []Channel) []error {
	order := make([]int, len(chans))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return chans[order[a]].ID < chans[order[b]].ID })
	verdicts := make([]error, len(chans))
	var admitted []Channel
	for _, i := range order {
		if err := Check(admitted, chans[i]); err != nil {
			verdicts[i] = err
			continue
		}
		admitted = append(admitted, chans[i])
	}
	return verdicts
}

// Set is the ledger of admitted channels. Channels are judged as their resolutions are
// learned; an admitted channel keeps its place when a later one is refused.
type Set struct {
	mu       sync.Mutex
	admitted map[int]Channel
}

// NewSet returns an empty ledger.
func NewSet() *Set { return &Set{admitted: make(map[int]Channel)} }

// Admit judges c against the others and records it when admitted. A refused channel
// that was admitted before (its resolution grew) loses its place.
func (s *Set) Admit(c Channel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	others := make([]Channel, 0, len(s.admitted))
	for _, a := range s.admitted {
		others = append(others, a)
	}
	if err := Check(others, c); err != nil {
		delete(s.admitted, c.ID)
		return err
	}
	s.admitted[c.ID] = c
	return nil
}

// Release frees a channel's place (unlinked, or its device removed).
func (s *Set) Release(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.admitted, id)
}

// Linked is the number of admitted channels.
func (s *Set) Linked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.admitted)
}

// FPS is the output frame rate for the channels admitted now.
func (s *Set) FPS() int { return OutputFPS(s.Linked()) }
