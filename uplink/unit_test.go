package uplink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/anr"
)

func TestObjectKey(t *testing.T) {
	start := time.Date(2026, 3, 7, 23, 59, 58, 0, time.FixedZone("CET", 3600))
	clip := func(id string, ch int, types ...string) anr.Clip {
		return anr.Clip{ID: id, Channel: ch, EventTypes: types, Start: start}
	}
	tests := []struct {
		name    string
		prefix  string
		serial  string
		clip    anr.Clip
		want    string
		wantErr error
	}{
		{"basic, start converted to UTC", "clips", "BX123", clip("c1", 3, "VMD"),
			"clips/BX123/ch03/2026/03/07/20260307T225958Z_vmd_c1.mp4", nil},
		{"empty prefix has no leading slash", "", "BX123", clip("c1", 3, "VMD"),
			"BX123/ch03/2026/03/07/20260307T225958Z_vmd_c1.mp4", nil},
		{"prefix slashes trimmed", "/a/b/", "BX1", clip("c1", 12, "VMD"),
			"a/b/BX1/ch12/2026/03/07/20260307T225958Z_vmd_c1.mp4", nil},
		{"events sorted, lowercased, deduplicated", "p", "S", clip("id", 1, "linedetection", "VMD", "vmd", "fieldDetection"),
			"p/S/ch01/2026/03/07/20260307T225958Z_fielddetection-linedetection-vmd_id.mp4", nil},
		{"no events", "p", "S", clip("id", 0),
			"p/S/ch00/2026/03/07/20260307T225958Z_event_id.mp4", nil},
		{"unsafe characters replaced", "p", "S/N 1", clip("a/b c", 1, "V M-D!"),
			"p/S_N_1/ch01/2026/03/07/20260307T225958Z_vmd_a_b_c.mp4", nil},
		{"dot-only serial", "", "..", clip("x", 1),
			"__/ch01/2026/03/07/20260307T225958Z_event_x.mp4", nil},
		{"missing id", "p", "S", clip("", 1), "", ErrInvalidClip},
		{"missing start", "p", "S", anr.Clip{ID: "x"}, "", ErrInvalidClip},
		{"missing serial", "p", "", clip("x", 1), "", ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ObjectKey(tt.prefix, tt.serial, tt.clip)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestConflictKeyAndMetadata(t *testing.T) {
	assert.Equal(t, "p/x_id.0123456789ab.mp4", ConflictKey("p/x_id.mp4", "0123456789abcdef"))
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", -7200))
	m := metadata(anr.Clip{ID: "c", Channel: 4, EventTypes: []string{"VMD", "linedetection"}, Start: start,
		End: start.Add(time.Minute), SHA256: "ABCD"})
	assert.Equal(t, map[string]string{"sha256": "abcd", "clip-id": "c", "channel": "4",
		"event-types": "VMD,linedetection", "start": "2026-01-02T05:04:05Z", "end": "2026-01-02T05:05:05Z"}, m)
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code} }

func statusErr(code int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("status")}}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"canceled", fmt.Errorf("put: %w", context.Canceled), ClassCanceled},
		{"deadline (request timeout)", fmt.Errorf("put: %w", context.DeadlineExceeded), ClassTransient},
		{"connection refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ClassTransient},
		{"connection reset", fmt.Errorf("x: %w", syscall.ECONNRESET), ClassTransient},
		{"unexpected EOF", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), ClassTransient},
		{"500", statusErr(500), ClassTransient},
		{"503", statusErr(503), ClassTransient},
		{"429", statusErr(429), ClassTransient},
		{"SlowDown", apiErr("SlowDown"), ClassTransient},
		{"InternalError", apiErr("InternalError"), ClassTransient},
		{"403 status", statusErr(403), ClassFatal},
		{"AccessDenied", apiErr("AccessDenied"), ClassFatal},
		{"InvalidAccessKeyId", apiErr("InvalidAccessKeyId"), ClassFatal},
		{"SignatureDoesNotMatch", apiErr("SignatureDoesNotMatch"), ClassFatal},
		{"NoSuchBucket", fmt.Errorf("put: %w", apiErr("NoSuchBucket")), ClassFatal},
		{"invalid options", ErrInvalidOptions, ClassFatal},
		{"conflict", fmt.Errorf("x: %w", ErrConflict), ClassClip},
		{"verify", fmt.Errorf("x: %w", ErrVerify), ClassClip},
		{"file missing", fmt.Errorf("%w: %w", ErrClipUnreadable, fs.ErrNotExist), ClassClip},
		{"bare path error", &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}, ClassClip},
		{"bad digest", apiErr("BadDigest"), ClassClip},
		{"content sha mismatch", apiErr("XAmzContentSHA256Mismatch"), ClassClip},
		{"other 4xx", statusErr(400), ClassClip},
		{"unknown", errors.New("something odd"), ClassTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want.String(), Classify(tt.err).String())
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	b := Backoff{}.withDefaults(time.Second, time.Minute)
	prev := time.Duration(0)
	for n := 1; n <= 40; n++ {
		for _, rnd := range []float64{0, 0.5, 0.999999} {
			d := b.Delay(n, rnd)
			assert.LessOrEqual(t, d, time.Minute, "n=%d rnd=%v", n, rnd)
			base := min(time.Duration(float64(time.Second)*float64(uint64(1)<<min(n-1, 30))), time.Minute)
			assert.GreaterOrEqual(t, d, time.Duration(float64(base)*0.8)-1, "n=%d rnd=%v", n, rnd)
		}
		d := b.Delay(n, 0)
		assert.GreaterOrEqual(t, d, prev, "no jitter: never shrinks")
		prev = d
	}
	assert.Equal(t, time.Duration(0), b.Delay(0, 0))
	assert.Equal(t, time.Second, b.Delay(1, 0))
	assert.Equal(t, 4*time.Second, b.Delay(3, 0))
	assert.Equal(t, time.Minute, b.Delay(1000, 0))

	fixed := Backoff{Initial: time.Second, Max: 3 * time.Second, Multiplier: 3, Jitter: -1}.withDefaults(0, 0)
	assert.Equal(t, []time.Duration{time.Second, 3 * time.Second, 3 * time.Second},
		[]time.Duration{fixed.Delay(1, .9), fixed.Delay(2, .9), fixed.Delay(3, .9)})
}

func TestBandwidthLimiter(t *testing.T) {
	tests := []struct {
		name    string
		rate    int64
		size    int
		readers int
	}{
		{"one reader 256KiB/s", 256 << 10, 1 << 20, 1},
		{"two readers share the cap", 256 << 10, 1 << 20, 2},
		{"tiny cap uses a minimum burst", 8 << 10, 64 << 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(true)
			lim := newLimiter(tt.rate, clock)
			start := clock.Now()
			var sent int
			for i := 0; i < tt.readers; i++ {
				b := &body{ctx: context.Background(), r: bytes.NewReader(make([]byte, tt.size)), lim: lim,
					count: func(n int) { sent += n }}
				n, err := io.Copy(io.Discard, b)
				require.NoError(t, err)
				require.EqualValues(t, tt.size, n)
			}
			total := float64(tt.size * tt.readers)
			elapsed := clock.Now().Sub(start).Seconds()
			want := (total - lim.burst) / float64(tt.rate) // the first burst is free
			assert.InDelta(t, want, elapsed, want*0.05+0.01, "elapsed %.2fs", elapsed)
			assert.Equal(t, tt.size*tt.readers, sent)
		})
	}
	t.Run("cancel while waiting", func(t *testing.T) {
		lim := newLimiter(1024, newFakeClock(false)) // manual clock: never advances
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		b := &body{ctx: ctx, r: bytes.NewReader(make([]byte, 1<<20)), lim: lim}
		_, err := io.Copy(io.Discard, b)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestMeter(t *testing.T) {
	clock := newFakeClock(false)
	m := newMeter(10 * time.Second)
	for range 10 {
		m.add(clock.Now(), 1000)
		clock.Advance(time.Second)
	}
	assert.InDelta(t, 900.0, m.rate(clock.Now()), 0.1) // the oldest second fell out
	clock.Advance(time.Minute)
	assert.Zero(t, m.rate(clock.Now()))
}

func TestOptionsValidate(t *testing.T) {
	err := Options{PartSize: 1 << 20, Concurrency: -1}.Validate()
	require.ErrorIs(t, err, ErrInvalidOptions)
	for _, want := range []string{"Client", "Bucket", "Serial", "PartSize", "negative"} {
		assert.Contains(t, err.Error(), want)
	}
	o := Options{Client: newFakeS3(), Bucket: "b", Serial: "s"}
	require.NoError(t, o.Validate())
	d := o.withDefaults()
	assert.EqualValues(t, 16<<20, d.MultipartThreshold)
	assert.EqualValues(t, 8<<20, d.PartSize)
	assert.Equal(t, 2, d.Concurrency)
	assert.Equal(t, 3, d.DownAfter)
}

func TestPartSizeGrowsPastMaxParts(t *testing.T) {
	u, err := New(Options{Client: newFakeS3(), Bucket: "b", Serial: "s", PartSize: MinPartSize})
	require.NoError(t, err)
	assert.EqualValues(t, MinPartSize, u.partSize(10<<20))
	ps := u.partSize(100 << 30) // 100 GiB
	assert.LessOrEqual(t, (100<<30+ps-1)/ps, int64(maxParts))
	assert.Equal(t, int64(-1), expectedPartSize(10, 5, 3))
	assert.Equal(t, int64(5), expectedPartSize(10, 5, 2))
	assert.Equal(t, int64(2), expectedPartSize(12, 5, 3))
}
