// Package ingest owns the box's RTSP input: one supervised session per channel
// (gortsplib client over TCP) that depacketizes H.264 / H.265 into media.AccessUnit,
// learns the resolution from the SPS, keeps the channel's pre-roll ring, fans units out
// to subscribers through bounded queues, and cuts clips (ring + live tail) as
// transcode.Source values. It never decodes video.
//
// # Lifecycle
//
// New validates Options; Run keeps the channel connected until its context ends,
// reconnecting with capped exponential backoff and jitter after a drop, a stall (no
// RTP packet for ReadTimeout) or a refused DESCRIBE. A session that streamed for
// HealthyAfter resets the backoff. One channel's failures never touch another's.
//
// # Units
//
// Units start at each session's first keyframe. Every keyframe carries its parameter
// sets (prepended when the camera sends them only in the SDP), so a consumer may start
// at any keyframe; access unit delimiters are dropped. PTS is one timeline per channel:
// a reconnect continues it by the outage's wall-clock length. Wall comes from
// Options.Now.
//
// # Admission
//
// Options.Admit is asked when the resolution is first learned (SDP or in-band SPS) and
// whenever it changes; a refusal closes the session, the channel shows StateRefused and
// retries after RefusedRetry.
//
// # Consumers
//
// Subscribe gives live units through a bounded queue: a full queue drops (counted) and
// the subscription skips to the next keyframe. Clip gives a transcode.Source that
// starts in the ring at the latest keyframe at or before a wall time and continues
// with the live tail; the snapshot and the subscription are taken atomically.
package ingest
