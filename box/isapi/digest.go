package isapi

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
)

// challenge is one parsed WWW-Authenticate challenge.
type challenge struct {
	Scheme string            // "digest" or "basic", lower case
	Params map[string]string // keys lower case, values unquoted
}

// parseChallenges reads every challenge of every WWW-Authenticate header.
// Devices send Digest and Basic in separate headers or one; realms may be hex
// strings, quoted or not, and parameter values may contain commas inside quotes.
func parseChallenges(h http.Header) []challenge {
	var out []challenge
	for _, v := range h.Values("Www-Authenticate") {
		out = append(out, parseChallengeList(v)...)
	}
	return out
}

func parseChallengeList(s string) []challenge {
	var out []challenge
	var cur *challenge
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		// A token followed by space (not '=') starts a new challenge.
		tok := s
		if i := strings.IndexAny(s, " \t=,"); i >= 0 {
			tok = s[:i]
		}
		rest := s[len(tok):]
		restTrim := strings.TrimLeft(rest, " \t")
		if !strings.HasPrefix(restTrim, "=") {
			out = append(out, challenge{Scheme: strings.ToLower(tok), Params: map[string]string{}})
			cur = &out[len(out)-1]
			s = rest
			continue
		}
		// key=value
		s = strings.TrimLeft(restTrim[1:], " \t")
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
			i := strings.IndexAny(s, ", \t")
			if i < 0 {
				i = len(s)
			}
			val, s = s[:i], s[i:]
		}
		if cur != nil {
			cur.Params[strings.ToLower(tok)] = val
		}
	}
	return out
}

// authState is the credentials scheme learned from the device's last challenge,
// reused on later requests so most requests need one round trip.
type authState struct {
	basic     bool
	realm     string
	nonce     string
	opaque    string
	algorithm string // as sent, "" means MD5
	qop       string // "auth" or "" for legacy RFC 2069
	stale     string // the challenge's stale parameter
	nc        uint32
}

// pickChallenge prefers Digest MD5 (what the spec and every Hikvision firmware
// offer), then any Digest we can compute, then Basic for old cameras.
func pickChallenge(cs []challenge) (*authState, error) {
	var digest []challenge
	var basic *challenge
	for i, c := range cs {
		switch c.Scheme {
		case "digest":
			if _, ok := digestHash(c.Params["algorithm"]); ok {
				digest = append(digest, c)
			}
		case "basic":
			basic = &cs[i]
		}
	}
	rank := func(c challenge) int {
		switch strings.ToUpper(c.Params["algorithm"]) {
		case "", "MD5":
			return 0
		case "MD5-SESS":
			return 1
		}
		return 2
	}
	if len(digest) > 0 {
		best := digest[0]
		for _, c := range digest[1:] {
			if rank(c) < rank(best) {
				best = c
			}
		}
		st := &authState{
			realm:     best.Params["realm"],
			nonce:     best.Params["nonce"],
			opaque:    best.Params["opaque"],
			algorithm: best.Params["algorithm"],
			stale:     best.Params["stale"],
		}
		if best.Params["qop"] != "" {
			for _, q := range strings.Split(best.Params["qop"], ",") {
				if strings.EqualFold(strings.TrimSpace(q), "auth") {
					st.qop = "auth"
				}
			}
			if st.qop == "" {
				return nil, fmt.Errorf("%w: qop %q", ErrUnsupportedAuth, best.Params["qop"])
			}
		}
		return st, nil
	}
	if basic != nil {
		return &authState{basic: true}, nil
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: 401 without WWW-Authenticate", ErrUnsupportedAuth)
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedAuth, cs[0].Scheme)
}

func digestHash(algorithm string) (func() hash.Hash, bool) {
	switch strings.ToUpper(algorithm) {
	case "", "MD5", "MD5-SESS":
		return md5.New, true
	case "SHA-256", "SHA-256-SESS":
		return sha256.New, true
	}
	return nil, false
}

func hexHash(newHash func() hash.Hash, parts ...string) string {
	h := newHash()
	h.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h.Sum(nil))
}

// authorization computes the Authorization header for one request. nc must be
// the already incremented nonce count.
func (st *authState) authorization(user, pass, method, uri string, nc uint32) (string, error) {
	if st.basic {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)), nil
	}
	newHash, _ := digestHash(st.algorithm)
	var cnonceRaw [8]byte
	if _, err := rand.Read(cnonceRaw[:]); err != nil {
		return "", fmt.Errorf("isapi: cnonce: %w", err)
	}
	cnonce := hex.EncodeToString(cnonceRaw[:])
	ha1 := hexHash(newHash, user, st.realm, pass)
	if strings.HasSuffix(strings.ToUpper(st.algorithm), "-SESS") {
		ha1 = hexHash(newHash, ha1, st.nonce, cnonce)
	}
	ha2 := hexHash(newHash, method, uri)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s"`, quoteEscape(user), quoteEscape(st.realm), st.nonce, uri)
	if st.qop != "" {
		ncs := fmt.Sprintf("%08x", nc)
		resp := hexHash(newHash, ha1, st.nonce, ncs, cnonce, st.qop, ha2)
		fmt.Fprintf(&b, `, response="%s", qop=%s, nc=%s, cnonce="%s"`, resp, st.qop, ncs, cnonce)
	} else {
		// RFC 2069, still spoken by some old firmware.
		fmt.Fprintf(&b, `, response="%s"`, hexHash(newHash, ha1, st.nonce, ha2))
	}
	if st.algorithm != "" {
		fmt.Fprintf(&b, `, algorithm=%s`, st.algorithm)
	}
	if st.opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, st.opaque)
	}
	return b.String(), nil
}

func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
