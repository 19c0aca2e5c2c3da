// Package uplink owns the drain of the ANR spool to S3-compatible object storage: it
// takes clips from a Queue (the spool), uploads each under a deterministic key,
// confirms the stored object's size and SHA-256, and only then tells the spool the clip
// may leave the disk.
//
// # Object keys
//
//	<prefix>/<serial>/ch<NN>/<YYYY>/<MM>/<DD>/<start>_<events>_<clip id>.mp4
//
// The date path and <start> (20060102T150405Z) are the clip start in UTC, so a day's
// clips of one channel list together and sort by time. <events> is the clip's ISAPI
// event types lowercased, reduced to [a-z0-9], de-duplicated, sorted and joined by '-'
// ("linedetection-vmd"); a clip without event types gets "event". Lowercase because
// ISAPI spells the same type with varying case across firmware ("VMD", "vmd"), sorted
// so the key does not depend on the order the events arrived in. An empty prefix means
// no leading slash. The clip id ends the name so that keys are unique per clip and a
// retry of the same clip always targets the same key, which is what makes uploads
// idempotent.
//
// # Integrity and idempotency
//
// Small clips go in one PutObject with If-None-Match: * (create only, never
// overwrite). The request is signed with the spool's recorded SHA-256 as the payload
// hash, so the server itself rejects a body that differs from what the spool recorded
// (a file corrupted on disk never reaches the cloud as if it were good). A 412 means the
// key exists: a HEAD compares its size and sha256 metadata; the same content is a
// successful retry, different content is ErrConflict. Clips of MultipartThreshold and
// more use a multipart upload driven by hand: the UploadId and every part's ETag are
// saved in the spool before and after each step, so an upload interrupted by a restart
// resumes with the same UploadId after reconciling with ListParts (the server's list is
// the truth). Every upload ends with a HEAD that must show the expected size and
// sha256; only then is the clip reported Uploaded.
//
// # Conflicts
//
// A conflict means the same clip id was produced twice with different content (for
// example a spool rebuilt after a crash). The existing object is never overwritten.
// With ConflictSuffix (the default) the clip is uploaded next to it as
// "<key without .mp4>.<first 12 hex of its sha256>.mp4", which is itself deterministic
// and idempotent, the conflict is logged at error level and counted; with ConflictFail
// the clip is treated as a clip error (see below).
//
// # Failures and outages
//
// Errors are classed (Classify): transient (network, timeouts, 5xx, throttling), fatal
// (credentials, permissions, missing bucket: nothing can upload until someone fixes
// the configuration) and clip (this clip only: file missing or corrupt, conflict,
// verification mismatch). The retry policy reads only the class. Transient failures
// back off (capped exponential with jitter) and move the state from ok to degraded,
// then to down after DownAfter consecutive failures; a fatal error goes down at once.
// While down no clip is pulled: one worker probes the bucket (HeadBucket) on the same
// backoff. The first success makes the state degraded and the workers drain at full
// speed (no pause between clips); the first confirmed upload makes it ok. The failure
// count is kept until then, so an error a HeadBucket cannot see (a policy that denies
// PutObject only) goes straight back down on a longer backoff instead of cycling.
// Clips whose cooldown came from the outage are forgiven when the probe succeeds.
//
// Every failed attempt releases the clip back to the spool with the cause (the spool
// owns deletion and eviction, so it may drop a clip whose cause is ErrClipUnreadable),
// and the clip gets its own cooldown (ClipBackoff, growing with its consecutive
// failures). If the spool hands back a clip that is still cooling down, the uploader
// holds it without a request until the cooldown ends, so one bad clip is never
// hammered and never stalls the others. Held clips are "uploading" in the spool and so
// cannot be evicted: at most MaxHeld are held (past that a cooling clip is released at
// once and the worker pauses briefly, which bounds the churn to local spool calls),
// and all are released when the store goes down and on shutdown.
//
// # Channel gating
//
// The product says a channel without an active cloud-storage package is never
// uploaded. Allowed is asked before every attempt; a refused clip makes no request,
// is counted (NotSubscribed) and released with ErrNotSubscribed, so the spool, which
// owns deletion and the disk budget, can drop it or let the budget evict it (motion
// clips go first there). The uploader never deletes anything itself. If the spool
// offers it again, it is held for GateRecheck and then asked about again: a package
// that becomes active (or whose status was simply not known yet at boot) uploads the
// backlog still on disk, which is what a customer who just paid expects.
package uplink
