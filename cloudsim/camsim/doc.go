// Package camsim simulates a Hikvision IP camera or NVR for tests, benchmarks and the
// demo: it owns the simulated device's RTSP server, its ISAPI HTTP API (Digest auth,
// deviceInfo, streaming channels, InputProxy, alertStream) and the test-only control
// API that drives failures and events. The box never imports it; they meet only over
// the wire, exactly as the box meets a real device.
//
// # RTSP
//
// Channel N (1-based) serves /Streaming/Channels/N01 (main) and /Streaming/Channels/N02
// (sub) over RTSP/TCP with Digest MD5 (Basic is also accepted, as on many cameras). Each
// path loops a raw Annex-B file from MediaDir at 25 fps against a monotonic clock; RTP
// timestamps (90 kHz) keep increasing across loops. Access units are split at AUDs (or at
// the first slice of a picture when a file has none); AUDs are not sent, and
// SPS/PPS(/VPS) are put in the SDP and repeated in-band before every keyframe, because
// that is what cameras do and what decoders joining mid-stream need.
//
// Every path is produced once and fanned out to all readers through one
// gortsplib.ServerStream, always while the simulator runs, so knobs act on a live stream:
// StopStream (path gone, DESCRIBE 404), StartStream, RestartStream (readers dropped,
// stream continues), Stall/Resume (no packets, connections stay open; the camera keeps
// "encoding" so timestamps jump on resume, as after a real network stall) and
// SendGarbage (valid RTP headers, random payloads).
//
// # ISAPI
//
// The HTTP listener serves /ISAPI/... behind HTTP Digest (MD5, qop=auth). The realm is
// hex-like, nonces are "hex:unixmillis" and go stale after Config.NonceTTL: a request
// with a stale nonce but otherwise correct digest gets 401 with stale="TRUE" (quoted and
// upper case, as real devices send it). Every 401 carries a <userCheck> XML body and
// every error a <ResponseStatus>.
//
// Manufacturer "other" makes the device pretend to be a non-Hikvision device that still
// answers ISAPI (as OEM clones do). What tells them apart in deviceInfo:
//   - a <manufacturer> element whose value is not "hikvision" (Hikvision firmware sends
//     no such element, or "hikvision"), and
//   - a model and serialNumber without the Hikvision "DS-"/"IDS-" prefix.
//
// The Server header also differs, but a box should decide from deviceInfo alone.
//
// # alertStream
//
// GET /ISAPI/Event/notification/alertStream is a never-ending multipart/mixed response,
// flushed per part. Each part is a boundary line, Content-Type, Content-Length (which
// counts the body's trailing line end, as real cameras do) and the body; the next part
// follows at once and there is never a closing boundary.
//
// Style "camera": chunked HTTP/1.1, CRLF, a videoloss/inactive/activePostCount 0
// heartbeat every Heartbeat (10 s), active events repeated every Repeat (1 s) and an
// explicit inactive when they end. Style "nvr": HTTP/1.0 close-delimited, LF only, an
// XML prolog, channelID and dynChannelID, repeats while active, never inactive, no
// heartbeat; StopStream makes the channel report videoloss active every Repeat until
// StartStream. activePostCount is one counter shared by all event types, reset when no
// event is active. Channel 0 means the device itself.
//
// The framing and content of a style come from its AlertQuirks preset (CameraQuirks,
// NVRQuirks); every quirk can be switched on its own: boundary mismatch, duplicated
// boundary lines, LF bodies, XML prolog, a JPEG part after smart events, missing
// Content-Length, an unescaped '&', six namespaces, channelID/dynChannelID/empty/32+N,
// four dateTime offset styles, old path only, close-delimited bodies, a single
// heartbeat, no heartbeats during events. Quirks are read when a connection opens, so
// a change applies to the next connection (POST /sim/alert/disconnect forces one).
// Smart events (linedetection, fielddetection, regionEntrance, regionExiting) carry a
// DetectionRegionList (2 points for a line, 4 for a field, 0..1000, TargetRect as 0..1
// floats) and targetType.
//
// # Control API (test knob, no authentication)
//
// The same HTTP listener serves a plain JSON control API under /sim/. It has no
// authentication on purpose: it is a test knob for the simulator, bound to 127.0.0.1,
// and nothing like it exists on a real device. Routes:
//
//	GET  /sim/status                          state of streams, events, alert sessions
//	POST /sim/streams/{ch}/stop               StopStream
//	POST /sim/streams/{ch}/start              StartStream
//	POST /sim/streams/{ch}/restart            RestartStream
//	POST /sim/streams/{ch}/stall?seconds=S    Stall (S absent or 0: until resume)
//	POST /sim/streams/{ch}/resume             Resume
//	POST /sim/streams/{ch}/garbage?packets=N  SendGarbage
//	POST /sim/events    {"channel":1,"type":"VMD","seconds":5}   Trigger
//	DELETE /sim/events                        end every active event
//	POST /sim/script    [{"at":0.5,"channel":1,"type":"VMD","seconds":3}, ...]
//	GET  /sim/alert/quirks                    current AlertQuirks (JSON)
//	PUT  /sim/alert/quirks                    merge JSON fields into AlertQuirks
//	POST /sim/alert/disconnect                drop every open alertStream
//
// {ch} is the 1-based channel; stream knobs act on both its main and sub stream.
package camsim
