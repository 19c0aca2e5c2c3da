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
// # Errors
//
// Sentinels live in errors.go; ISAPI <ResponseStatus> bodies become *[StatusError],
// which also matches the sentinel for its HTTP status through errors.Is.
package isapi
