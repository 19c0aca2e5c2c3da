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
// Who may do what (Admin and IT = of the site's current company; SM = the site's
// Site Manager; "maint." = after handover only with the owner's granted authorization):
//
//	create site, assign Site Manager            Admin, IT
//	invite owner                                Admin, IT, SM (same region as the site)
//	accept handover / grant / cancel auth.      invited end user / owner / owner
//	apply for authorization                     Admin, IT, SM
//	add site by ID (change of installer)        Installer Admin of the new company
//	delete site                                 Admin, IT before handover; former installer drops it
//	add device, add box, link channels          Admin, SM (maint.), owner (not boxes)
//	delete device                               Admin, SM before the owner is invited; owner after
//	linkage                                     Admin, SM (maint.), owner; same site, both online
//	health, clips, playback                     Admin, IT, SM (maint.), owner
//	downloads                                   owner; Admin, IT, SM only with granted authorization
//	inspections                                 Admin, IT, SM (maint.)
//	buy packages / view inventory / assign      Admin / Admin, IT / Admin, IT (maint.)
//	locate abnormal devices, members            Admin, IT of the company
//
// # Box API
//
// The box authenticates with the token from POST /box/register
// {"serial","verification_code"} -> {"box_id","site_id","token"}, then:
//
//	POST /box/heartbeat {"applied_config_version","firmware","uptime_s"}
//	     -> {"server_time","config_version","config_changed","inspection_id","heartbeat_s"}
//	POST /box/health    {"inspection_id","box":{"network","disk":{"status","smart","usage_percent",
//	     "overwritten"},"spool":{"clips","bytes","evicted","lost"},"uplink","firmware"},
//	     "cameras":[{"device_id","device_channel","online","stream","video_loss","tamper","disk_error"}],
//	     "devices":[{"device_id","online","network",...}]} -> {"accepted","ignored"} (unknown or
//	     foreign device IDs are ignored, never updated)
//	GET  /box/channels  -> {"box_id","config_version","channels":[{"channel","device_id","device_type",
//	     "device_channel","model","address","port","rtsp_port","username","password","stream",
//	     "output_resolution","width","height","package":{"active","package","retention_days","start","end"}}]}
//	POST /box/clips     {"object_key","channel","event_types","start","end","size","sha256"} -> clip record
//	GET  /box/storage   -> {"endpoint","region","bucket","prefix","access_key","secret_key"}
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
