package daemon

import (
	"sort"

	"github.com/proconnect-oss/boxfw/box/admission"
	"github.com/proconnect-oss/boxfw/box/ring"
	"github.com/proconnect-oss/boxfw/box/status"
)

// Snapshot implements status.Source: the numbers of /v1/status and /metrics.
func (d *Daemon) Snapshot() status.Snapshot {
	sp := d.spool.Stats()
	d.mu.Lock()
	defer d.mu.Unlock()
	s := status.Snapshot{
		Serial: d.cfg.Box.Serial, Version: Version, StartedAt: d.started, Now: d.now(),
		OutputFPS: admission.OutputFPS(len(d.links)), Problems: append([]string(nil), d.problems...),
		ClipsInProgress: int(d.inFlight.Load()),
	}
	for _, l := range d.links {
		c := d.countsLocked(l.ID)
		ch := status.Channel{ID: l.ID, Device: l.Device, Resolution: l.Resolution, Subscribed: l.Uploads(),
			Events: copyCounts(c.events), ClipsMade: c.clipsMade, ClipsFailed: c.clipsFailed, Uploaded: c.uploaded,
			Evicted: c.evicted, NotSubscribed: c.notSubscribed, State: "stopped", Admission: "pending"}
		if p, ok := sp.PendingByChannel[l.ID]; ok {
			ch.Pending = int64(p.Count)
		}
		if cr := d.channels[l.ID]; cr != nil {
			ch.Subscribed = d.subscribed(cr)
			cr.mu.Lock()
			ch.Admitted, ch.Admission = cr.admitted, cr.admission
			cr.mu.Unlock()
			if cr.ing != nil {
				is := cr.ing.Stats()
				ch.URL, ch.State, ch.LastError = is.URL, is.State.String(), is.LastError
				if !ch.Admitted && ch.Admission != "pending" {
					ch.State = "refused"
				}
				if is.Width > 0 {
					ch.Codec, ch.Width, ch.Height = is.Codec.String(), is.Width, is.Height
				}
				ch.Connects, ch.AccessUnits, ch.Bytes = int64(is.Connects), int64(is.AUs), int64(is.Bytes)
				if is.Connects > 0 {
					ch.Reconnects = int64(is.Connects - 1)
				}
				ch.RingSeconds, ch.RingBytes = is.Ring.Span().Seconds(), int64(is.Ring.Bytes)
				// Ageing out is the ring working; bytes, no-keyframe and reset drops are losses.
				ch.RingDropped = int64(is.Ring.Dropped[ring.ReasonBytes].AUs + is.Ring.Dropped[ring.ReasonNoKey].AUs +
					is.Ring.Dropped[ring.ReasonReset].AUs)
			} else if !ch.Admitted {
				ch.State = "refused"
			}
		}
		s.Channels = append(s.Channels, ch)
	}
	s.Spool = status.Spool{Bytes: sp.BytesUsed, BudgetBytes: sp.MaxBytes, Pending: int64(sp.Pending), PendingBytes: sp.PendingBytes,
		Uploading: int64(sp.Uploading), Uploaded: int64(sp.Uploaded), OldestPendingAge: sp.OldestPendingAge.Seconds(),
		Evicted: map[string]int64{}, Lost: int64(sp.Lost)}
	for r, n := range sp.EvictedByReason {
		s.Spool.Evicted[string(r)] = int64(n)
	}
	s.Uplink = status.Uplink{State: "disabled", Failures: map[string]int64{}}
	if d.up != nil {
		us := d.up.Stats()
		s.Uplink = status.Uplink{State: string(us.State), Endpoint: d.upEP, ThroughputBps: us.Throughput, Uploaded: us.Uploaded,
			UploadedBytes: us.Bytes, Retries: us.Retries, LastError: us.LastError,
			Failures: map[string]int64{"transient": us.Failures.Transient, "fatal": us.Failures.Fatal, "clip": us.Failures.Clip}}
	}
	s.Cloud = status.Cloud{State: "disabled"}
	if d.cloud != nil {
		s.Cloud = d.cloud.status()
	}
	names := make([]string, 0, len(d.devices))
	for n := range d.devices {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.Devices = append(s.Devices, d.devices[n].snapshot())
	}
	return s
}

func (dr *deviceRun) snapshot() status.Device {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	out := status.Device{Name: dr.cfg.Name, Model: dr.info.Model, Serial: dr.info.SerialNumber,
		Hikvision: dr.vendor == admission.VendorHikvision, Refusal: dr.refusal, DiskError: dr.diskError,
		Events: map[string]int64{}, EventsState: "connecting", LastError: dr.lastErr}
	for _, v := range dr.videoLoss {
		out.VideoLoss = out.VideoLoss || v
	}
	for _, v := range dr.tamper {
		out.Tamper = out.Tamper || v
	}
	if dr.stream != nil {
		st := dr.stream.Stats() // AlertStream.Stats is safe for concurrent use
		if st.Connected {
			out.EventsState = "connected"
		}
		for k, v := range st.EventsByType {
			out.Events[k] = int64(v)
		}
		out.Malformed, out.Reconnects = int64(st.Malformed), int64(st.Reconnects)
		if st.LastError != "" {
			out.LastError = st.LastError
		}
	}
	if dr.refusal != "" {
		out.EventsState = "refused"
	}
	return out
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
