package status

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fixed Snapshot

func (f fixed) Snapshot() Snapshot { return Snapshot(f) }

func TestStatusAndMetricsAgree(t *testing.T) {
	snap := Snapshot{
		Serial: "PCB1", OutputFPS: 10,
		Channels: []Channel{{ID: 1, State: "streaming", Admitted: true, Admission: "admitted", Codec: "H.265", Width: 2560, Height: 1440,
			Events: map[string]int64{"VMD": 3, "linedetection": 1}, ClipsMade: 2, Uploaded: 1, Pending: 1, AccessUnits: 500}},
		Spool:  Spool{Bytes: 1234, BudgetBytes: 1 << 30, Pending: 1, Evicted: map[string]int64{"budget": 2}, OldestPendingAge: 12.5},
		Uplink: Uplink{State: "degraded", Uploaded: 1, Failures: map[string]int64{"transient": 4}},
	}
	srv := httptest.NewServer(Handler(fixed(snap)))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/v1/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var got Snapshot
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, snap.Channels[0].Events, got.Channels[0].Events)
	assert.Equal(t, "degraded", got.Uplink.State)

	resp2, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp2.Body.Close()
	body, _ := io.ReadAll(resp2.Body)
	text := string(body)
	for _, line := range []string{
		`boxfw_channel_events_total{channel="1",type="VMD"} 3`,
		`boxfw_channel_clips_total{channel="1",outcome="made"} 2`,
		`boxfw_channel_up{channel="1",state="streaming"} 1`,
		`boxfw_spool_evicted_total{reason="budget"} 2`,
		`boxfw_spool_oldest_pending_age_seconds 12.5`,
		`boxfw_uplink_state{state="degraded"} 1`,
		`boxfw_uplink_state{state="ok"} 0`,
		`boxfw_uplink_failures_total{class="transient"} 4`,
		`boxfw_output_fps 10`,
	} {
		assert.True(t, strings.Contains(text, line), "metrics lack %q", line)
	}
}
