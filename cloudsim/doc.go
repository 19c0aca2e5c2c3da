// Package cloudsim is the installer cloud simulator: the Hik-Partner Pro style cloud
// that ProConnect boxes dial out to. It is not imported by box code; the box and the
// cloud meet only over HTTP and S3.
//
// Subpackages:
//
//   - api: the HTTP JSON API under /api/v1 (accounts, sites, devices, boxes, health,
//     packages, clips, playback) and its OpenAPI document.
//   - store: the bbolt file holding the cloud's records.
//   - objstore: the S3 client the cloud uses for presigned links and retention deletes.
//   - s3server: the embedded, disk-persisted S3 endpoint for a one-command start.
//   - seed: demo data (company, users, site, box, packages) for the demo and tests.
//   - camsim: the Hikvision device simulator (RTSP + ISAPI), owned separately.
//
// cmd/cloudsim wires them together.
package cloudsim
