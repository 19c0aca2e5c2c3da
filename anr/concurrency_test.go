package anr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentProducersConsumers: 8 channels add while 2 uplinks drain with some
// failed attempts; every clip is uploaded exactly once (run with -race).
func TestConcurrentProducersConsumers(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{}, newTestClock(), nil)
	const channels, perChannel = 8, 6
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var mu sync.Mutex
	added := map[string]bool{}
	uploaded := map[string]int{}
	var producers, consumers sync.WaitGroup
	for ch := range channels {
		producers.Add(1)
		go func() {
			defer producers.Done()
			for i := range perChannel {
				ev := "VMD"
				if i%2 == 0 {
					ev = "fielddetection"
				}
				c, err := s.Add(ctx, meta(ch, i, ev), bytes.NewReader(content(ch*100+i, 20_000)))
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				added[c.ID] = true
				mu.Unlock()
			}
		}()
	}
	for w := range 2 {
		consumers.Add(1)
		go func() {
			defer consumers.Done()
			for n := 0; ; n++ {
				c, err := s.Next(ctx)
				if errors.Is(err, context.Canceled) {
					return
				}
				if !assert.NoError(t, err) {
					return
				}
				if n%5 == 0 { // a failed attempt
					assert.NoError(t, s.SaveMultipart(c.ID, Multipart{UploadID: fmt.Sprint(w, n)}))
					assert.NoError(t, s.Release(c.ID, errors.New("timeout")))
					continue
				}
				assert.NoError(t, s.Uploaded(c.ID, "k/"+c.ID))
				mu.Lock()
				uploaded[c.ID]++
				mu.Unlock()
			}
		}()
	}
	producers.Wait()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(uploaded) == channels*perChannel
	}, 20*time.Second, 10*time.Millisecond)
	cancel()
	consumers.Wait()
	for id, n := range uploaded {
		assert.Equal(t, 1, n, id)
		assert.True(t, added[id], id)
	}
	st := s.Stats()
	assert.Equal(t, uint64(channels*perChannel), st.Uploaded)
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.BytesUsed)
}

func TestStats(t *testing.T) {
	clock := newTestClock()
	s := openTest(t, t.TempDir(), Options{MaxBytes: 1 << 30, MinFreeBytes: 1}, clock, nil)
	mustAdd(t, s, meta(1, 0, "VMD"), content(1, 100))
	clock.Advance(time.Minute)
	mustAdd(t, s, meta(1, 1, "VMD"), content(2, 200))
	mustAdd(t, s, meta(3, 2, "linedetection"), content(3, 300))
	clock.Advance(time.Minute)
	c, err := s.Next(context.Background())
	require.NoError(t, err)
	st := s.Stats()
	assert.Equal(t, 2, st.Pending)
	assert.Equal(t, int64(300), st.PendingBytes)
	assert.Equal(t, map[int]ChannelStats{1: {Count: 2, Bytes: 300}}, st.PendingByChannel)
	assert.InDelta(t, float64(2*time.Minute), float64(st.OldestPendingAge), float64(time.Millisecond))
	assert.Equal(t, 1, st.Uploading)
	assert.Equal(t, int64(300), st.UploadingBytes)
	assert.Equal(t, int64(600), st.BytesUsed)
	assert.Equal(t, int64(1<<30), st.MaxBytes)
	assert.Positive(t, st.FreeBytes)
	assert.False(t, st.OverBudget)
	require.NoError(t, s.Uploaded(c.ID, "k"))

	ch := 1
	recs, err := s.List(Filter{Channel: &ch, Limit: 1})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, StatePending, recs[0].State)
	assert.True(t, meta(1, 0, "VMD").Start.Equal(recs[0].Start), "upload order: oldest first")
}
