package isapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAlertCases(t *testing.T) {
	received := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	for _, tc := range alertCases() {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseAlert([]byte(tc.body), received, tc.opts)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, received, e.Received)
			tc.check(t, e)
		})
	}
}

func TestParseDeviceTime(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // RFC 3339 in UTC, "" for an error
		hasZone bool
	}{
		{"2026-11-27T09:30:00+08:00", "2026-11-27T01:30:00Z", true},
		{"2026-11-27T09:30:00-8:00", "2026-11-27T17:30:00Z", true},
		{"2026-11-27T09:30:00+0530", "2026-11-27T04:00:00Z", true},
		{"2026-11-27T09:30:00+8", "2026-11-27T01:30:00Z", true},
		{"2026-11-27T11:46:3100:00", "2026-11-27T11:46:31Z", true},
		{"2026-11-27T11:46:3108:00", "2026-11-27T03:46:31Z", true},
		{"2026-11-27T09:30:00Z", "2026-11-27T09:30:00Z", true},
		{"2026-11-27T09:30:00", "2026-11-27T09:30:00Z", false},
		{"2026-11-27 09:30:00", "2026-11-27T09:30:00Z", false},
		{"2026-11-27T09:30:00.250+01:00", "2026-11-27T08:30:00.25Z", true},
		{"2026-11-27T09:30:00+25:00", "", false},
		{"2026-11-27T09:30:00 junk", "", false},
		{"2026-13-27T09:30:00", "", false},
		{"", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, hasZone, err := ParseDeviceTime(tc.in)
			if tc.want == "" {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.UTC().Format(time.RFC3339Nano))
			assert.Equal(t, tc.hasZone, hasZone)
		})
	}
}

func TestEventHelpers(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		clip bool
	}{
		{"VMD", true}, {"vmd", true}, {"linedetection", true}, {"LineDetection", true},
		{"fielddetection", true}, {"FIELDDETECTION", true}, {"regionEntrance", false},
		{"videoloss", false}, {"IO", false}, {"", false},
	} {
		t.Run(tc.typ, func(t *testing.T) { assert.Equal(t, tc.clip, IsClipEvent(tc.typ)) })
	}
	assert.True(t, EventTypeIs("tamperDetection", "tamperdetection"))
}

func TestRectNormalized(t *testing.T) {
	assert.Equal(t, Rect{100, 200, 300, 400}, Rect{0.1, 0.2, 0.3, 0.4}.Normalized())
	assert.Equal(t, Rect{100, 200, 300, 400}, Rect{100, 200, 300, 400}.Normalized())
}
