package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
)

// TestOpenAPIMatchesRoutes walks the served document and the router both ways: every
// documented path+method must reach exactly that route's handler (proved by the route
// header the handler sets), and every route the router serves must be documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	code, raw := e.call("", "GET", "/api/v1/openapi.json", nil)
	require.Equal(t, http.StatusOK, code)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))

	param := regexp.MustCompile(`\{[a-z]+\}`)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			key := strings.ToUpper(method) + " " + path
			documented = append(documented, key)
			concrete := param.ReplaceAllString(path, "x1")
			req := httptest.NewRequest(strings.ToUpper(method), concrete, nil)
			rec := newRecorder()
			e.h.ServeHTTP(rec, req)
			require.Equalf(t, key, rec.Header().Get(api.RouteHeader), "documented %s does not reach its route (status %d)", key, rec.Code)
		}
	}
	routes := e.srv.Routes()
	sort.Strings(documented)
	sort.Strings(routes)
	require.Equal(t, routes, documented)

	t.Run("undocumented paths and methods are not served", func(t *testing.T) {
		for _, probe := range []struct{ method, path string }{
			{"GET", "/api/v1/nope"}, {"PATCH", "/api/v1/sites"}, {"GET", "/api/v1/box/heartbeat"},
		} {
			req := httptest.NewRequest(probe.method, probe.path, nil)
			rec := newRecorder()
			e.h.ServeHTTP(rec, req)
			require.Empty(t, rec.Header().Get(api.RouteHeader), probe)
			require.GreaterOrEqual(t, rec.Code, 400)
		}
	})
}

func TestErrorShape(t *testing.T) {
	e := newEnv(t)
	e.fails("", "GET", "/api/v1/nope", nil, http.StatusNotFound, "not_found")
	e.fails("", "POST", "/api/v1/login", "not an object", http.StatusBadRequest, "invalid_argument")
	e.fails("", "POST", "/api/v1/companies", map[string]any{"name": "X", "region": "mars",
		"admin": map[string]string{"email": "a@x.test", "password": "password1"}}, http.StatusBadRequest, "invalid_argument")
	e.fails("", "POST", "/api/v1/users", map[string]any{"email": "a@x.test", "password": "password1", "region": "eu", "extra": 1}, http.StatusBadRequest, "invalid_argument")
	e.fails("garbage", "GET", "/api/v1/me", nil, http.StatusUnauthorized, "unauthenticated")
}
