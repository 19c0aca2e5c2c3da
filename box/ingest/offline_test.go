package ingest

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/ingest/fakecam"
	"github.com/proconnect-oss/boxfw/box/media"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func loadAUs(t testing.TB, file string) [][][]byte {
	t.Helper()
	data, err := os.ReadFile(testenv.Media(t, file))
	require.NoError(t, err)
	aus := fakecam.SplitAccessUnits(data, media.CodecH265 == codecOf(file))
	require.NotEmpty(t, aus)
	return aus
}

func codecOf(file string) media.Codec {
	if file[len(file)-4:] == "h265" {
		return media.CodecH265
	}
	return media.CodecH264
}

// offline is a channel fed by hand through a session's depacketized-unit path, with a
// test clock: no network, instant.
type offline struct {
	c      *Channel
	s      *session
	now    time.Time
	pts    time.Duration
	admits []media.StreamInfo
	refuse func(media.StreamInfo) error
}

func newOffline(t *testing.T, codec media.Codec) *offline {
	o := &offline{now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	c, err := New(Options{Channel: 4, URL: "rtsp://127.0.0.1:1/x", Now: func() time.Time { return o.now },
		Logger: testLogger(t), Admit: func(in media.StreamInfo) error {
			o.admits = append(o.admits, in)
			if o.refuse != nil {
				return o.refuse(in)
			}
			return nil
		}})
	require.NoError(t, err)
	o.c = c
	o.newSession(codec)
	return o
}

func (o *offline) newSession(codec media.Codec) {
	o.s = &session{c: o.c, codec: codec, stop: make(chan sessionResult, 1)}
}

func (o *offline) feed(aus [][][]byte) {
	for _, au := range aus {
		o.s.handleAU(append([][]byte(nil), au...), o.pts)
		o.now = o.now.Add(40 * time.Millisecond)
		o.pts += 40 * time.Millisecond
	}
}

func TestInBandParameterSets(t *testing.T) {
	small, big := loadAUs(t, "h264_360p.h264"), loadAUs(t, "h264_1080p.h264")
	o := newOffline(t, media.CodecH264)
	sub := o.c.Subscribe(4096)
	defer sub.Close()

	o.feed(small[1:3]) // joined mid-GOP: nothing usable before a keyframe with parameters
	assert.Equal(t, uint64(2), o.c.Stats().SkippedNoKey)
	o.feed(small[:100])
	require.Len(t, o.admits, 1)
	assert.Equal(t, 640, o.admits[0].Width)

	o.feed(big[:60]) // the camera was reconfigured: new SPS in-band
	require.Len(t, o.admits, 2, "admission asked again on a size change")
	assert.Equal(t, 1920, o.admits[1].Width)
	assert.Equal(t, 1080, o.admits[1].Height)
	st := o.c.Stats()
	assert.Equal(t, 1920, st.Width)
	assert.Equal(t, uint64(160), st.AUs)

	close(sub.ch) // safe: nothing publishes any more
	var keys int
	for au := range sub.C() {
		for _, n := range au.NALUs {
			assert.NotEqual(t, kindAUD, classify(au.Codec, n), "AUDs are dropped")
		}
		if au.Key {
			keys++
			in, err := InfoOf(au)
			require.NoError(t, err, "keyframe at %v carries parameter sets", au.PTS)
			assert.Contains(t, []int{640, 1920}, in.Width)
		}
	}
	want := 0
	for _, k := range keyIndexes(media.CodecH264, small) {
		want += b2i(k < 100)
	}
	for _, k := range keyIndexes(media.CodecH264, big) {
		want += b2i(k < 60)
	}
	assert.Equal(t, want, keys)
	delete(o.c.subs, sub)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestInBandRefusal(t *testing.T) {
	small, big := loadAUs(t, "h264_360p.h264"), loadAUs(t, "h264_1080p.h264")
	o := newOffline(t, media.CodecH264)
	o.refuse = func(in media.StreamInfo) error {
		if in.Width > 1000 {
			return errors.New("too big")
		}
		return nil
	}
	o.feed(small[:10])
	o.feed(big[:10])
	select {
	case res := <-o.s.stop:
		assert.Equal(t, ReasonRefused, res.reason)
		assert.ErrorIs(t, res.err, ErrRefused)
	default:
		t.Fatal("session not stopped")
	}
	assert.Equal(t, uint64(10), o.c.Stats().AUs, "nothing published after the refusal")
}

func TestClipOffline(t *testing.T) {
	small, big := loadAUs(t, "h264_360p.h264"), loadAUs(t, "h264_1080p.h264")
	ctx := context.Background()
	read := func(clip *Clip) []*media.AccessUnit {
		var aus []*media.AccessUnit
		for {
			au, err := clip.Next(ctx)
			if errors.Is(err, io.EOF) {
				return aus
			}
			require.NoError(t, err)
			aus = append(aus, au)
		}
	}

	keys := keyIndexes(media.CodecH264, small)
	require.GreaterOrEqual(t, len(keys), 3)
	require.Less(t, keys[2], 150)
	at := func(i int) time.Duration { return time.Duration(i) * 40 * time.Millisecond }
	o := newOffline(t, media.CodecH264)
	start := o.now
	o.feed(small[:150]) // 6 s in the ring, keyframes about every 2 s

	// From between keyframes: starts at the one before; Until in the ring's past.
	from := start.Add(at(keys[1]) + time.Second)
	clip := o.c.Clip(ClipOptions{From: from, Until: from.Add(2 * time.Second)})
	in, err := clip.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, 640, in.Width)
	aus := read(clip)
	require.NotEmpty(t, aus)
	assert.Equal(t, start.Add(at(keys[1])), aus[0].Wall, "the latest keyframe at or before From")
	assert.Equal(t, from.Add(2*time.Second), aus[len(aus)-1].Wall, "the last unit at or before Until")
	assert.Len(t, aus, 25+50+1)

	// Duration spanning ring and live tail; the stream then changes size: the clip ends
	// before the first keyframe of the new size.
	clip = o.c.Clip(ClipOptions{From: start.Add(at(keys[2]) + time.Second), Duration: 10 * time.Second})
	o.feed(small[150:])
	o.newSession(media.CodecH264) // camera reconfigured and restarted
	o.feed(big[:30])
	aus = read(clip)
	require.NotEmpty(t, aus)
	assert.Equal(t, start.Add(at(keys[2])), aus[0].Wall)
	assert.Len(t, aus, len(small)-keys[2], "the keyframe through the last 360p unit")
	for i := 1; i < len(aus); i++ {
		assert.Greater(t, aus[i].PTS, aus[i-1].PTS)
	}
	assert.Equal(t, 0, o.c.Stats().Subscribers, "an ended clip releases its subscription")

	// A clip on a stopped channel ends with ErrStopped instead of waiting forever.
	o.c.stop()
	clip = o.c.Clip(ClipOptions{From: o.now}) // the 1080p GOP, then the end of the channel
	for {
		_, err := clip.Next(ctx)
		if err != nil {
			assert.ErrorIs(t, err, ErrStopped)
			break
		}
	}
}

// keyIndexes returns the indexes of the keyframes of a split file.
func keyIndexes(codec media.Codec, aus [][][]byte) []int {
	var out []int
	for i, au := range aus {
		for _, n := range au {
			if classify(codec, n) == kindKey {
				out = append(out, i)
				break
			}
		}
	}
	return out
}
