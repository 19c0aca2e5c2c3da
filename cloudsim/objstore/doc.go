// Package objstore owns the cloud's side of the object store: presigned GET links for
// playback and downloads, deletes for retention, and bucket creation at start. It talks
// to any S3-compatible endpoint (MinIO, the embedded s3server, AWS) path-style.
package objstore
