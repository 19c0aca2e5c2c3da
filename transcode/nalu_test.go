package transcode

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/media"
)

func TestSplitAnnexB(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"no start code", []byte{1, 2, 3}, nil},
		{"4-byte", []byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3}, [][]byte{{0x67, 1, 2}, {0x68, 3}}},
		{"3-byte", []byte{0, 0, 1, 0x65, 9, 0, 0, 1, 0x41}, [][]byte{{0x65, 9}, {0x41}}},
		{"leading junk", []byte{7, 7, 0, 0, 1, 0x09, 0xf0}, [][]byte{{0x09, 0xf0}}},
		{"trailing zeros", []byte{0, 0, 1, 0x41, 5, 0, 0, 0, 0, 1, 0x41, 6}, [][]byte{{0x41, 5}, {0x41, 6}}},
		{"empty units", []byte{0, 0, 1, 0, 0, 1, 0x41, 0, 0, 1}, [][]byte{{0x41}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, SplitAnnexB(tc.in))
		})
	}
}

func TestSplitLengthPrefixed(t *testing.T) {
	got, err := splitLengthPrefixed([]byte{0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41}, 4)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{{0x65, 1}, {0x41}}, got)
	got, err = splitLengthPrefixed([]byte{0, 2, 0x65, 1}, 2)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{{0x65, 1}}, got)
	_, err = splitLengthPrefixed([]byte{0, 0, 0, 9, 0x65}, 4)
	assert.Error(t, err)
	_, err = splitLengthPrefixed([]byte{0, 0}, 4)
	assert.Error(t, err)
	_, err = splitLengthPrefixed([]byte{0, 0, 0}, 3)
	assert.Error(t, err)
}

func TestParseAnnexBAccessUnits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec media.Codec
	}{
		{"h264_360p.h264", media.CodecH264},
		{"h265_360p.h265", media.CodecH265},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := readMedia(t, tc.name)
			info, aus, err := ParseAnnexB(tc.codec, data, 40*time.Millisecond)
			require.NoError(t, err)
			require.Len(t, aus, 150)
			assert.Equal(t, tc.codec, info.Codec)
			assert.Equal(t, [2]int{640, 360}, [2]int{info.Width, info.Height})
			keys := 0
			total := 0
			for i, au := range aus {
				assert.Equal(t, time.Duration(i)*40*time.Millisecond, au.PTS)
				vcl := 0
				for _, n := range au.NALUs {
					if isVCL(tc.codec, n) {
						vcl++
					}
					total += len(n)
				}
				assert.Positive(t, vcl, "AU %d has a picture", i)
				if au.Key {
					keys++
				}
			}
			assert.True(t, aus[0].Key)
			assert.Positive(t, keys)
			// Every byte except start codes is kept.
			assert.Equal(t, len(data)-4*bytes.Count(data, []byte{0, 0, 0, 1})-3*(bytes.Count(data, []byte{0, 0, 1})-bytes.Count(data, []byte{0, 0, 0, 1})), total)
		})
	}
	_, _, err := ParseAnnexB(media.CodecUnknown, nil, time.Second)
	require.ErrorIs(t, err, ErrUnsupportedCodec)
	_, _, err = ParseAnnexB(media.CodecH264, []byte{0, 0, 1, 0x41, 0x9a}, 40*time.Millisecond)
	require.ErrorIs(t, err, ErrNoVideo, "no keyframe")
}

func TestParseAnnexBSkipsToKeyframe(t *testing.T) {
	data := readMedia(t, "h264_360p.h264")
	_, aus, err := ParseAnnexB(media.CodecH264, data, 40*time.Millisecond)
	require.NoError(t, err)
	// Cut the stream after the first picture: parsing must restart at the next IDR.
	var stream []byte
	for _, au := range aus[1:] {
		stream = append(stream, annexBPacket(nil, au.NALUs)...)
	}
	_, got, err := ParseAnnexB(media.CodecH264, stream, 40*time.Millisecond)
	require.NoError(t, err)
	require.NotEmpty(t, got)
	assert.True(t, got[0].Key)
	assert.Less(t, len(got), len(aus)-1)
}

func FuzzSplitAnnexB(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68})
	f.Add([]byte{0, 0, 1, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range SplitAnnexB(b) {
			if len(n) == 0 {
				t.Fatal("empty unit")
			}
		}
		_, _ = splitLengthPrefixed(b, 4)
		for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
			_, aus, err := ParseAnnexB(c, b, 40*time.Millisecond)
			if err == nil && !aus[0].Key {
				t.Fatal("first unit not a keyframe")
			}
		}
	})
}
