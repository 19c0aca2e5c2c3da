package anr

import "time"

// State is where a clip is in its life in the spool.
type State string

// Clip states. A clip leaves the spool (its file is removed) only when Uploaded.
const (
	StatePending   State = "pending"   // durable on disk, waiting for the uplink
	StateUploading State = "uploading" // handed to the uplink; never evicted in this state
	StateUploaded  State = "uploaded"  // confirmed in object storage with the right checksum
	StateEvicted   State = "evicted"   // dropped by the disk budget (counted, reported)
	StateLost      State = "lost"      // indexed but its file vanished (reported at recovery)
)

// Clip is the spool's record of one event clip.
type Clip struct {
	ID         string    `json:"id"`
	Channel    int       `json:"channel"`
	EventTypes []string  `json:"event_types"` // ISAPI eventType strings, e.g. "VMD", "linedetection"
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"` // lowercase hex of the file contents
	Path       string    `json:"path"`   // absolute path of the clip file in the spool
	State      State     `json:"state"`
	Created    time.Time `json:"created"`
	ObjectKey  string    `json:"object_key,omitempty"` // set once uploaded

	// Attempts counts failed uploads (Release calls), for status.
	Attempts int `json:"attempts,omitempty"`
	// Reason is set when State is StateEvicted or StateLost.
	Reason DropReason `json:"reason,omitempty"`
	// Finished is when the clip reached a final state (uploaded, evicted, lost);
	// tombstones are pruned Options.TombstoneTTL after it.
	Finished time.Time `json:"finished,omitzero"`
}

// clone returns a copy that shares no memory with c, so callers cannot alter the
// spool's records.
func (c Clip) clone() Clip {
	c.EventTypes = append([]string(nil), c.EventTypes...)
	return c
}

// live reports whether the clip still has a file in the spool.
func (c *Clip) live() bool { return c.State == StatePending || c.State == StateUploading }

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number int32  `json:"number"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
}

// Multipart is the persisted state of a clip's S3 multipart upload, saved after
// every part so that an upload interrupted by a restart resumes with the same UploadId.
type Multipart struct {
	Key      string    `json:"key"`
	UploadID string    `json:"upload_id"`
	PartSize int64     `json:"part_size"`
	Parts    []Part    `json:"parts"`
	Started  time.Time `json:"started"`
}
