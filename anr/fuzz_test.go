package anr

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseClipFileName: recovery parses whatever it finds in clips/; it must never
// panic, and whatever it accepts must re-encode to a name that parses to the same.
func FuzzParseClipFileName(f *testing.F) {
	f.Add("20261127T092304123456Z-3f9a1c0b2d4e_c3_VMD+linedetection_1764235384000000000_1764235394000000000.mp4")
	f.Add("20261127T092304123456Z-3f9a1c0b2d4e_c0_fielddetection_-5_0.mp4")
	f.Add("20261127T092304123456Z-3f9a1c0b2d4e.mp4.tmp")
	f.Add("x_c_._._.mp4")
	f.Fuzz(func(t *testing.T, name string) {
		id, m, err := parseClipFileName(name)
		if err != nil {
			return
		}
		id2, m2, err := parseClipFileName(clipFileName(id, m))
		require.NoError(t, err)
		require.Equal(t, id, id2)
		require.Equal(t, m, m2)
	})
}
