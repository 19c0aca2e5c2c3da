package admission

import (
	"errors"
	"fmt"
)

// Sentinels name the rule that refused a channel; a *RefusedError wraps exactly one.
var (
	// ErrVendor: the device is not a Hikvision camera, DVR or NVR.
	ErrVendor = errors.New("admission: device is not Hikvision")
	// ErrResolution: one channel exceeds 3840x2160 (8 MP).
	ErrResolution = errors.New("admission: channel resolution exceeds 8 MP")
	// ErrChannelCount: more than MaxChannels linked channels.
	ErrChannelCount = errors.New("admission: too many channels")
	// ErrPixelBudget: the sum of input pixels exceeds 8 x 1920x1080.
	ErrPixelBudget = errors.New("admission: total input pixel budget exceeded")
	// ErrUnknownResolution: the channel has not reported a resolution yet.
	ErrUnknownResolution = errors.New("admission: resolution not known yet")
)

// RefusedError is the refusal of one channel: which rule, and the numbers behind it,
// so an installer can read why from a log line or the status API.
type RefusedError struct {
	Channel int
	Rule    error // one of the sentinels above
	Detail  string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("admission: channel %d refused: %s", e.Channel, e.Detail)
}

// Unwrap lets callers test the rule with errors.Is.
func (e *RefusedError) Unwrap() error { return e.Rule }
