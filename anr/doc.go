// Package anr is the box's ANR (Automatic Network Replenishment) spool: it makes each
// event clip durable on local disk before anything depends on it, orders clips for
// upload, keeps a disk budget with an explicit eviction policy, survives kill -9 and
// power loss, and counts every clip it ever drops.
//
// # Layout
//
//	<dir>/index.db                      bbolt index (see index.go for buckets; format version key)
//	<dir>/index.db.corrupt-<time>       a corrupt index moved aside at Open (never deleted by us)
//	<dir>/clips/<id>.mp4.tmp            an Add in progress
//	<dir>/clips/<id>_c<ch>_<ev>+<ev>_<startns>_<endns>.mp4   a stored clip
//
// IDs are "<UTC time to the µs>Z-<12 hex random>": sortable, unique without a
// persisted sequence, and safe in file names and S3 keys.
//
// # Durability
//
// Add acknowledges a clip only after: data written to <id>.mp4.tmp while hashing
// (SHA-256), fsync, rename to the final name, fsync of clips/, and the bbolt commit
// (bbolt fsyncs; NoSync is never set). The final name carries the clip's metadata,
// so the single rename publishes data and metadata atomically: no sidecar file and
// no extra fsync. Any failure (ENOSPC -> ErrDiskFull, a failing fsync, a failed
// commit) returns an error and removes what this Add wrote; nothing else is touched.
//
// # Upload order
//
// Next hands out pending clips: ClassHigh (any event type fielddetection or
// linedetection) before ClassMotion, then oldest Start, then ID. A handed-out clip is
// uploading until Uploaded or Release; it is never evicted in that state.
//
// # Eviction
//
// After every Add (and at Open), if clip bytes exceed Options.MaxBytes or free space
// is below Options.MinFreeBytes, pending clips are evicted: motion-only clips first,
// oldest first, then high-class clips, oldest first. Before an Add, the reserve is
// restored (plus the incoming size, for AddFile) so the write does not hit ENOSPC.
// Each eviction is committed as a tombstone (state evicted, reason budget or
// reserve) before the file is removed, counted per reason and class (Stats), logged,
// and reported to Options.OnDrop.
//
// Policy for the clip being added, chosen to lose the least:
//   - a clip larger than MaxBytes on its own is rejected (ErrClipTooLarge) before
//     anything is evicted for it: it could never fit, and evicting would lose more;
//   - otherwise the new clip is never evicted by its own Add: it is the freshest
//     evidence, and the space it lacks is held by uploading clips that are about to
//     leave anyway. The spool then stays over budget (Stats.OverBudget) until they do.
//
// # Recovery
//
// Open repairs whatever a crash left: *.tmp files are removed (never acknowledged);
// uploading clips return to pending (their Multipart state is kept); clip files
// without a record (crash between rename and commit, or a rebuilt index) are
// re-indexed from their file name after recomputing the checksum; records whose
// file is missing or has the wrong size are marked lost, logged, counted and
// reported to OnDrop; files of uploaded or evicted clips are removed. A corrupt
// index.db is moved aside to index.db.corrupt-<time> and rebuilt from the clip files
// (set Options.FailOnCorruptIndex to get ErrCorruptIndex instead): no clip is lost,
// only cumulative counters and tombstones. Stats.LastRecovery shows what was done.
// A clip re-indexed from its file (crash between rename and commit) was never
// acknowledged; it is queued anyway: an upload the caller did not count on is
// cheaper than a lost event.
//
// # Concurrency
//
// One process owns a spool directory (bbolt's file lock; Open waits
// Options.LockTimeout). Inside it, any number of goroutines may Add and call Next.
// Copy, hashing and the file fsyncs of concurrent Adds run in parallel; index
// commits are serialised under one mutex (bbolt has a single writer anyway), and
// read transactions (List, Multipart) are short.
//
// # Performance
//
// `go run ./bench/spool` compares Add with `dd bs=1M conv=fsync` (one process per
// clip) and with the same write+fsync done in-process, on one filesystem. SHA-256
// runs on a side goroutine so it overlaps the writes and the fsync; what remains is
// the rename, the directory fsync and the index commit (two fdatasyncs).
//
// Not done (yet): group commit of concurrent Adds into one bbolt transaction, which
// would amortise the index fsyncs when several channels close clips at once.
package anr
