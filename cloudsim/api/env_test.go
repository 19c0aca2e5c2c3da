package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeObjects records deletes and signs fake links.
type fakeObjects struct {
	mu      sync.Mutex
	deleted []string
	fail    bool
}

func (o *fakeObjects) PresignGet(_ context.Context, key string, ttl time.Duration, name string) (string, error) {
	return fmt.Sprintf("https://s3.test/bucket/%s?ttl=%s&attachment=%s", key, ttl, name), nil
}

func (o *fakeObjects) Delete(_ context.Context, key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return fmt.Errorf("injected delete failure")
	}
	o.deleted = append(o.deleted, key)
	return nil
}

func (o *fakeObjects) Deleted() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.deleted...)
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

type env struct {
	t     testing.TB
	srv   *api.Server
	db    *store.DB
	h     http.Handler
	clock *fakeClock
	objs  *fakeObjects
}

// memDir is a temp dir on tmpfs when there is one: the API tests make thousands of
// small commits and would otherwise spend their time waiting for fsync.
func memDir(t testing.TB) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "cloudsim-test-")
		if err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return openEnv(t, memDir(t))
}

func openEnv(t testing.TB, dir string) *env {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	e := &env{t: t, db: db, clock: &fakeClock{t: t0}, objs: &fakeObjects{}}
	e.srv, err = api.New(api.Config{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Clock: e.clock, Objects: e.objs,
		Storage:    api.Storage{Endpoint: "http://127.0.0.1:1", Bucket: "clips", Prefix: "v1/", AccessKey: "k", SecretKey: "s"},
		BcryptCost: bcrypt.MinCost,
	})
	require.NoError(t, err)
	e.h = e.srv.Handler()
	return e
}

// clone opens a copy of e's store in a new env, so expensive fixtures are built once.
func (e *env) clone(t testing.TB) *env {
	t.Helper()
	require.NoError(t, e.srv.Flush())
	dir := memDir(t)
	f, err := os.Create(filepath.Join(dir, store.FileName))
	require.NoError(t, err)
	require.NoError(t, e.db.Backup(f))
	require.NoError(t, f.Close())
	return openEnv(t, dir)
}

func (e *env) call(tok, method, path string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// ok requires a 2xx answer and decodes it into out (if not nil).
func (e *env) ok(tok, method, path string, body, out any) {
	e.t.Helper()
	code, raw := e.call(tok, method, path, body)
	require.Truef(e.t, code >= 200 && code < 300, "%s %s: %d %s", method, path, code, raw)
	if out != nil {
		require.NoError(e.t, json.Unmarshal(raw, out), string(raw))
	}
}

// fails requires the given status and error code.
func (e *env) fails(tok, method, path string, body any, status int, code string) {
	e.t.Helper()
	got, raw := e.call(tok, method, path, body)
	require.Equalf(e.t, status, got, "%s %s: %s", method, path, raw)
	var eb api.ErrorBody
	require.NoError(e.t, json.Unmarshal(raw, &eb), string(raw))
	require.Equal(e.t, code, eb.Error.Code, string(raw))
	require.NotEmpty(e.t, eb.Error.Message)
}

func (e *env) login(email string) string {
	var out struct{ Token string }
	e.ok("", "POST", "/api/v1/login", map[string]string{"email": email, "password": "password1"}, &out)
	return out.Token
}

// world is a populated cloud: company A (admin, it, emp, sm) with site S managed by sm,
// holding camera cam1, camera cam2, NVR nvr and registered box (ch1 -> cam1 with a 7-day
// package); company B (admin); end users owner, stranger (eu) and far (us).
type world struct {
	*env
	tok map[string]string
	id  map[string]string
}

const (
	boxSerial = "BOX0001"
	boxCode   = "ABCDEF"
)

// Site states a world can be built in.
const (
	stFresh   = "fresh"   // no owner invited
	stInvited = "invited" // owner invited, not accepted
	stNoAuth  = "noauth"  // handed over, no authorization
	stPending = "pending" // handed over, authorization applied for
	stHanded  = "handed"  // handed over, authorization granted
)

func newWorld(t testing.TB, state string) *world {
	t.Helper()
	w := &world{env: newEnv(t), tok: map[string]string{}, id: map[string]string{}}
	v := "/api/v1"
	var co struct {
		Company api.Company
		Admin   api.User
	}
	w.ok("", "POST", v+"/companies", map[string]any{"name": "A", "region": "eu",
		"admin": map[string]string{"email": "admin@a.test", "password": "password1"}}, &co)
	w.id["company"] = co.Company.ID
	w.tok["admin"] = w.login("admin@a.test")
	members := map[string]string{"it": "it_manager", "emp": "employee", "sm": "employee"}
	for _, name := range []string{"it", "emp", "sm"} {
		var u api.User
		w.ok(w.tok["admin"], "POST", v+"/companies/"+co.Company.ID+"/members",
			map[string]string{"email": name + "@a.test", "password": "password1", "role": members[name]}, &u)
		w.id[name] = u.ID
		w.tok[name] = w.login(name + "@a.test")
	}
	w.ok("", "POST", v+"/companies", map[string]any{"name": "B", "region": "eu",
		"admin": map[string]string{"email": "admin@b.test", "password": "password1"}}, &co)
	w.id["companyB"] = co.Company.ID
	w.tok["otherAdmin"] = w.login("admin@b.test")
	for name, region := range map[string]string{"owner": "eu", "stranger": "eu", "far": "us"} {
		var u api.User
		w.ok("", "POST", v+"/users", map[string]string{"email": name + "@home.test", "password": "password1", "region": region}, &u)
		w.id[name] = u.ID
		w.tok[name] = w.login(name + "@home.test")
	}
	var site api.Site
	w.ok(w.tok["admin"], "POST", v+"/sites", map[string]string{"name": "Shop"}, &site)
	w.id["site"] = site.ID
	w.ok(w.tok["admin"], "PUT", w.site("/manager"), map[string]string{"user_id": w.id["sm"]}, nil)
	w.id["cam1"] = w.addDevice(map[string]any{"type": "camera", "model": "DS-2CD2143G2-I", "serial": "CAM1", "width": 2560, "height": 1440, "username": "admin", "password": "campass"})
	w.id["cam2"] = w.addDevice(map[string]any{"type": "camera", "model": "IPC-B140H", "address": "192.168.1.20", "width": 1920, "height": 1080})
	w.id["nvr"] = w.addDevice(map[string]any{"type": "nvr", "model": "DS-7608NI-K2", "address": "nvr.example.com", "channels": 8, "width": 1920, "height": 1080})
	var box api.Device
	w.ok(w.tok["admin"], "POST", w.site("/boxes"), map[string]string{"serial": boxSerial, "verification_code": boxCode}, &box)
	w.id["box"] = box.ID
	var reg struct{ Token string }
	w.ok("", "POST", v+"/box/register", map[string]string{"serial": boxSerial, "verification_code": boxCode}, &reg)
	w.tok["box"] = reg.Token
	w.ok(w.tok["admin"], "PUT", w.site("/boxes/"+box.ID+"/channels/1"), map[string]any{"device_id": w.id["cam1"]}, nil)
	w.ok(w.tok["admin"], "POST", v+"/companies/"+w.id["company"]+"/packages", map[string]any{"package": "7d-monthly", "quantity": 10}, nil)
	w.ok(w.tok["admin"], "POST", w.site("/boxes/"+box.ID+"/channels/1/package"), map[string]any{"package": "7d-monthly"}, nil)
	w.reportOnline()
	w.ok(w.tok["box"], "POST", v+"/box/clips", w.clip(1, t0), nil)
	var in api.Inspection
	w.ok(w.tok["admin"], "POST", w.site("/inspections"), nil, &in)
	w.id["inspection"] = in.ID

	switch state {
	case stFresh:
		return w
	}
	w.ok(w.tok["admin"], "POST", w.site("/invitation"), map[string]string{"email": "owner@home.test"}, nil)
	if state == stInvited {
		return w
	}
	w.ok(w.tok["owner"], "POST", w.site("/handover"), nil, nil)
	if state == stNoAuth {
		return w
	}
	w.ok(w.tok["admin"], "POST", w.site("/authorization/apply"), nil, nil)
	if state == stPending {
		return w
	}
	w.ok(w.tok["owner"], "POST", w.site("/authorization/grant"), nil, nil)
	return w
}

// clone copies the world into a fresh store (same IDs and tokens, clock back at t0).
func (w *world) clone(t testing.TB) *world {
	return &world{env: w.env.clone(t), tok: w.tok, id: w.id}
}

// relogin refreshes every person's token after the clock jumped past their expiry.
func (w *world) relogin() {
	tok := map[string]string{}
	for k, v := range w.tok {
		tok[k] = v
	}
	for name, email := range map[string]string{"admin": "admin@a.test", "it": "it@a.test", "emp": "emp@a.test", "sm": "sm@a.test",
		"otherAdmin": "admin@b.test", "owner": "owner@home.test", "stranger": "stranger@home.test", "far": "far@home.test"} {
		tok[name] = w.login(email)
	}
	w.tok = tok
}

func (w *world) site(suffix string) string { return "/api/v1/sites/" + w.id["site"] + suffix }

func (w *world) addDevice(body map[string]any) string {
	var d api.Device
	w.ok(w.tok["admin"], "POST", w.site("/devices"), body, &d)
	return d.ID
}

// reportOnline has the box report itself, both cameras and the NVR online and healthy.
func (w *world) reportOnline() {
	w.ok(w.tok["box"], "POST", "/api/v1/box/health", map[string]any{
		"box": map[string]any{"network": "ok", "disk": map[string]any{"status": "ok", "smart": "ok"}, "uplink": "ok", "firmware": "1.0.0"},
		"cameras": []map[string]any{
			{"device_id": w.id["cam1"], "online": true, "stream": "ok"},
			{"device_id": w.id["cam2"], "online": true, "stream": "ok"},
			{"device_id": w.id["nvr"], "device_channel": 1, "online": true, "stream": "ok"},
		},
	}, nil)
}

func (w *world) clip(ch int, start time.Time) map[string]any {
	return map[string]any{
		"object_key":  fmt.Sprintf("v1/boxes/%s/ch%02d/%d.mp4", boxSerial, ch, start.UnixNano()),
		"channel":     ch,
		"event_types": []string{"VMD"},
		"start":       start,
		"end":         start.Add(30 * time.Second),
		"size":        1234,
		"sha256":      strings.Repeat("ab", 32),
	}
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
