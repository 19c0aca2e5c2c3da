package transcode

import "time"

// frameSelector maps decoded frames onto constant-frame-rate output ticks with the
// nearest-frame rule described in the package doc. It is pure arithmetic on PTS
// values so the rule is tested without FFmpeg.
type frameSelector struct {
	fps       int64
	start     time.Duration
	maxFrames int // 0: unlimited

	anchored bool
	anchor   time.Duration
	next     int           // index of the next tick to assign
	prev     time.Duration // PTS of the last accepted frame
	step     time.Duration // last positive PTS step, for the end of stream
}

func newFrameSelector(fps int, start time.Duration, maxFrames int) *frameSelector {
	return &frameSelector{fps: int64(fps), start: start, maxFrames: maxFrames}
}

// tick is the source instant of output frame n; computed from n so that rounding
// never accumulates.
func (s *frameSelector) tick(n int) time.Duration {
	return s.anchor + time.Duration(int64(n)*int64(time.Second)/s.fps)
}

// done reports that the frame cap is reached: nothing more will be output.
func (s *frameSelector) done() bool { return s.maxFrames > 0 && s.next >= s.maxFrames }

// push offers a decoded frame with PTS pts. It returns how many ticks are assigned
// to the previous accepted frame (emit those first) and to this frame. accepted is
// false for frames that can never be output (before Start, or not after the
// previous frame: a broken or repeated timestamp); they do not become "previous".
func (s *frameSelector) push(pts time.Duration) (forPrev, forCur int, accepted bool) {
	if s.done() {
		return 0, 0, false
	}
	if !s.anchored {
		if pts < s.start {
			return 0, 0, false
		}
		s.anchored, s.anchor, s.prev, s.next = true, pts, pts, 1
		return 0, 1, true
	}
	if pts <= s.prev {
		return 0, 0, false
	}
	for !s.done() {
		t := s.tick(s.next)
		if t > pts {
			break
		}
		if t-s.prev <= pts-t {
			forPrev++
		} else {
			forCur++
		}
		s.next++
	}
	s.step = pts - s.prev
	s.prev = pts
	return forPrev, forCur, true
}

// flush returns how many more ticks the last frame fills at the end of the source:
// those still nearer to it than to a next frame one step later.
func (s *frameSelector) flush() (forPrev int) {
	if !s.anchored {
		return 0
	}
	for !s.done() && s.step > 0 && s.tick(s.next)-s.prev <= s.step/2 {
		forPrev++
		s.next++
	}
	return forPrev
}

// frames is the number of ticks assigned so far.
func (s *frameSelector) frames() int {
	if !s.anchored {
		return 0
	}
	return s.next
}
