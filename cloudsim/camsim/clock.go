package camsim

import "time"

// Clock is the simulator's source of time. Pacing, heartbeats, event lifetimes and
// nonce expiry read it, so tests can substitute a controllable clock.
//
// Now must carry a monotonic reading (as time.Now does) because media pacing
// subtracts times; After must fire once, no earlier than d from Now.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// realClock is the wall clock used when Config.Clock is nil.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
