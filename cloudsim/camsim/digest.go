package camsim

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// realmFor derives a stable hex-like realm from the serial number, as many Hikvision
// firmwares present one.
func realmFor(serial string) string {
	sum := md5.Sum([]byte(serial))
	return hex.EncodeToString(sum[:])
}

// digestAuth is the ISAPI HTTP authenticator: Digest MD5 with qop=auth and nonces that
// expire, or Basic only for old-camera simulation.
//
// Nonces are stateless ("hex:unixmillis" where hex is an HMAC of the time under a
// per-process key), so any number of clients can authenticate without the simulator
// keeping a table; nc replay is not checked, which no test of the box needs.
type digestAuth struct {
	user, pass, realm string
	ttl               time.Duration
	clock             Clock
	basicOnly         bool
	key               []byte
}

func newDigestAuth(cfg Config) *digestAuth {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &digestAuth{
		user: cfg.User, pass: cfg.Password, realm: cfg.Realm, ttl: cfg.NonceTTL,
		clock: cfg.Clock, basicOnly: cfg.BasicAuth, key: key,
	}
}

func (d *digestAuth) mac(ts string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (d *digestAuth) newNonce() string {
	ts := strconv.FormatInt(d.clock.Now().UnixMilli(), 10)
	return d.mac(ts) + ":" + ts
}

// nonceFresh reports whether the nonce is ours and younger than the TTL.
func (d *digestAuth) nonceFresh(nonce string) bool {
	h, ts, ok := strings.Cut(nonce, ":")
	if !ok || !hmac.Equal([]byte(h), []byte(d.mac(ts))) {
		return false
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	age := d.clock.Now().Sub(time.UnixMilli(ms))
	return age >= 0 && age <= d.ttl
}

// authResult is the outcome of checking a request's credentials.
type authResult int

const (
	authMissing authResult = iota // no or unusable Authorization header
	authOK
	authWrong // credentials wrong
	authStale // digest right, nonce expired or foreign: re-authenticate
)

func (d *digestAuth) check(r *http.Request) authResult {
	h := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(h, " ")
	switch {
	case h == "":
		return authMissing
	case strings.EqualFold(scheme, "Basic"):
		if !d.basicOnly {
			return authMissing // digest devices ignore Basic and challenge again
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return authWrong
		}
		u, p, _ := strings.Cut(string(raw), ":")
		if subtle.ConstantTimeCompare([]byte(u), []byte(d.user)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(d.pass)) == 1 {
			return authOK
		}
		return authWrong
	case strings.EqualFold(scheme, "Digest") && !d.basicOnly:
		return d.checkDigest(r.Method, parseAuthParams(rest))
	}
	return authMissing
}

func (d *digestAuth) checkDigest(method string, p map[string]string) authResult {
	if p["username"] != d.user || p["realm"] != d.realm || p["nonce"] == "" || p["uri"] == "" {
		return authWrong
	}
	if alg := p["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return authWrong
	}
	ha1 := md5hex(d.user + ":" + d.realm + ":" + d.pass)
	ha2 := md5hex(method + ":" + p["uri"])
	var want string
	switch p["qop"] {
	case "auth":
		want = md5hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	case "":
		want = md5hex(ha1 + ":" + p["nonce"] + ":" + ha2) // RFC 2069 clients
	default:
		return authWrong
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(p["response"]))) != 1 {
		return authWrong
	}
	if !d.nonceFresh(p["nonce"]) {
		return authStale
	}
	return authOK
}

// challenge writes the 401 a Hikvision device sends: WWW-Authenticate with quoted,
// upper-case stale, and a <userCheck> body.
func (d *digestAuth) challenge(w http.ResponseWriter, stale bool) {
	if d.basicOnly {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", d.realm))
	} else {
		st := "FALSE"
		if stale {
			st = "TRUE"
		}
		w.Header().Set("WWW-Authenticate",
			fmt.Sprintf(`Digest qop="auth", realm="%s", nonce="%s", stale="%s"`, d.realm, d.newNonce(), st))
	}
	w.Header().Set("Content-Type", `application/xml; charset="UTF-8"`)
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = fmt.Fprint(w, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<userCheck>\r\n"+
		"<statusValue>401</statusValue>\r\n<statusString>Unauthorized</statusString>\r\n</userCheck>\r\n")
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// parseAuthParams splits `k="v", k2=v2` honouring quotes (values may hold commas).
func parseAuthParams(s string) map[string]string {
	out := make(map[string]string)
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return out
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val = b.String()
			if i < len(s) {
				i++
			}
			s = s[i:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val = strings.TrimSpace(s[:end])
			s = s[end:]
		}
		out[key] = val
	}
}
