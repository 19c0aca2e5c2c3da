package ring

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/media"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// gen makes n units at fps with a keyframe every gop units, each size bytes.
func gen(n, fps, gop, size int) []*media.AccessUnit {
	aus := make([]*media.AccessUnit, n)
	for i := range aus {
		d := time.Duration(i) * time.Second / time.Duration(fps)
		aus[i] = &media.AccessUnit{Codec: media.CodecH264, PTS: d, Wall: t0.Add(d), Key: i%gop == 0,
			NALUs: [][]byte{make([]byte, size)}}
	}
	return aus
}

func TestRingBounds(t *testing.T) {
	for _, tc := range []struct {
		name         string
		opts         Options
		aus          []*media.AccessUnit
		wantAUs      int
		wantAgeAUs   uint64
		wantBytesAUs uint64
		wantNoKey    uint64
		minSpan      time.Duration
		maxSpan      time.Duration
	}{
		{name: "under both bounds keeps all", opts: Options{MaxAge: 10 * time.Second},
			aus: gen(100, 25, 50, 100), wantAUs: 100, maxSpan: 4 * time.Second},
		// 20 s at 25 fps, 2 s GOPs, 10 s age: keeps 10..12 s, whole GOPs.
		{name: "age evicts whole GOPs", opts: Options{MaxAge: 10 * time.Second},
			aus: gen(500, 25, 50, 100), wantAUs: 300, wantAgeAUs: 200,
			minSpan: 10 * time.Second, maxSpan: 12 * time.Second},
		// 1000 bytes per unit, 60 KB bound: 50-unit GOPs of 50 KB -> one GOP fits.
		{name: "bytes evict whole GOPs", opts: Options{MaxAge: time.Minute, MaxBytes: 60_000},
			aus: gen(500, 25, 50, 1000), wantAUs: 50, wantBytesAUs: 450},
		{name: "starts at a keyframe", opts: Options{},
			aus: gen(100, 25, 50, 10)[10:], wantAUs: 50, wantNoKey: 40},
		// A GOP bigger than the byte bound empties the ring until the next keyframe.
		{name: "GOP larger than bytes bound", opts: Options{MaxAge: time.Minute, MaxBytes: 30_000},
			aus: gen(120, 25, 50, 1000), wantAUs: 20, wantBytesAUs: 31 + 31, wantNoKey: 19 + 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(tc.opts)
			for _, au := range tc.aus {
				r.Push(au)
			}
			s := r.Stats()
			assert.Equal(t, tc.wantAUs, s.AUs)
			assert.Equal(t, tc.wantAgeAUs, s.Dropped[ReasonAge].AUs)
			assert.Equal(t, tc.wantBytesAUs, s.Dropped[ReasonBytes].AUs)
			assert.Equal(t, tc.wantNoKey, s.Dropped[ReasonNoKey].AUs)
			assert.LessOrEqual(t, s.Bytes, r.Options().MaxBytes)
			if tc.minSpan > 0 {
				assert.GreaterOrEqual(t, s.Span(), tc.minSpan)
			}
			if tc.maxSpan > 0 {
				assert.LessOrEqual(t, s.Span(), tc.maxSpan)
			}
			snap := r.Snapshot()
			require.Len(t, snap, tc.wantAUs)
			if len(snap) > 0 {
				assert.True(t, snap[0].Key, "ring starts at a keyframe")
			}
			total := 0
			for _, au := range snap {
				total += au.Size()
			}
			assert.Equal(t, s.Bytes, total)
			// Everything pushed is either kept or counted.
			var dropped uint64
			for _, d := range s.Dropped {
				dropped += d.AUs
			}
			assert.Equal(t, uint64(len(tc.aus)), dropped+uint64(s.AUs))
		})
	}
}

func TestSnapshotFrom(t *testing.T) {
	r := New(Options{MaxAge: 10 * time.Second})
	for _, au := range gen(250, 25, 50, 10) { // 10 s, keyframes at 0,2,4,6,8 s
		r.Push(au)
	}
	for _, tc := range []struct {
		name  string
		from  time.Time
		first time.Duration
	}{
		{"before oldest gives oldest", t0.Add(-time.Hour), 0},
		{"exactly on a keyframe", t0.Add(4 * time.Second), 4 * time.Second},
		{"between keyframes gives the one before", t0.Add(5900 * time.Millisecond), 4 * time.Second},
		{"after newest gives last keyframe", t0.Add(time.Hour), 8 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := r.SnapshotFrom(tc.from)
			require.NotEmpty(t, snap)
			assert.True(t, snap[0].Key)
			assert.Equal(t, tc.first, snap[0].PTS)
			assert.Equal(t, 249*40*time.Millisecond, snap[len(snap)-1].PTS)
		})
	}
}

func TestResetAndSharing(t *testing.T) {
	r := New(Options{})
	aus := gen(60, 25, 50, 10)
	for _, au := range aus {
		r.Push(au)
	}
	snap := r.Snapshot()
	assert.Same(t, aus[0], snap[0], "snapshots share units, never copy them")
	r.Reset()
	s := r.Stats()
	assert.Zero(t, s.AUs)
	assert.Zero(t, s.Bytes)
	assert.Equal(t, uint64(60), s.Dropped[ReasonReset].AUs)
	assert.Len(t, snap, 60, "a snapshot outlives a reset")
	r.Push(aus[1])
	assert.Zero(t, r.Stats().AUs)
	r.Push(aus[0])
	assert.Equal(t, 1, r.Stats().AUs)
}

func TestConcurrent(t *testing.T) {
	r := New(Options{MaxAge: time.Second})
	aus := gen(2000, 25, 25, 10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, au := range aus {
			r.Push(au)
		}
	}()
	for i := 0; i < 200; i++ {
		snap := r.SnapshotFrom(t0.Add(time.Duration(i) * 100 * time.Millisecond))
		if len(snap) > 0 {
			require.True(t, snap[0].Key)
		}
		_ = r.Stats()
	}
	wg.Wait()
}
