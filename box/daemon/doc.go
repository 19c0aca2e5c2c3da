// Package daemon wires the box together for `boxd run`: ingest of every linked
// channel with admission control, the ISAPI event streams of every device, clip
// windows cut into transcoded clips, the ANR spool, the S3 uplink, the installer
// cloud link, and the local status listener.
//
// Configuration can change while it runs (the cloud links channels remotely): the
// daemon reconciles the running channels and devices with each new configuration
// without a restart.
package daemon
