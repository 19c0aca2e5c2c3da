// Package clipwindow turns a channel's camera events into clip windows: the span of
// video [first active - pre-roll, last active + post-roll] an event clip covers.
//
// Overlapping events on a channel merge into one window that records every event
// type it holds. An event that never sends "inactive" (NVRs) ends after a quiet time
// without a repeat; the rule holds for cameras too, which repeat "active" about once a
// second while an event lasts, so a lost "inactive" (a dropped connection) cannot hold
// a clip open. A window longer than the maximum clip length is split into
// consecutive windows, so a runaway event cannot hold one clip open forever.
//
// A window opens at once (so the clip can be cut from the pre-roll ring while it is
// still there) and its end becomes final only when every event has ended and the
// post-roll has passed. The Tracker is driven by the box clock: Observe for events
// and Tick (or Decide, from the video flow) for time passing, which keeps tests
// instant.
package clipwindow

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// Options shape windows. Zero values take the defaults noted.
type Options struct {
	PreRoll   time.Duration // default 5s
	PostRoll  time.Duration // default 10s
	Quiet     time.Duration // an event without repeat or inactive ends after this; default 5s
	MaxLength time.Duration // default 120s
}

func (o Options) withDefaults() Options {
	if o.PreRoll == 0 {
		o.PreRoll = 5 * time.Second
	}
	if o.PostRoll == 0 {
		o.PostRoll = 10 * time.Second
	}
	if o.Quiet == 0 {
		o.Quiet = 5 * time.Second
	}
	if o.MaxLength == 0 {
		o.MaxLength = 120 * time.Second
	}
	return o
}

// ClipTypes are the ISAPI event types that make clips: motion, line crossing, intrusion.
var clipTypes = map[string]string{"vmd": "VMD", "linedetection": "linedetection", "fielddetection": "fielddetection"}

// IsClipType reports whether eventType (compared case-insensitively) makes clips.
func IsClipType(eventType string) bool {
	_, ok := clipTypes[strings.ToLower(eventType)]
	return ok
}

// Window is one clip's span on one channel. Its methods are safe for concurrent use.
type Window struct {
	Channel int
	Start   time.Time
	// Part counts the windows a runaway event was split into, from 1.
	Part int

	t      *Tracker
	end    time.Time // final end, once closed
	closed bool
	done   chan struct{}
	types  map[string]int // canonical event type -> active events seen
}

// Done is closed when the window's end is final.
func (w *Window) Done() <-chan struct{} { return w.done }

// End returns the final end, and false while the window is still open.
func (w *Window) End() (time.Time, bool) {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	return w.end, w.closed
}

// EventTypes returns the event types the window holds, sorted, as ISAPI spells them.
func (w *Window) EventTypes() []string {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	out := make([]string, 0, len(w.types))
	for typ := range w.types {
		out = append(out, typ)
	}
	sort.Strings(out)
	return out
}

// Events returns how many active event notifications the window merged.
func (w *Window) Events() int {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	n := 0
	for _, c := range w.types {
		n += c
	}
	return n
}

// Decide tells a clip cutter what to do with video received at wall: include it, or
// stop because the window has ended. It also closes a window whose end has passed,
// so the video flow need not wait for the next Tick.
func (w *Window) Decide(wall time.Time) (include, done bool) {
	w.t.advance(w.Channel, wall)
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	if wall.Before(w.Start) {
		return false, false
	}
	if w.closed && !wall.Before(w.end) {
		return false, true
	}
	return true, false
}

// activity is one event type's state in the open window of a channel.
type activity struct {
	lastSeen time.Time
	ended    bool // explicit inactive, or quiet for too long
	endAt    time.Time
}

type channelState struct {
	win  *Window
	acts map[string]*activity
}

// Tracker keeps the open windows of every channel.
type Tracker struct {
	opts   Options
	onOpen func(*Window)

	mu    sync.Mutex
	chans map[int]*channelState
}

// NewTracker returns a tracker that calls onOpen (outside its lock) for every new
// window, including each part of a split one.
func NewTracker(opts Options, onOpen func(*Window)) *Tracker {
	return &Tracker{opts: opts.withDefaults(), onOpen: onOpen, chans: map[int]*channelState{}}
}

// Observe records one event notification received at the box time at. Events that
// do not make clips are ignored here (they feed health).
func (t *Tracker) Observe(channel int, eventType string, active bool, at time.Time) {
	typ, ok := clipTypes[strings.ToLower(eventType)]
	if !ok {
		return
	}
	var opened []*Window
	t.mu.Lock()
	opened = t.advanceLocked(channel, at, opened)
	cs := t.chans[channel]
	if !active {
		if cs != nil {
			if a := cs.acts[typ]; a != nil && !a.ended {
				a.ended, a.endAt = true, at
			}
		}
		t.mu.Unlock()
		t.notify(opened)
		return
	}
	if cs == nil {
		w := t.newWindowLocked(channel, at.Add(-t.opts.PreRoll), 1)
		cs = &channelState{win: w, acts: map[string]*activity{}}
		t.chans[channel] = cs
		opened = append(opened, w)
	}
	a := cs.acts[typ]
	if a == nil {
		a = &activity{}
		cs.acts[typ] = a
	}
	a.lastSeen, a.ended = at, false
	cs.win.types[typ]++
	t.mu.Unlock()
	t.notify(opened)
}

// Tick lets time pass for every channel: quiet events end, windows past their end
// close, runaway windows split.
func (t *Tracker) Tick(now time.Time) {
	t.mu.Lock()
	var opened []*Window
	for ch := range t.chans {
		opened = t.advanceLocked(ch, now, opened)
	}
	t.mu.Unlock()
	t.notify(opened)
}

func (t *Tracker) advance(channel int, now time.Time) {
	t.mu.Lock()
	opened := t.advanceLocked(channel, now, nil)
	t.mu.Unlock()
	t.notify(opened)
}

func (t *Tracker) notify(opened []*Window) {
	for _, w := range opened {
		if t.onOpen != nil {
			t.onOpen(w)
		}
	}
}

func (t *Tracker) newWindowLocked(channel int, start time.Time, part int) *Window {
	return &Window{Channel: channel, Start: start, Part: part, t: t, done: make(chan struct{}), types: map[string]int{}}
}

// advanceLocked moves one channel's window to time now and returns opened appended
// with any window a split opened.
func (t *Tracker) advanceLocked(channel int, now time.Time, opened []*Window) []*Window {
	for {
		cs := t.chans[channel]
		if cs == nil {
			return opened
		}
		// Quiet events end where they were last seen.
		lastEnd, allEnded := time.Time{}, true
		for _, a := range cs.acts {
			if !a.ended && now.Sub(a.lastSeen) >= t.opts.Quiet {
				a.ended, a.endAt = true, a.lastSeen
			}
			if !a.ended {
				allEnded = false
			} else if a.endAt.After(lastEnd) {
				lastEnd = a.endAt
			}
		}
		w := cs.win
		maxEnd := w.Start.Add(t.opts.MaxLength)
		if allEnded {
			end := lastEnd.Add(t.opts.PostRoll)
			if !end.After(maxEnd) {
				if now.Before(end) {
					return opened
				}
				t.closeLocked(w, end)
				delete(t.chans, channel)
				return opened
			}
		}
		if now.Before(maxEnd) {
			return opened
		}
		// Runaway: this part ends at the maximum length and the next begins there,
		// carrying the event state, without pre-roll.
		t.closeLocked(w, maxEnd)
		next := t.newWindowLocked(channel, maxEnd, w.Part+1)
		for typ, a := range cs.acts {
			if !a.ended || a.endAt.Add(t.opts.PostRoll).After(maxEnd) {
				next.types[typ] = 0
			}
		}
		cs.win = next
		opened = append(opened, next)
	}
}

func (t *Tracker) closeLocked(w *Window, end time.Time) {
	w.end, w.closed = end, true
	close(w.done)
}

// Flush ends every open window at now (or at its natural end, if earlier), for a
// clean shutdown: the clips cut so far are kept rather than lost.
func (t *Tracker) Flush(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for ch, cs := range t.chans {
		end := now
		if end.Before(cs.win.Start) {
			end = cs.win.Start
		}
		t.closeLocked(cs.win, end)
		delete(t.chans, ch)
	}
}

// Open returns the number of channels with an open window.
func (t *Tracker) Open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.chans)
}
