// Package cloud owns the box's side of the installer cloud API: registration with
// serial number and verification code, heartbeats (which announce configuration
// changes and manual inspections), health reports, the remote channel configuration
// with package status, clip registration and the object storage settings.
//
// The box never imports cloudsim: this package declares its own wire types and meets
// the cloud only over HTTP. Errors are classed: Transient errors (network, 5xx, 429)
// are worth retrying with backoff; ErrUnauthorized means register again; the rest are
// refusals that retrying will not fix.
package cloud
