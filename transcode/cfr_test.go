package transcode

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rtpPTS returns the PTS of frame k of a stream at num/den fps with a 90 kHz RTP
// clock, as ingest computes them (each from k, rounded to the 90 kHz tick).
func rtpPTS(k int, num, den int64) time.Duration {
	ticks := int64(k) * 90000 * den / num
	return time.Duration(ticks * int64(time.Second) / 90000)
}

// runSelector pushes pts through a selector and returns, for each output tick, the
// index of the frame it shows.
func runSelector(fps int, start time.Duration, maxFrames int, pts []time.Duration) ([]int, *frameSelector) {
	s := newFrameSelector(fps, start, maxFrames)
	var shown []int
	prev := -1
	for i, p := range pts {
		forPrev, forCur, ok := s.push(p)
		if !ok {
			continue
		}
		for j := 0; j < forPrev; j++ {
			shown = append(shown, prev)
		}
		for j := 0; j < forCur; j++ {
			shown = append(shown, i)
		}
		prev = i
	}
	for j := s.flush(); j > 0; j-- {
		shown = append(shown, prev)
	}
	return shown, s
}

// nearest is the rule stated in the package doc, by brute force.
func nearest(pts []time.Duration, from int, t time.Duration) int {
	best := -1
	var bestD time.Duration
	for i := from; i < len(pts); i++ {
		d := pts[i] - t
		if d < 0 {
			d = -d
		}
		if best < 0 || d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

func TestFrameSelectorRates(t *testing.T) {
	for _, tc := range []struct {
		name         string
		inNum, inDen int64 // input rate num/den fps
		out          int
		seconds      int
		wantFirst    []int // frames shown by the first ticks
	}{
		{"25->10", 25, 1, 10, 6, []int{0, 2, 5, 7, 10, 12, 15}},
		{"25->6", 25, 1, 6, 6, []int{0, 4, 8, 12, 17, 21, 25}},
		{"25->25", 25, 1, 25, 6, []int{0, 1, 2, 3, 4, 5}},
		{"30->7", 30, 1, 7, 6, []int{0, 4, 9, 13, 17, 21, 26}},
		{"30->30", 30, 1, 30, 6, []int{0, 1, 2, 3}},
		{"12.5->10", 25, 2, 10, 6, []int{0, 1, 2, 4, 5, 6, 7, 9, 10}},
		{"29.97->15", 30000, 1001, 15, 10, nil},
		{"5->10 repeats", 5, 1, 10, 6, []int{0, 0, 1, 1, 2, 2}},
		{"25->6 over 10 minutes", 25, 1, 6, 600, nil},
		{"30->7 over 10 minutes", 30, 1, 7, 600, nil},
		{"12.5->10 over 10 minutes", 25, 2, 10, 600, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := int(int64(tc.seconds) * tc.inNum / tc.inDen)
			pts := make([]time.Duration, n)
			for k := range pts {
				pts[k] = rtpPTS(k, tc.inNum, tc.inDen)
			}
			shown, s := runSelector(tc.out, 0, 0, pts)

			// A clip of D seconds gives exactly D*fps frames: no drift.
			require.Len(t, shown, tc.seconds*tc.out)
			assert.Equal(t, len(shown), s.frames())
			if tc.wantFirst != nil {
				assert.Equal(t, tc.wantFirst, shown[:len(tc.wantFirst)])
			}
			for i, f := range shown {
				tick := time.Duration(int64(i) * int64(time.Second) / int64(tc.out))
				require.Equal(t, nearest(pts, 0, tick), f, "tick %d at %v", i, tick)
			}
		})
	}
}

func TestFrameSelectorStartAndCap(t *testing.T) {
	pts := make([]time.Duration, 250) // 10 s at 25 fps
	for k := range pts {
		pts[k] = rtpPTS(k, 25, 1)
	}
	t.Run("start between frames anchors on the next frame", func(t *testing.T) {
		shown, s := runSelector(10, 1010*time.Millisecond, 0, pts)
		assert.Equal(t, 26, shown[0])
		assert.Equal(t, pts[26], s.anchor)
		assert.Len(t, shown, 90) // 10 s - 1.04 s, at 10 fps, rounded to the tick grid
		for i, f := range shown {
			assert.GreaterOrEqual(t, f, 26)
			require.Equal(t, nearest(pts, 26, s.anchor+time.Duration(i)*100*time.Millisecond), f)
		}
	})
	t.Run("start on a frame", func(t *testing.T) {
		shown, _ := runSelector(10, 2*time.Second, 0, pts)
		assert.Equal(t, 50, shown[0])
		assert.Len(t, shown, 80)
	})
	t.Run("cap", func(t *testing.T) {
		shown, s := runSelector(10, 2*time.Second, 30, pts)
		assert.Len(t, shown, 30)
		assert.True(t, s.done())
		assert.Equal(t, 50+72, shown[29]) // tick 29 at 4.9 s: frames at 4.88 and 4.92 tie, earlier wins
	})
	t.Run("start after the end", func(t *testing.T) {
		shown, s := runSelector(10, time.Hour, 0, pts)
		assert.Empty(t, shown)
		assert.Zero(t, s.frames())
	})
}

func TestFrameSelectorGapsAndJitter(t *testing.T) {
	t.Run("gap is filled by repeats", func(t *testing.T) {
		var pts []time.Duration
		for k := 0; k < 250; k++ {
			if k >= 50 && k < 100 { // 2 s lost
				continue
			}
			pts = append(pts, rtpPTS(k, 25, 1))
		}
		shown, _ := runSelector(10, 0, 0, pts)
		require.Len(t, shown, 100)
		for i, f := range shown {
			require.Equal(t, nearest(pts, 0, time.Duration(i)*100*time.Millisecond), f)
		}
	})
	t.Run("jitter", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		pts := make([]time.Duration, 25*600)
		for k := range pts {
			pts[k] = rtpPTS(k, 25, 1) + time.Duration(rng.IntN(4000)-2000)*time.Microsecond
		}
		shown, _ := runSelector(6, 0, 0, pts)
		assert.InDelta(t, 3600, len(shown), 1)
		for i, f := range shown {
			tick := pts[0] + time.Duration(int64(i)*int64(time.Second)/6)
			d := pts[f] - tick
			require.Less(t, d.Abs(), 24*time.Millisecond, "tick %d", i) // half a frame + jitter
		}
	})
	t.Run("broken timestamps are dropped", func(t *testing.T) {
		s := newFrameSelector(10, 0, 0)
		_, cur, ok := s.push(time.Second)
		assert.True(t, ok)
		assert.Equal(t, 1, cur)
		_, _, ok = s.push(time.Second)
		assert.False(t, ok, "repeated PTS")
		_, _, ok = s.push(500 * time.Millisecond)
		assert.False(t, ok, "PTS going back")
		p, c, ok := s.push(1100 * time.Millisecond)
		assert.True(t, ok)
		assert.Equal(t, [2]int{0, 1}, [2]int{p, c})
	})
}

func ExampleParseResolution() {
	r, _ := ParseResolution("576p")
	w, h := r.Box()
	fmt.Println(r, w, h)
	// Output: 576p 704 576
}
