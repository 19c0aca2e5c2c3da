package admission

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOutputFPS(t *testing.T) {
	for _, tc := range []struct{ linked, fps int }{
		{0, 10}, {1, 10}, {2, 10}, {3, 10}, {4, 10}, {5, 10}, {6, 8}, {7, 7}, {8, 6}, {9, 6},
	} {
		assert.Equal(t, tc.fps, OutputFPS(tc.linked), "linked=%d", tc.linked)
	}
}

func hik(id, w, h int) Channel { return Channel{ID: id, Vendor: VendorHikvision, Width: w, Height: h} }

func repeat(n, w, h int) []Channel {
	var cs []Channel
	for i := 1; i <= n; i++ {
		cs = append(cs, hik(i, w, h))
	}
	return cs
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		chans   []Channel
		refused map[int]error // channel ID -> rule
		msg     map[int]string
	}{
		{name: "2MP x 8 all admitted", chans: repeat(8, 1920, 1080)},
		{name: "2MP x 9, 9th refused by count", chans: repeat(9, 1920, 1080),
			refused: map[int]error{9: ErrChannelCount},
			msg:     map[int]string{9: "admission: channel 9 refused: channel count 9 exceeds maximum 8"}},
		{name: "4MP x 4 all admitted", chans: repeat(4, 2560, 1440)},
		{name: "4MP x 5, 5th refused", chans: repeat(5, 2560, 1440),
			refused: map[int]error{5: ErrPixelBudget},
			msg: map[int]string{5: "admission: channel 5 refused: total input pixels 14745600 + 3686400 " +
				"exceeds budget 16588800 (8 x 1920x1080)"}},
		{name: "8MP x 2 admitted", chans: repeat(2, 3840, 2160)},
		{name: "8MP x 3, 3rd refused", chans: repeat(3, 3840, 2160),
			refused: map[int]error{3: ErrPixelBudget}},
		{name: "4K DCI refused", chans: []Channel{hik(1, 4096, 2160)},
			refused: map[int]error{1: ErrResolution},
			msg: map[int]string{1: "admission: channel 1 refused: resolution 4096x2160 (8847360 pixels) " +
				"exceeds maximum 3840x2160 (8294400 pixels, 8 MP)"}},
		{name: "12MP refused", chans: []Channel{hik(1, 4000, 3000)}, refused: map[int]error{1: ErrResolution}},
		{name: "portrait 8MP fine", chans: []Channel{hik(1, 2160, 3840)}},
		{name: "too tall refused", chans: []Channel{hik(1, 1080, 4000)}, refused: map[int]error{1: ErrResolution}},
		{name: "third party refused, others kept", chans: []Channel{hik(1, 1920, 1080),
			{ID: 2, Vendor: VendorOther, Width: 1920, Height: 1080}, hik(3, 1920, 1080)},
			refused: map[int]error{2: ErrVendor}},
		{name: "unknown vendor refused", chans: []Channel{{ID: 1, Width: 1920, Height: 1080}},
			refused: map[int]error{1: ErrVendor}},
		{name: "unknown resolution refused", chans: []Channel{hik(1, 0, 0)},
			refused: map[int]error{1: ErrUnknownResolution}},
		{name: "judged in channel order, not slice order",
			chans:   []Channel{hik(3, 3840, 2160), hik(2, 3840, 2160), hik(1, 3840, 2160)},
			refused: map[int]error{3: ErrPixelBudget}},
		{name: "refused big channel leaves room for a later small one",
			chans:   []Channel{hik(1, 3840, 2160), hik(2, 3840, 2160), hik(3, 3840, 2160), hik(4, 0, 0)},
			refused: map[int]error{3: ErrPixelBudget, 4: ErrUnknownResolution}},
		{name: "mixed 8MP + 4MP x 2 + 2MP fits exactly",
			chans: []Channel{hik(1, 3840, 2160), hik(2, 2560, 1440), hik(3, 2560, 1440), hik(4, 1280, 720)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verdicts := Plan(tc.chans)
			require.Len(t, verdicts, len(tc.chans))
			for i, c := range tc.chans {
				rule, refused := tc.refused[c.ID]
				if !refused {
					assert.NoError(t, verdicts[i], "channel %d", c.ID)
					continue
				}
				require.Error(t, verdicts[i], "channel %d", c.ID)
				assert.ErrorIs(t, verdicts[i], rule, "channel %d", c.ID)
				var re *RefusedError
				require.True(t, errors.As(verdicts[i], &re))
				assert.Equal(t, c.ID, re.Channel)
				if want, ok := tc.msg[c.ID]; ok {
					assert.EqualError(t, verdicts[i], want)
				}
			}
		})
	}
}

func TestSet(t *testing.T) {
	s := NewSet()
	for i := 1; i <= 4; i++ {
		require.NoError(t, s.Admit(hik(i, 2560, 1440)))
	}
	assert.Equal(t, 10, s.FPS())
	assert.ErrorIs(t, s.Admit(hik(5, 2560, 1440)), ErrPixelBudget)
	assert.Equal(t, 4, s.Linked(), "admitted channels keep their place")

	// Re-admitting an admitted channel judges it against the others only.
	require.NoError(t, s.Admit(hik(4, 2560, 1440)))
	// Channel 4 grows to 8 MP: it no longer fits and loses its place.
	assert.ErrorIs(t, s.Admit(hik(4, 3840, 2160)), ErrPixelBudget)
	assert.Equal(t, 3, s.Linked())
	require.NoError(t, s.Admit(hik(5, 2560, 1440)))

	s.Release(1)
	s.Release(2)
	assert.Equal(t, 2, s.Linked())
	for i := 10; i < 16; i++ {
		require.NoError(t, s.Admit(hik(i, 640, 360)))
	}
	assert.Equal(t, 8, s.Linked())
	assert.Equal(t, 6, s.FPS())
	assert.ErrorIs(t, s.Admit(hik(16, 640, 360)), ErrChannelCount)
}
