package anr

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNextPriorityOrder(t *testing.T) {
	type in struct {
		name   string
		start  int
		events []string
	}
	cases := []struct {
		name string
		add  []in
		want []string
	}{
		{"intrusion before older motion",
			[]in{{"m1", 0, []string{"VMD"}}, {"i1", 10, []string{"fielddetection"}}},
			[]string{"i1", "m1"}},
		{"line crossing before older motion",
			[]in{{"m1", 0, []string{"VMD"}}, {"l1", 10, []string{"linedetection"}}},
			[]string{"l1", "m1"}},
		{"mixed motion+line is high",
			[]in{{"m1", 0, []string{"VMD"}}, {"ml", 10, []string{"VMD", "linedetection"}}},
			[]string{"ml", "m1"}},
		{"oldest first within high",
			[]in{{"l2", 20, []string{"linedetection"}}, {"i1", 10, []string{"fielddetection"}}, {"l0", 5, []string{"linedetection"}}},
			[]string{"l0", "i1", "l2"}},
		{"oldest first within motion, added out of order",
			[]in{{"m3", 30, []string{"VMD"}}, {"m1", 10, []string{"VMD"}}, {"m2", 20, []string{"VMD"}}},
			[]string{"m1", "m2", "m3"}},
		{"same start: ID (added first) breaks the tie",
			[]in{{"a", 10, []string{"VMD"}}, {"b", 10, []string{"VMD"}}},
			[]string{"a", "b"}},
		{"unknown event types are low",
			[]in{{"x", 0, []string{"videoloss"}}, {"i", 5, []string{"fielddetection"}}},
			[]string{"i", "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openTest(t, t.TempDir(), Options{}, newTestClock(), nil)
			names := map[string]string{}
			for i, c := range tc.add {
				clip := mustAdd(t, s, meta(1, c.start, c.events...), content(i, 100))
				names[clip.ID] = c.name
			}
			var got []string
			for range tc.add {
				c, err := s.Next(context.Background())
				require.NoError(t, err)
				got = append(got, names[c.ID])
			}
			assert.Equal(t, tc.want, got)
			for id := range names {
				require.NoError(t, s.Uploaded(id, "k/"+id))
			}
		})
	}
}

func TestNextBlocksUntilAdd(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{}, newTestClock(), nil)
	got := make(chan Clip, 1)
	go func() {
		c, err := s.Next(context.Background())
		assert.NoError(t, err)
		got <- c
	}()
	select {
	case c := <-got:
		t.Fatalf("Next returned %s on an empty spool", c.ID)
	case <-time.After(50 * time.Millisecond):
	}
	added := mustAdd(t, s, meta(1, 0, "VMD"), content(1, 10))
	select {
	case c := <-got:
		assert.Equal(t, added.ID, c.ID)
		assert.Equal(t, StateUploading, c.State)
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not wake after Add")
	}

	t.Run("ctx ends", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := s.Next(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("Release wakes", func(t *testing.T) {
		done := make(chan Clip, 1)
		go func() {
			c, err := s.Next(context.Background())
			assert.NoError(t, err)
			done <- c
		}()
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, s.Release(added.ID, assert.AnError))
		select {
		case c := <-done:
			assert.Equal(t, added.ID, c.ID)
		case <-time.After(5 * time.Second):
			t.Fatal("Next did not wake after Release")
		}
	})
	require.NoError(t, s.Uploaded(added.ID, "k"))
}

func TestNextClose(t *testing.T) {
	s, err := openFS(t.TempDir(), Options{}, testLogger(t), newTestClock().Now, osFS{})
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { _, err := s.Next(context.Background()); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, s.Close())
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Close")
	}
	_, err = s.Add(context.Background(), meta(1, 0, "VMD"), nil)
	assert.ErrorIs(t, err, ErrClosed)
}

// TestEviction: a budget of 4 clips; the table adds clips in order and expects the
// exact survivors and exact counts by reason and class.
func TestEviction(t *testing.T) {
	const size = 1000
	type in struct {
		name   string
		start  int
		events []string
	}
	m := func(n string, s int) in { return in{n, s, []string{"VMD"}} }
	h := func(n string, s int) in { return in{n, s, []string{"linedetection"}} }
	cases := []struct {
		name       string
		add        []in
		uploading  []string // taken with Next (in upload order) before the last Add
		wantLive   []string
		wantMotion uint64
		wantHigh   uint64
		wantOver   bool
	}{
		{"under budget: nothing evicted",
			[]in{m("m1", 1), m("m2", 2), h("h1", 3), h("h2", 4)}, nil,
			[]string{"m1", "m2", "h1", "h2"}, 0, 0, false},
		{"oldest motion first",
			[]in{m("m2", 2), m("m1", 1), h("h1", 3), h("h2", 4), m("m3", 5)}, nil,
			[]string{"m2", "h1", "h2", "m3"}, 1, 0, false},
		{"all motion before any high",
			[]in{h("h1", 1), m("m1", 2), m("m2", 3), h("h2", 4), h("h3", 5), h("h4", 6)}, nil,
			[]string{"h1", "h2", "h3", "h4"}, 2, 0, false},
		{"then oldest high",
			[]in{h("h1", 1), h("h2", 2), h("h3", 3), h("h4", 4), h("h5", 5), h("h6", 6)}, nil,
			[]string{"h3", "h4", "h5", "h6"}, 0, 2, false},
		{"new motion clip kept, older high evicted",
			[]in{h("h1", 1), h("h2", 2), h("h3", 3), h("h4", 4), m("m1", 5)}, nil,
			[]string{"h2", "h3", "h4", "m1"}, 0, 1, false},
		{"uploading never evicted",
			[]in{m("m1", 1), m("m2", 2), m("m3", 3), m("m4", 4), m("m5", 5)}, []string{"m1", "m2"},
			[]string{"m1", "m2", "m4", "m5"}, 1, 0, false},
		{"only uploading left: stays over budget, new clip kept",
			[]in{m("m1", 1), m("m2", 2), m("m3", 3), m("m4", 4), m("m5", 5)}, []string{"m1", "m2", "m3", "m4"},
			[]string{"m1", "m2", "m3", "m4", "m5"}, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var drops []Drop
			opts := Options{MaxBytes: 4 * size, OnDrop: func(d Drop) { mu.Lock(); drops = append(drops, d); mu.Unlock() }}
			s := openTest(t, t.TempDir(), opts, newTestClock(), nil)
			names := map[string]string{}
			for i, c := range tc.add {
				if i == len(tc.add)-1 {
					for range tc.uploading {
						_, err := s.Next(context.Background())
						require.NoError(t, err)
					}
				}
				clip := mustAdd(t, s, meta(1, c.start, c.events...), content(i, size))
				names[clip.ID] = c.name
			}
			live, err := s.List(Filter{States: []State{StatePending, StateUploading}})
			require.NoError(t, err)
			var got []string
			for _, c := range live {
				got = append(got, names[c.ID])
			}
			assert.ElementsMatch(t, tc.wantLive, got)
			for _, c := range live {
				if slices.Contains(tc.uploading, names[c.ID]) {
					assert.Equal(t, StateUploading, c.State, names[c.ID])
				}
			}
			st := s.Stats()
			assert.Equal(t, tc.wantMotion, st.EvictedByClass[ClassMotion], "motion evictions")
			assert.Equal(t, tc.wantHigh, st.EvictedByClass[ClassHigh], "high evictions")
			assert.Equal(t, tc.wantMotion+tc.wantHigh, st.EvictedByReason[ReasonBudget])
			assert.Equal(t, tc.wantMotion+tc.wantHigh, st.Evicted)
			assert.Equal(t, tc.wantOver, st.OverBudget)
			assert.Equal(t, int64(len(tc.wantLive)*size), st.BytesUsed)
			mu.Lock()
			assert.Len(t, drops, int(tc.wantMotion+tc.wantHigh))
			for _, d := range drops {
				assert.Equal(t, ReasonBudget, d.Reason)
				assert.Equal(t, StateEvicted, d.Clip.State)
				assert.NoFileExists(t, d.Clip.Path)
			}
			mu.Unlock()
			tomb, err := s.List(Filter{States: []State{StateEvicted}})
			require.NoError(t, err)
			assert.Len(t, tomb, int(tc.wantMotion+tc.wantHigh), "evicted kept as tombstones")
		})
	}
}

func TestEvictionReserve(t *testing.T) {
	const size = 1000
	free := int64(10_000)
	var mu sync.Mutex
	fsys := &faultFS{free: func() (int64, error) { mu.Lock(); defer mu.Unlock(); return free, nil }}
	s := openTest(t, t.TempDir(), Options{MinFreeBytes: 5_000}, newTestClock(), fsys)
	for i := range 3 {
		mustAdd(t, s, meta(1, i, "VMD"), content(i, size))
	}
	assert.Equal(t, uint64(0), s.Stats().Evicted)
	mu.Lock()
	free = 3_500 // someone else filled the disk: 1500 short of the reserve
	mu.Unlock()
	c := mustAdd(t, s, meta(1, 10, "fielddetection"), content(9, size))
	st := s.Stats()
	// Before the write: 1500 short -> two oldest motion clips; after it (free is
	// faked, so still short): the third. The new high clip survives.
	assert.Equal(t, uint64(3), st.EvictedByReason[ReasonReserve])
	assert.Equal(t, uint64(3), st.EvictedByClass[ClassMotion])
	assert.Equal(t, 1, st.Pending)
	assert.True(t, st.OverBudget)
	live, err := s.List(Filter{States: []State{StatePending}})
	require.NoError(t, err)
	require.Len(t, live, 1)
	assert.Equal(t, c.ID, live[0].ID)
}
