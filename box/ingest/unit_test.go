package ingest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/media"
)

func TestBackoffBounds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min, max time.Duration
		r        float64
		want     []time.Duration // upper bounds per attempt (r=1 reaches them)
	}{
		{"doubles then caps", 100 * time.Millisecond, time.Second, 0.999999,
			[]time.Duration{100, 200, 400, 800, 1000, 1000, 1000}},
		{"min equals max", time.Second, time.Second, 0.5, []time.Duration{1000, 1000, 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []float64{0, tc.r} {
				b := &backoff{min: tc.min, max: tc.max, rand: func() float64 { return r }}
				for i, ms := range tc.want {
					d := b.next()
					hi := ms * time.Millisecond
					assert.GreaterOrEqual(t, d, hi/2, "attempt %d r=%v", i, r)
					assert.LessOrEqual(t, d, hi, "attempt %d r=%v", i, r)
					assert.LessOrEqual(t, d, tc.max)
				}
				b.reset()
				assert.LessOrEqual(t, b.next(), tc.min, "reset starts over")
			}
		})
	}
	// Many attempts never overflow past the cap.
	b := &backoff{min: time.Millisecond, max: time.Minute, rand: func() float64 { return 0.99 }}
	for range 200 {
		d := b.next()
		require.Positive(t, d)
		require.LessOrEqual(t, d, time.Minute)
	}
}

func TestRateLog(t *testing.T) {
	now := time.Unix(0, 0)
	r := &rateLog{now: func() time.Time { return now }, every: 10 * time.Second}
	ok, n := r.allow("x")
	assert.True(t, ok)
	assert.Zero(t, n)
	for range 5 {
		now = now.Add(time.Second)
		ok, _ = r.allow("x")
		assert.False(t, ok)
	}
	ok, _ = r.allow("y")
	assert.True(t, ok, "keys are independent")
	now = now.Add(6 * time.Second)
	ok, n = r.allow("x")
	assert.True(t, ok)
	assert.Equal(t, 5, n, "held-back count reported on the next line")
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		codec media.Codec
		nalu  []byte
		want  naluKind
	}{
		{media.CodecH264, []byte{0x65}, kindKey},
		{media.CodecH264, []byte{0x41}, kindOther},
		{media.CodecH264, []byte{0x67}, kindSPS},
		{media.CodecH264, []byte{0x68}, kindPPS},
		{media.CodecH264, []byte{0x09}, kindAUD},
		{media.CodecH265, []byte{19 << 1, 1}, kindKey}, // IDR_W_RADL
		{media.CodecH265, []byte{21 << 1, 1}, kindKey}, // CRA
		{media.CodecH265, []byte{16 << 1, 1}, kindKey}, // BLA
		{media.CodecH265, []byte{1 << 1, 1}, kindOther},
		{media.CodecH265, []byte{32 << 1, 1}, kindVPS},
		{media.CodecH265, []byte{33 << 1, 1}, kindSPS},
		{media.CodecH265, []byte{34 << 1, 1}, kindPPS},
		{media.CodecH265, []byte{35 << 1, 1}, kindAUD},
		{media.CodecH264, nil, kindOther},
	} {
		assert.Equal(t, tc.want, classify(tc.codec, tc.nalu), "%s %x", tc.codec, tc.nalu)
	}
}

func TestRedactAndOptions(t *testing.T) {
	assert.Equal(t, "rtsp://admin@10.0.0.5:554/Streaming/Channels/101",
		Redact("rtsp://admin:s3cret@10.0.0.5:554/Streaming/Channels/101"))
	_, err := New(Options{URL: "rtsp://127.0.0.1:554/x"})
	assert.ErrorIs(t, err, ErrConfig, "clock is required")
	_, err = New(Options{URL: "http://a:b@127.0.0.1/x", Now: time.Now})
	assert.ErrorIs(t, err, ErrConfig)
	assert.NotContains(t, err.Error(), ":b@")
	c, err := New(Options{URL: "rtsp://127.0.0.1:554/x", Now: time.Now})
	require.NoError(t, err)
	assert.Equal(t, StateIdle, c.Stats().State)
	assert.Equal(t, DefaultReadTimeout, c.opts.ReadTimeout)
}
