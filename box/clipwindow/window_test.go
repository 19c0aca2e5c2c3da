package clipwindow

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

type recorder struct {
	mu   sync.Mutex
	wins []*Window
}

func (r *recorder) open(w *Window) { r.mu.Lock(); r.wins = append(r.wins, w); r.mu.Unlock() }

type step struct {
	at     float64
	ch     int
	typ    string
	active bool
	tick   bool // a clock tick instead of an event
}

type want struct {
	ch         int
	start, end float64
	types      []string
	part       int
}

func TestWindows(t *testing.T) {
	opts := Options{PreRoll: 5 * time.Second, PostRoll: 10 * time.Second, Quiet: 5 * time.Second, MaxLength: 120 * time.Second}
	cases := []struct {
		name  string
		steps []step
		want  []want
	}{
		{
			name:  "camera event with explicit inactive",
			steps: []step{{at: 100, ch: 1, typ: "VMD", active: true}, {at: 103, ch: 1, typ: "VMD"}, {at: 200, tick: true}},
			want:  []want{{ch: 1, start: 95, end: 113, types: []string{"VMD"}, part: 1}},
		},
		{
			name: "NVR event without inactive ends after quiet time at its last repeat",
			steps: []step{{at: 100, ch: 2, typ: "linedetection", active: true}, {at: 101, ch: 2, typ: "linedetection", active: true},
				{at: 102, ch: 2, typ: "linedetection", active: true}, {at: 106, tick: true}, {at: 200, tick: true}},
			want: []want{{ch: 2, start: 95, end: 112, types: []string{"linedetection"}, part: 1}},
		},
		{
			name: "overlapping events of two types merge into one clip",
			steps: []step{{at: 100, ch: 1, typ: "VMD", active: true}, {at: 104, ch: 1, typ: "fielddetection", active: true},
				{at: 105, ch: 1, typ: "VMD"}, {at: 106, ch: 1, typ: "fielddetection", active: true}, {at: 108, ch: 1, typ: "fielddetection", active: true},
				{at: 109, ch: 1, typ: "fielddetection"}, {at: 300, tick: true}},
			want: []want{{ch: 1, start: 95, end: 119, types: []string{"VMD", "fielddetection"}, part: 1}},
		},
		{
			name: "an event during the post-roll extends the same window",
			steps: []step{{at: 100, ch: 1, typ: "VMD", active: true}, {at: 101, ch: 1, typ: "VMD"},
				{at: 108, ch: 1, typ: "VMD", active: true}, {at: 109, ch: 1, typ: "VMD"}, {at: 300, tick: true}},
			want: []want{{ch: 1, start: 95, end: 119, types: []string{"VMD"}, part: 1}},
		},
		{
			name: "an event after the post-roll opens a new window",
			steps: []step{{at: 100, ch: 1, typ: "VMD", active: true}, {at: 101, ch: 1, typ: "VMD"}, {at: 112, tick: true},
				{at: 130, ch: 1, typ: "VMD", active: true}, {at: 131, ch: 1, typ: "VMD"}, {at: 300, tick: true}},
			want: []want{{ch: 1, start: 95, end: 111, types: []string{"VMD"}, part: 1}, {ch: 1, start: 125, end: 141, types: []string{"VMD"}, part: 1}},
		},
		{
			name: "channels are independent",
			steps: func() []step {
				s := []step{{at: 100, ch: 1, typ: "VMD", active: true}, {at: 101, ch: 1, typ: "VMD"}}
				for i := 100; i < 150; i += 2 { // a camera repeats "active" while the event lasts
					s = append(s, step{at: float64(i), ch: 2, typ: "fielddetection", active: true})
				}
				return append(s, step{at: 150, ch: 2, typ: "fielddetection"}, step{at: 300, tick: true})
			}(),
			want: []want{{ch: 1, start: 95, end: 111, types: []string{"VMD"}, part: 1}, {ch: 2, start: 95, end: 160, types: []string{"fielddetection"}, part: 1}},
		},
		{
			name:  "non-clip events never open a window; types compare case-insensitively",
			steps: []step{{at: 100, ch: 1, typ: "videoloss", active: true}, {at: 100, ch: 1, typ: "tamperdetection", active: true}, {at: 101, ch: 1, typ: "vmd", active: true}, {at: 102, ch: 1, typ: "VMD"}, {at: 300, tick: true}},
			want:  []want{{ch: 1, start: 96, end: 112, types: []string{"VMD"}, part: 1}},
		},
		{
			name:  "inactive without active is ignored",
			steps: []step{{at: 100, ch: 1, typ: "VMD"}, {at: 300, tick: true}},
		},
		{
			name: "a runaway event splits into consecutive clips of the maximum length",
			steps: func() []step {
				var s []step
				for i := 0; i <= 300; i++ { // an NVR repeating every second for 5 minutes
					s = append(s, step{at: float64(100 + i), ch: 3, typ: "VMD", active: true})
				}
				return append(s, step{at: 1000, tick: true})
			}(),
			want: []want{
				{ch: 3, start: 95, end: 215, types: []string{"VMD"}, part: 1},
				{ch: 3, start: 215, end: 335, types: []string{"VMD"}, part: 2},
				{ch: 3, start: 335, end: 410, types: []string{"VMD"}, part: 3},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tr := NewTracker(opts, rec.open)
			for _, s := range tc.steps {
				if s.tick {
					tr.Tick(at(s.at))
					continue
				}
				tr.Observe(s.ch, s.typ, s.active, at(s.at))
			}
			require.Len(t, rec.wins, len(tc.want))
			for i, w := range tc.want {
				got := rec.wins[i]
				end, closed := got.End()
				require.True(t, closed, "window %d still open", i)
				assert.Equal(t, w.ch, got.Channel, "window %d channel", i)
				assert.Equal(t, at(w.start), got.Start, "window %d start", i)
				assert.Equal(t, at(w.end), end, "window %d end", i)
				assert.Equal(t, w.types, got.EventTypes(), "window %d types", i)
				assert.Equal(t, w.part, got.Part, "window %d part", i)
				assert.LessOrEqual(t, end.Sub(got.Start), opts.MaxLength)
				select {
				case <-got.Done():
				default:
					t.Fatalf("window %d Done not closed", i)
				}
			}
		})
	}
}

func TestDecideFollowsVideo(t *testing.T) {
	var rec recorder
	tr := NewTracker(Options{PreRoll: 2 * time.Second, PostRoll: 3 * time.Second, Quiet: 5 * time.Second}, rec.open)
	tr.Observe(1, "VMD", true, at(10))
	require.Len(t, rec.wins, 1)
	w := rec.wins[0]

	inc, done := w.Decide(at(7.9))
	assert.False(t, inc)
	assert.False(t, done)
	inc, done = w.Decide(at(8))
	assert.True(t, inc)
	assert.False(t, done)
	tr.Observe(1, "VMD", false, at(11))
	inc, done = w.Decide(at(13.9))
	assert.True(t, inc, "still in the post-roll")
	assert.False(t, done)
	_, closed := w.End()
	assert.False(t, closed)
	// Video past the end closes the window without waiting for a tick.
	inc, done = w.Decide(at(14))
	assert.False(t, inc)
	assert.True(t, done)
	end, closed := w.End()
	assert.True(t, closed)
	assert.Equal(t, at(14), end)
	assert.Equal(t, 1, w.Events())
}

func TestIsClipType(t *testing.T) {
	for typ, want := range map[string]bool{"VMD": true, "vmd": true, "linedetection": true, "LineDetection": true,
		"fielddetection": true, "videoloss": false, "regionEntrance": false, "": false} {
		assert.Equal(t, want, IsClipType(typ), typ)
	}
}

func TestFlushClosesEverything(t *testing.T) {
	var rec recorder
	tr := NewTracker(Options{}, rec.open)
	tr.Observe(1, "VMD", true, at(100))
	tr.Observe(2, "linedetection", true, at(100))
	require.Equal(t, 2, tr.Open())
	tr.Flush(at(103))
	assert.Equal(t, 0, tr.Open())
	for _, w := range rec.wins {
		end, closed := w.End()
		assert.True(t, closed)
		assert.Equal(t, at(103), end)
	}
}
