// Package isapi owns the box's conversation with Hikvision devices over ISAPI:
// an HTTP Digest client for discovery (deviceInfo, streaming channels, NVR IP
// channels) and the long-lived alertStream that carries motion and smart events.
//
// # Why not the standard library
//
// Real devices bend HTTP and MIME in ways net/http and mime/multipart do not
// forgive (see docs/isapi.md). Digest auth is implemented here because net/http
// has none, and the alertStream body is read by [MultipartReader], which trusts
// Content-Length, tolerates duplicated and mismatched boundaries, LF-only bodies
// and never-closed streams, and hands out each part as soon as its bytes arrive.
//
// # Events
//
// [ParseAlert] turns an EventNotificationAlert into an [Event] without trusting
// namespaces, escaping or the device's time format. [AlertStream] holds one
// alertStream per device, reconnects with capped, jittered backoff and counts
// what it sees ([StreamStats]).
//
// # Channels and liveness
//
// Event.Channel follows ParseOptions.ResolveChannel: dynChannelID, else
// channelID, else 0 for the device, minus IPChannelOffset for NVRs that number IP
// channel N as 32+N (AutoIPChannelOffset picks it from the device). Liveness
// relies on TCP keepalive (NewHTTPClient) and reconnects, never on a heartbeat
// timer: some devices send one heartbeat and then nothing for minutes.
//
// # Errors
//
// Sentinels live in errors.go; ISAPI <ResponseStatus> bodies become *[StatusError],
// which also matches the sentinel for its HTTP status through errors.Is.
//
// # Tests
//
// One table of alertStream bodies and one of alert documents (cases_test.go)
// drive the unit tests, the fuzz seeds and testdata/fuzz. Fuzz locally with
//
//	go test -run '^$' -fuzz '^FuzzMultipartReader$' -fuzztime 60s ./box/isapi
//	go test -run '^$' -fuzz '^FuzzParseAlert$' -fuzztime 60s ./box/isapi
//
// Integration tests build cmd/camsim and cmd/boxd and talk to them over
// loopback; -short skips them.
package isapi
