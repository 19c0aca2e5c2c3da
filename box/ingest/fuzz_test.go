package ingest

import (
	"testing"
	"time"

	"github.com/proconnect-oss/boxfw/box/media"
)

// FuzzHandleAU feeds arbitrary NAL units (as a hostile camera could) through the
// depacketized-unit path: parameter-set parsing, keyframe detection, admission and
// publishing must never panic.
func FuzzHandleAU(f *testing.F) {
	for _, file := range []string{"h264_360p.h264", "h265_360p.h265"} {
		aus := loadAUs(f, file)
		for _, au := range aus[:2] {
			for _, n := range au {
				f.Add(codecOf(file) == media.CodecH265, n, []byte{0x65, 0x88})
			}
		}
	}
	f.Fuzz(func(t *testing.T, h265 bool, a, b []byte) {
		codec := media.CodecH264
		if h265 {
			codec = media.CodecH265
		}
		c, err := New(Options{URL: "rtsp://127.0.0.1:1/x", Now: time.Now,
			Admit: func(media.StreamInfo) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		s := &session{c: c, codec: codec, stop: make(chan sessionResult, 1)}
		s.handleAU([][]byte{a, b}, 0)
		s.handleAU([][]byte{b, a, nil}, time.Millisecond)
		for _, au := range c.Ring().Snapshot() {
			_, _ = InfoOf(au)
		}
	})
}
