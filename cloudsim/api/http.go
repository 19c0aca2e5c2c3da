package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/proconnect-oss/boxfw/cloudsim/store"
)

// authKind says who may call a route at all; finer role and company checks happen in
// the handler, where the site is known.
type authKind int

const (
	authNone authKind = iota // public: sign-up, login, box registration, the OpenAPI doc
	authUser                 // a person's bearer token
	authBox                  // a box's device token
)

// route is one row of the single route table that feeds both the mux and the OpenAPI
// document, so the two cannot drift apart.
type route struct {
	method  string
	path    string // Go 1.22 mux pattern path, e.g. /api/v1/sites/{site}
	summary string
	auth    authKind
	status  int // success status
	h       func(*call) (any, error)
}

// RouteHeader names the response header carrying the matched route ("METHOD PATH"), so
// tests can prove a documented path really reaches its handler.
const RouteHeader = "X-Cloudsim-Route"

// call is one request as handlers see it.
type call struct {
	ctx  context.Context
	r    *http.Request
	now  time.Time
	user *User   // set for authUser routes
	box  *Device // set for authBox routes
}

func (c *call) param(name string) string { return c.r.PathValue(name) }

// decode reads a JSON body into v, refusing unknown fields so typos fail loudly.
func (c *call) decode(v any) error {
	if c.r.Body == nil {
		return fmt.Errorf("%w: body required", ErrInvalid)
	}
	dec := json.NewDecoder(io.LimitReader(c.r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body: %v", ErrInvalid, err)
	}
	return nil
}

func (s *Server) buildMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.HandleFunc(rt.method+" "+rt.path, s.wrap(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fmt.Errorf("%w: no route %s %s", ErrNotFound, r.Method, r.URL.Path))
	})
	return mux
}

func (s *Server) wrap(rt route) http.HandlerFunc {
	key := rt.method + " " + rt.path
	return func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now() // wall time on purpose: latency is real, whatever the clock says
		w := &statusRecorder{ResponseWriter: rw, code: http.StatusOK}
		defer func() { s.metrics.observe(key, w.code, time.Since(start).Seconds()) }()
		w.Header().Set(RouteHeader, key)
		c := &call{ctx: r.Context(), r: r, now: s.cfg.Clock.Now()}
		var err error
		switch rt.auth {
		case authUser:
			c.user, err = s.authUser(r, c.now)
		case authBox:
			c.box, err = s.authBox(r)
		}
		var out any
		if err == nil {
			out, err = rt.h(c)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if raw, ok := out.(rawJSON); ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rt.status)
			_, _ = w.Write(raw)
			return
		}
		writeJSON(w, rt.status, out)
	}
}

// rawJSON is a handler result that is already encoded.
type rawJSON []byte

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		v = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// ErrorBody is the one error shape of the API.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := statusOf(err)
	var body ErrorBody
	body.Error.Code = code
	body.Error.Message = err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		body.Error.Message = "internal error"
	}
	writeJSON(w, status, body)
}

func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", fmt.Errorf("%w: missing bearer token", ErrUnauthenticated)
	}
	return tok, nil
}

// notFoundAs converts a store miss into the API's not-found error.
func notFoundAs(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return err
}
