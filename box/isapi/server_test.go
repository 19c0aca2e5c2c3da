package isapi

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeDevice is a hand-written ISAPI device for tests: Digest (qop=auth or
// legacy) or Basic auth with a hex realm, nonces that can be made stale, and
// per-path handlers.
type fakeDevice struct {
	t        *testing.T
	user     string
	pass     string
	realm    string
	qop      string // "auth" or "" (RFC 2069)
	basic    bool   // offer only Basic
	mu       sync.Mutex
	nonces   map[string]uint32 // nonce -> last nc seen
	nonceSeq int
	requests int // every request
	unauth   int // 401 answers
	ncs      []uint32
	routes   map[string]http.HandlerFunc
	srv      *httptest.Server
}

func newFakeDevice(t *testing.T) *fakeDevice {
	d := &fakeDevice{t: t, user: "admin", pass: "Admin12345", realm: "4e2f5a1b9c0d8e7f6a5b4c3d2e1f0a9b",
		qop: "auth", nonces: map[string]uint32{}, routes: map[string]http.HandlerFunc{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve)) // binds 127.0.0.1
	t.Cleanup(d.srv.Close)
	return d
}

func (d *fakeDevice) handle(path string, h http.HandlerFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.routes[path] = h
}

func (d *fakeDevice) xml(path, body string) {
	d.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(body))
	})
}

// expireNonces makes every issued nonce stale.
func (d *fakeDevice) expireNonces() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nonces = map[string]uint32{}
}

func (d *fakeDevice) counts() (requests, unauth int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.requests, d.unauth
}

func (d *fakeDevice) serve(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.requests++
	ok, stale := d.check(r)
	h := d.routes[r.URL.Path]
	if !ok {
		d.unauth++
		d.nonceSeq++
		nonce := fmt.Sprintf("%x:%d", md5.Sum([]byte(strconv.Itoa(d.nonceSeq))), 1700000000+d.nonceSeq)
		d.nonces[nonce] = 0
		if d.basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+d.realm+`"`)
		} else {
			ch := fmt.Sprintf(`Digest realm="%s", domain="::", nonce="%s", algorithm="MD5"`, d.realm, nonce)
			if d.qop != "" {
				ch += `, qop="` + d.qop + `"`
			}
			if stale {
				ch += `, stale="TRUE"`
			}
			w.Header().Add("WWW-Authenticate", ch)
			w.Header().Add("WWW-Authenticate", `Basic realm="`+d.realm+`"`)
		}
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><userCheck><statusValue>401</statusValue><statusString>Unauthorized</statusString><lockStatus>unlock</lockStatus><retryLoginTime>4</retryLoginTime></userCheck>`))
		return
	}
	d.mu.Unlock()
	if h == nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`<ResponseStatus version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><requestURL>` + r.URL.Path + `</requestURL><statusCode>4</statusCode><statusString>Invalid Operation</statusString><subStatusCode>notSupport</subStatusCode></ResponseStatus>`))
		return
	}
	h(w, r)
}

// check validates the Authorization header; called with d.mu held.
func (d *fakeDevice) check(r *http.Request) (ok, stale bool) {
	auth := r.Header.Get("Authorization")
	if d.basic {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(d.user+":"+d.pass))
		return auth == want, false
	}
	cs := parseChallengeList(auth)
	if len(cs) != 1 || cs[0].Scheme != "digest" {
		return false, false
	}
	p := cs[0].Params
	last, known := d.nonces[p["nonce"]]
	if p["username"] != d.user || p["realm"] != d.realm || p["uri"] != r.URL.RequestURI() {
		return false, false
	}
	h := func(s ...string) string { x := md5.Sum([]byte(strings.Join(s, ":"))); return hex.EncodeToString(x[:]) }
	ha1, ha2 := h(d.user, d.realm, d.pass), h(r.Method, p["uri"])
	var want string
	if d.qop != "" {
		if p["qop"] != "auth" {
			return false, false
		}
		want = h(ha1, p["nonce"], p["nc"], p["cnonce"], p["qop"], ha2)
	} else {
		want = h(ha1, p["nonce"], ha2)
	}
	if p["response"] != want {
		return false, false
	}
	if !known {
		return false, true // right password, stale nonce
	}
	if d.qop != "" {
		nc, err := strconv.ParseUint(p["nc"], 16, 32)
		if err != nil || uint32(nc) <= last {
			d.t.Errorf("nonce count did not increase: %s after %d", p["nc"], last)
			return false, false
		}
		d.nonces[p["nonce"]] = uint32(nc)
		d.ncs = append(d.ncs, uint32(nc))
	}
	return true, false
}
