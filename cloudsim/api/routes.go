package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// routeTable is the whole API. The mux and the OpenAPI document are both built from it.
func (s *Server) routeTable() []route {
	const v = "/api/v1"
	ok, created, none := http.StatusOK, http.StatusCreated, http.StatusNoContent
	return []route{
		{"GET", v + "/openapi.json", "This OpenAPI document", authNone, ok, s.openapi},

		{"POST", v + "/companies", "Register an installer company and its Installer Admin", authNone, created, s.createCompany},
		{"POST", v + "/users", "Sign up an end user (mobile app)", authNone, created, s.createEndUser},
		{"POST", v + "/login", "Exchange email and password for an expiring bearer token", authNone, ok, s.login},
		{"GET", v + "/me", "The caller's account", authUser, ok, s.me},
		{"POST", v + "/companies/{company}/members", "Add an IT Manager (Admin) or employee (Admin, IT Manager)", authUser, created, s.addMember},
		{"GET", v + "/companies/{company}/members", "List the company's accounts (Admin, IT Manager)", authUser, ok, s.listMembers},
		{"POST", v + "/companies/{company}/packages", "Buy cloud storage packages into the inventory (Admin)", authUser, ok, s.purchasePackages},
		{"GET", v + "/companies/{company}/packages", "Package inventory and assignments (Admin, IT Manager)", authUser, ok, s.getInventory},
		{"GET", v + "/companies/{company}/abnormal", "Locate abnormal devices by ?type= across the company's sites", authUser, ok, s.locateAbnormal},

		{"POST", v + "/sites", "Create a site (Admin, IT Manager)", authUser, created, s.createSite},
		{"GET", v + "/sites", "List the sites visible to the caller", authUser, ok, s.listSites},
		{"POST", v + "/sites/claim", "Change of installer: add an existing site by ID (Installer Admin)", authUser, ok, s.claimSite},
		{"GET", v + "/sites/{site}", "Get a site", authUser, ok, s.getSiteH},
		{"DELETE", v + "/sites/{site}", "Delete a site (before handover) or drop a former client's site", authUser, none, s.deleteSite},
		{"PUT", v + "/sites/{site}/manager", "Assign or change the Site Manager (Admin, IT Manager)", authUser, ok, s.setManager},
		{"POST", v + "/sites/{site}/invitation", "Invite an end user of the same region as Site Owner", authUser, ok, s.inviteOwner},
		{"POST", v + "/sites/{site}/handover", "The invited end user accepts: the site is handed over", authUser, ok, s.acceptHandover},
		{"POST", v + "/sites/{site}/authorization/apply", "Installer applies for site authorization", authUser, ok, s.applyAuthorization},
		{"POST", v + "/sites/{site}/authorization/grant", "Owner grants the pending authorization", authUser, ok, s.grantAuthorization},
		{"POST", v + "/sites/{site}/authorization/cancel", "Owner cancels the authorization", authUser, ok, s.cancelAuthorization},

		{"POST", v + "/sites/{site}/devices", "Add a device by serial number, IP address or domain name", authUser, created, s.addDevice},
		{"GET", v + "/sites/{site}/devices", "List the site's devices", authUser, ok, s.listDevices},
		{"DELETE", v + "/sites/{site}/devices/{device}", "Delete a device (Admin/Site Manager before invitation, owner after)", authUser, none, s.deleteDevice},
		{"POST", v + "/sites/{site}/linkages", "Create a linkage between two online devices of the site", authUser, created, s.addLinkage},
		{"GET", v + "/sites/{site}/linkages", "List the site's linkages", authUser, ok, s.listLinkages},

		{"POST", v + "/sites/{site}/boxes", "Add a box by serial number and verification code", authUser, created, s.addBox},
		{"GET", v + "/sites/{site}/boxes/{box}/channels", "The box's linked channels and package status", authUser, ok, s.listChannels},
		{"PUT", v + "/sites/{site}/boxes/{box}/channels/{channel}", "Link a camera / NVR channel to a box channel (remote configuration)", authUser, ok, s.linkChannel},
		{"DELETE", v + "/sites/{site}/boxes/{box}/channels/{channel}", "Unlink a box channel", authUser, none, s.unlinkChannel},
		{"POST", v + "/sites/{site}/boxes/{box}/channels/{channel}/package", "Assign a package from the inventory to a box channel", authUser, created, s.assignPackage},
		{"GET", v + "/sites/{site}/boxes/{box}/clips", "List indexed clips (?channel=&from=&to=)", authUser, ok, s.listClips},
		{"POST", v + "/sites/{site}/playback", "Presigned playback links for at most 4 channels", authUser, ok, s.playback},
		{"POST", v + "/sites/{site}/downloads", "2-minute download links for at most 4 channels (owner's authorization)", authUser, ok, s.download},

		{"GET", v + "/sites/{site}/health", "Status list of the site's devices", authUser, ok, s.siteHealth},
		{"POST", v + "/sites/{site}/inspections", "Request a manual inspection", authUser, created, s.requestInspection},
		{"GET", v + "/sites/{site}/inspections/{inspection}", "Get an inspection and its result", authUser, ok, s.getInspection},

		{"POST", v + "/box/register", "Box: trade serial and verification code for a device token", authNone, ok, s.boxRegister},
		{"POST", v + "/box/heartbeat", "Box: heartbeat; returns config version and pending inspection", authBox, ok, s.boxHeartbeat},
		{"POST", v + "/box/health", "Box: health report of itself and its cameras", authBox, ok, s.boxHealth},
		{"GET", v + "/box/channels", "Box: channel configuration with package status", authBox, ok, s.boxChannels},
		{"POST", v + "/box/clips", "Box: register an uploaded clip", authBox, created, s.boxRegisterClip},
		{"GET", v + "/box/storage", "Box: object storage endpoint, bucket, prefix and credentials", authBox, ok, s.boxStorage},
	}
}

// Routes returns "METHOD PATH" of every route the mux serves, for tests and docs.
func (s *Server) Routes() []string {
	out := make([]string, 0, len(s.routes))
	for _, r := range s.routes {
		out = append(out, r.method+" "+r.path)
	}
	return out
}

var pathParamRE = regexp.MustCompile(`\{([a-z]+)\}`)

// openapi renders the OpenAPI 3 document from the route table.
func (s *Server) openapi(*call) (any, error) {
	paths := map[string]map[string]any{}
	for _, r := range s.routes {
		op := map[string]any{
			"summary":     r.summary,
			"operationId": strings.ToLower(r.method) + strings.NewReplacer("/api/v1", "", "/", "_", "{", "", "}", "").Replace(r.path),
			"responses": map[string]any{
				itoa(r.status): map[string]any{"description": "success"},
				"default": map[string]any{"description": "error", "content": map[string]any{
					"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
			},
		}
		var params []any
		for _, m := range pathParamRE.FindAllStringSubmatch(r.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch r.auth {
		case authUser:
			op["security"] = []any{map[string]any{"userToken": []any{}}}
		case authBox:
			op["security"] = []any{map[string]any{"boxToken": []any{}}}
		default:
			op["security"] = []any{}
		}
		if r.method == "POST" || r.method == "PUT" {
			op["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
		}
		if paths[r.path] == nil {
			paths[r.path] = map[string]any{}
		}
		paths[r.path][strings.ToLower(r.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "ProConnect cloud simulator", "version": "1"},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"userToken": map[string]any{"type": "http", "scheme": "bearer"},
				"boxToken":  map[string]any{"type": "http", "scheme": "bearer"},
			},
			"schemas": map[string]any{"Error": map[string]any{
				"type": "object", "required": []string{"error"},
				"properties": map[string]any{"error": map[string]any{
					"type": "object", "required": []string{"code", "message"},
					"properties": map[string]any{"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}},
				}},
			}},
		},
	}
	raw, err := json.Marshal(doc)
	return rawJSON(raw), err
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
