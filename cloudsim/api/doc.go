// Package api owns the cloud simulator's HTTP JSON API under /api/v1: accounts and
// roles, sites, devices, site authorization, boxes and their remote configuration,
// health and inspections, cloud storage packages, the clip index with retention, and
// playback / download links.
//
// # Routes
//
// One route table (routes.go) feeds both the mux and the OpenAPI document served at
// /api/v1/openapi.json. Every error leaves as {"error":{"code","message"}}; statusOf in
// errors.go is the only place mapping errors to HTTP status.
//
// # Access
//
// People authenticate with an expiring bearer token from /login; boxes with the device
// token from /box/register. A role is never enough on its own: each site-scoped handler
// checks the caller's relation to that site (Admin or IT Manager of the site's current
// company, its Site Manager, its owner, a former installer). After handover, installer
// maintenance needs the owner's granted site authorization (maintain in access.go).
//
// # Soft state
//
// Heartbeats and health reports touch memory only; health is persisted in batches by
// Flush (every Tick) so a 10,000-box fleet does not cost an fsync per request.
//
// # Time
//
// All time comes from the injected Clock. Tick runs due automatic inspections and the
// retention sweep, so tests move a fake clock and call Tick instead of waiting.
package api
