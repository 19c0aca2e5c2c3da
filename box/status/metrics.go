package status

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// collector renders a Snapshot as Prometheus metrics at scrape time, so /metrics
// and /v1/status never disagree.
type collector struct{ src Source }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("boxfw_"+name, help, labels, nil)
}

var (
	dChanState     = desc("channel_up", "1 when the channel is streaming", "channel", "state")
	dChanAdmitted  = desc("channel_admitted", "1 when admission accepted the channel", "channel")
	dChanEvents    = desc("channel_events_total", "camera events seen", "channel", "type")
	dChanClips     = desc("channel_clips_total", "event clips by outcome", "channel", "outcome")
	dChanPending   = desc("channel_clips_pending", "clips waiting in the spool", "channel")
	dChanAU        = desc("channel_access_units_total", "access units received", "channel")
	dChanBytes     = desc("channel_bytes_total", "compressed bytes received", "channel")
	dChanReconn    = desc("channel_reconnects_total", "RTSP reconnects", "channel")
	dChanRingDrop  = desc("channel_ring_dropped_total", "access units dropped by the pre-roll ring", "channel")
	dSpoolBytes    = desc("spool_bytes", "bytes of clip files in the spool")
	dSpoolBudget   = desc("spool_budget_bytes", "spool disk budget")
	dSpoolPending  = desc("spool_pending_clips", "clips pending upload")
	dSpoolOldest   = desc("spool_oldest_pending_age_seconds", "age of the oldest pending clip")
	dSpoolEvicted  = desc("spool_evicted_total", "clips evicted by the disk budget", "reason")
	dSpoolLost     = desc("spool_lost_total", "indexed clips whose file vanished")
	dUplinkState   = desc("uplink_state", "1 for the current uplink state", "state")
	dUplinkTput    = desc("uplink_throughput_bytes_per_second", "recent upload throughput")
	dUplinkDone    = desc("uplink_uploaded_total", "clips confirmed in object storage")
	dUplinkBytes   = desc("uplink_uploaded_bytes_total", "bytes confirmed in object storage")
	dUplinkRetries = desc("uplink_retries_total", "upload retries")
	dUplinkFail    = desc("uplink_failures_total", "upload failures by class", "class")
	dOutputFPS     = desc("output_fps", "output frame rate fixed by the channel count")
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dChanState, dChanAdmitted, dChanEvents, dChanClips, dChanPending, dChanAU,
		dChanBytes, dChanReconn, dChanRingDrop, dSpoolBytes, dSpoolBudget, dSpoolPending, dSpoolOldest, dSpoolEvicted,
		dSpoolLost, dUplinkState, dUplinkTput, dUplinkDone, dUplinkBytes, dUplinkRetries, dUplinkFail, dOutputFPS} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Snapshot()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, x := range s.Channels {
		id := strconv.Itoa(x.ID)
		up := 0.0
		if x.State == "streaming" {
			up = 1
		}
		gauge(dChanState, up, id, x.State)
		gauge(dChanAdmitted, b2f(x.Admitted), id)
		for typ, n := range x.Events {
			counter(dChanEvents, float64(n), id, typ)
		}
		counter(dChanClips, float64(x.ClipsMade), id, "made")
		counter(dChanClips, float64(x.ClipsFailed), id, "failed")
		counter(dChanClips, float64(x.Uploaded), id, "uploaded")
		counter(dChanClips, float64(x.Evicted), id, "evicted")
		counter(dChanClips, float64(x.NotSubscribed), id, "not_subscribed")
		gauge(dChanPending, float64(x.Pending), id)
		counter(dChanAU, float64(x.AccessUnits), id)
		counter(dChanBytes, float64(x.Bytes), id)
		counter(dChanReconn, float64(x.Reconnects), id)
		counter(dChanRingDrop, float64(x.RingDropped), id)
	}
	gauge(dSpoolBytes, float64(s.Spool.Bytes))
	gauge(dSpoolBudget, float64(s.Spool.BudgetBytes))
	gauge(dSpoolPending, float64(s.Spool.Pending))
	gauge(dSpoolOldest, s.Spool.OldestPendingAge)
	for reason, n := range s.Spool.Evicted {
		counter(dSpoolEvicted, float64(n), reason)
	}
	counter(dSpoolLost, float64(s.Spool.Lost))
	for _, st := range []string{"ok", "degraded", "down", "disabled"} {
		gauge(dUplinkState, b2f(s.Uplink.State == st), st)
	}
	gauge(dUplinkTput, s.Uplink.ThroughputBps)
	counter(dUplinkDone, float64(s.Uplink.Uploaded))
	counter(dUplinkBytes, float64(s.Uplink.UploadedBytes))
	counter(dUplinkRetries, float64(s.Uplink.Retries))
	for class, n := range s.Uplink.Failures {
		counter(dUplinkFail, float64(n), class)
	}
	gauge(dOutputFPS, float64(s.OutputFPS))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
