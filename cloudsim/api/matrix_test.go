package api_test

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// roles are the callers of the matrix: every installer role of the site's company
// (emp is an employee who does not manage the site, sm is its Site Manager), another
// company's admin, the owner, an unrelated end user, the site's box, and nobody.
var roles = []string{"anon", "admin", "it", "emp", "sm", "otherAdmin", "owner", "stranger", "box"}

var (
	everyone = roles
	persons  = []string{"admin", "it", "emp", "sm", "otherAdmin", "owner", "stranger"}
	viewers  = []string{"admin", "it", "sm", "owner"}
)

type matrixCase struct {
	route   string // "METHOD PATH" exactly as in the route table; "#..." suffix names a variant
	state   string
	body    func(w *world) any
	allowed []string
	// other overrides the expected status of a role refused for a reason other than
	// its role (e.g. a conflict), which the rule tests cover.
	other map[string]int
}

func matrixCases() []matrixCase {
	none := func(*world) any { return nil }
	return []matrixCase{
		{"GET /api/v1/openapi.json", stHanded, none, everyone, nil},
		{"POST /api/v1/companies", stFresh, func(*world) any {
			return map[string]any{"name": "N", "region": "eu", "admin": map[string]string{"email": "n@n.test", "password": "password1"}}
		}, everyone, nil},
		{"POST /api/v1/users", stFresh, func(*world) any {
			return map[string]string{"email": "n@home.test", "password": "password1", "region": "eu"}
		}, everyone, nil},
		{"POST /api/v1/login", stFresh, func(*world) any { return map[string]string{"email": "admin@a.test", "password": "password1"} }, everyone, nil},
		{"GET /api/v1/me", stFresh, none, persons, nil},
		{"POST /api/v1/companies/{company}/members", stFresh, func(*world) any {
			return map[string]string{"email": "new@a.test", "password": "password1", "role": "employee"}
		}, []string{"admin", "it"}, nil},
		{"GET /api/v1/companies/{company}/members", stFresh, none, []string{"admin", "it"}, nil},
		{"POST /api/v1/companies/{company}/packages", stFresh, func(*world) any { return map[string]any{"package": "30d-annual", "quantity": 2} }, []string{"admin"}, nil},
		{"GET /api/v1/companies/{company}/packages", stFresh, none, []string{"admin", "it"}, nil},
		{"GET /api/v1/companies/{company}/abnormal", stHanded, none, []string{"admin", "it"}, nil},
		{"POST /api/v1/sites", stFresh, func(*world) any { return map[string]string{"name": "New"} }, []string{"admin", "it", "otherAdmin"}, nil},
		{"GET /api/v1/sites", stHanded, none, persons, nil},
		{"POST /api/v1/sites/claim", stNoAuth, func(w *world) any { return map[string]string{"site_id": w.id["site"]} },
			[]string{"otherAdmin"}, map[string]int{"admin": http.StatusConflict}},
		{"GET /api/v1/sites/{site}", stHanded, none, viewers, nil},
		{"DELETE /api/v1/sites/{site}", stFresh, none, []string{"admin", "it"}, nil},
		{"PUT /api/v1/sites/{site}/manager", stFresh, func(w *world) any { return map[string]string{"user_id": w.id["emp"]} }, []string{"admin", "it"}, nil},
		{"POST /api/v1/sites/{site}/invitation", stFresh, func(*world) any { return map[string]string{"email": "owner@home.test"} }, []string{"admin", "it", "sm"}, nil},
		{"POST /api/v1/sites/{site}/handover", stInvited, none, []string{"owner"}, nil},
		{"POST /api/v1/sites/{site}/authorization/apply", stNoAuth, none, []string{"admin", "it", "sm"}, nil},
		{"POST /api/v1/sites/{site}/authorization/grant", stPending, none, []string{"owner"}, nil},
		{"POST /api/v1/sites/{site}/authorization/cancel", stHanded, none, []string{"owner"}, nil},
		{"POST /api/v1/sites/{site}/devices", stHanded, func(*world) any {
			return map[string]any{"type": "doorbell", "model": "DS-KB6003", "serial": "BELL1"}
		}, []string{"admin", "sm", "owner"}, nil},
		{"GET /api/v1/sites/{site}/devices", stHanded, none, viewers, nil},
		{"DELETE /api/v1/sites/{site}/devices/{device}", stFresh, none, []string{"admin", "sm"}, nil},
		{"DELETE /api/v1/sites/{site}/devices/{device}#after-invitation", stHanded, none, []string{"owner"}, nil},
		{"POST /api/v1/sites/{site}/linkages", stHanded, func(w *world) any {
			return map[string]string{"source_device_id": w.id["cam1"], "target_device_id": w.id["cam2"], "event": "VMD", "action": "record"}
		}, []string{"admin", "sm", "owner"}, nil},
		{"GET /api/v1/sites/{site}/linkages", stHanded, none, viewers, nil},
		{"POST /api/v1/sites/{site}/boxes", stHanded, func(*world) any { return map[string]string{"serial": "BOX0002", "verification_code": "QWERTY"} }, []string{"admin", "sm"}, nil},
		{"GET /api/v1/sites/{site}/boxes/{box}/channels", stHanded, none, viewers, nil},
		{"PUT /api/v1/sites/{site}/boxes/{box}/channels/{channel}", stHanded, func(w *world) any { return map[string]string{"device_id": w.id["cam2"]} }, []string{"admin", "sm", "owner"}, nil},
		{"DELETE /api/v1/sites/{site}/boxes/{box}/channels/{channel}", stHanded, none, []string{"admin", "sm", "owner"}, nil},
		{"POST /api/v1/sites/{site}/boxes/{box}/channels/{channel}/package", stHanded, func(*world) any { return map[string]string{"package": "7d-monthly"} }, []string{"admin", "it"}, nil},
		{"GET /api/v1/sites/{site}/boxes/{box}/clips", stHanded, none, viewers, nil},
		{"POST /api/v1/sites/{site}/playback", stHanded, func(w *world) any {
			return map[string]any{"box_id": w.id["box"], "channels": []int{1}, "from": t0.Add(-time.Hour)}
		}, viewers, nil},
		{"POST /api/v1/sites/{site}/downloads", stHanded, func(w *world) any {
			return map[string]any{"box_id": w.id["box"], "channels": []int{1}, "from": t0}
		}, viewers, nil},
		{"GET /api/v1/sites/{site}/health", stHanded, none, viewers, nil},
		{"POST /api/v1/sites/{site}/inspections", stHanded, none, []string{"admin", "it", "sm"}, nil},
		{"GET /api/v1/sites/{site}/inspections/{inspection}", stHanded, none, []string{"admin", "it", "sm"}, nil},
		{"POST /api/v1/box/register", stHanded, func(*world) any { return map[string]string{"serial": boxSerial, "verification_code": boxCode} }, everyone, nil},
		{"POST /api/v1/box/heartbeat", stHanded, func(*world) any { return map[string]any{"applied_config_version": 1} }, []string{"box"}, nil},
		{"POST /api/v1/box/health", stHanded, func(*world) any {
			return map[string]any{"box": map[string]any{"network": "ok", "disk": map[string]string{"status": "ok"}, "uplink": "ok"}}
		}, []string{"box"}, nil},
		{"GET /api/v1/box/channels", stHanded, none, []string{"box"}, nil},
		{"POST /api/v1/box/clips", stHanded, func(w *world) any { return w.clip(1, t0.Add(time.Second)) }, []string{"box"}, nil},
		{"GET /api/v1/box/storage", stHanded, none, []string{"box"}, nil},
	}
}

func (w *world) expand(path string) string {
	return strings.NewReplacer("{company}", w.id["company"], "{site}", w.id["site"], "{box}", w.id["box"],
		"{device}", w.id["cam2"], "{inspection}", w.id["inspection"], "{channel}", "1").Replace(path)
}

// TestRoleMatrix calls every endpoint as every role: allowed roles must succeed (2xx)
// and every other role must be refused with 401 or 403. Each allowed call gets a fresh
// world because it may change state; refusals share one (a refusal changes nothing).
func TestRoleMatrix(t *testing.T) {
	cases := matrixCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[strings.SplitN(c.route, "#", 2)[0]] = true
	}
	routes := newEnv(t).srv.Routes()
	for _, r := range routes {
		require.Truef(t, covered[r], "route %s has no row in the role matrix", r)
	}
	require.Len(t, covered, len(routes), "matrix rows for routes that do not exist")

	templates := map[string]*world{}
	for _, c := range cases {
		if templates[c.state] == nil {
			templates[c.state] = newWorld(t, c.state)
		}
	}
	for _, c := range cases {
		t.Run(c.route, func(t *testing.T) {
			method, path, _ := strings.Cut(strings.SplitN(c.route, "#", 2)[0], " ")
			refusedWorld := templates[c.state].clone(t)
			for _, role := range roles {
				w := refusedWorld
				if slices.Contains(c.allowed, role) {
					w = templates[c.state].clone(t)
				}
				code, raw := w.call(w.tok[role], method, w.expand(path), c.body(w))
				switch want, ok := c.other[role]; {
				case ok:
					require.Equalf(t, want, code, "%s: %s", role, raw)
				case slices.Contains(c.allowed, role):
					require.Truef(t, code >= 200 && code < 300, "%s must be allowed: %d %s", role, code, raw)
				case role == "anon" || role == "box" && !strings.Contains(path, "/box/") || role != "box" && strings.Contains(path, "/box/"):
					require.Equalf(t, http.StatusUnauthorized, code, "%s must be unauthenticated: %s", role, raw)
				default:
					require.Equalf(t, http.StatusForbidden, code, "%s must be refused: %s", role, raw)
				}
			}
		})
	}
}

func TestMatrixListsEveryRoleOnce(t *testing.T) {
	for _, c := range matrixCases() {
		s := append([]string(nil), c.allowed...)
		sort.Strings(s)
		require.Equal(t, len(s), len(slices.Compact(s)), c.route)
	}
}
