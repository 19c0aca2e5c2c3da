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
// cmd/cloudsim wires them together. One command starts a seeded cloud with its own S3:
//
//	go run ./cmd/cloudsim --data ./cloudsim-data --seed demo
//
// (API on 127.0.0.1:7000, embedded S3 on 127.0.0.1:7001, demo accounts and the box's
// serial and verification code in ./cloudsim-data/seed.json, Prometheus on /metrics).
// `go run ./bench/cloud` measures the box-facing API under a 10,000-box fleet.
package cloudsim
