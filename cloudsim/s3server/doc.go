// Package s3server owns the embedded S3 endpoint used for a one-command start: gofakes3
// over its bbolt backend (objects persist in s3.db in the data directory), served
// path-style on its own 127.0.0.1 port so the box's aws-sdk-go-v2 uploads (PutObject
// with If-None-Match, multipart, HEAD with metadata) work against it unchanged.
//
// Multipart uploads in progress live in gofakes3's memory until completed; a restart
// loses them, and the box's uplink then starts that clip's upload over.
package s3server
