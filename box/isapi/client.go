package isapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults for ClientOptions and HTTPOptions.
const (
	DefaultRequestTimeout    = 10 * time.Second
	DefaultDialTimeout       = 5 * time.Second
	DefaultKeepAliveIdle     = 30 * time.Second
	DefaultKeepAliveInterval = 10 * time.Second
	DefaultKeepAliveCount    = 3
	maxResponseSize          = 4 << 20
)

// HTTPOptions shape the *http.Client built by NewHTTPClient. Zero values mean
// the documented defaults.
type HTTPOptions struct {
	DialTimeout time.Duration // default 5 s
	// TCP keepalive finds a dead device on a quiet alertStream without a
	// heartbeat timer: idle 30 s, then probes every 10 s, 3 probes (about 60 s).
	KeepAliveIdle     time.Duration
	KeepAliveInterval time.Duration
	KeepAliveCount    int
	// ResponseHeaderTimeout bounds the wait for response headers (default 15 s).
	// It does not limit how long a streamed body may last.
	ResponseHeaderTimeout time.Duration
}

// NewHTTPClient returns a client fit for devices: TCP keepalive on the dialer,
// no proxy from the environment (devices sit on the LAN), and no overall
// timeout because the alertStream never ends. Per-request deadlines come from
// contexts.
func NewHTTPClient(o HTTPOptions) *http.Client {
	d := &net.Dialer{
		Timeout: cmpOr(o.DialTimeout, DefaultDialTimeout),
		KeepAliveConfig: net.KeepAliveConfig{
			Enable:   true,
			Idle:     cmpOr(o.KeepAliveIdle, DefaultKeepAliveIdle),
			Interval: cmpOr(o.KeepAliveInterval, DefaultKeepAliveInterval),
			Count:    cmpOr(o.KeepAliveCount, DefaultKeepAliveCount),
		},
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cmpOr(o.ResponseHeaderTimeout, 15*time.Second),
		TLSHandshakeTimeout:   10 * time.Second,
	}}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// ClientOptions configure a Client. Zero values mean the documented defaults.
type ClientOptions struct {
	// URL of the device, e.g. "http://192.168.1.64" or "192.168.1.64:8080"
	// (http is assumed). User info in the URL is used when Username is empty.
	URL      string
	Username string
	Password string
	// HTTPClient is used for every request; nil means NewHTTPClient(HTTPOptions{}).
	// Its Timeout must be 0 for AlertStream to work.
	HTTPClient *http.Client
	// Logger; nil discards.
	Logger *slog.Logger
	// RequestTimeout bounds each discovery request (not the alertStream).
	// Default 10 s.
	RequestTimeout time.Duration
}

// Client speaks ISAPI to one device. It is safe for concurrent use; the Digest
// nonce is shared so that requests reuse it with an increasing nonce count.
type Client struct {
	base    *url.URL
	user    string
	pass    string
	hc      *http.Client
	log     *slog.Logger
	timeout time.Duration

	mu   sync.Mutex
	auth *authState // nil until the first challenge
}

// NewClient validates opts and returns a Client.
func NewClient(opts ClientOptions) (*Client, error) {
	raw := strings.TrimSpace(opts.URL)
	if raw == "" {
		return nil, errors.New("isapi: client: URL is required")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("isapi: client: bad URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("isapi: client: bad URL %q: want http(s)://host[:port]", opts.URL)
	}
	c := &Client{user: opts.Username, pass: opts.Password, hc: opts.HTTPClient, log: opts.Logger,
		timeout: cmpOr(opts.RequestTimeout, DefaultRequestTimeout)}
	if c.user == "" && u.User != nil {
		c.user = u.User.Username()
		c.pass, _ = u.User.Password()
	}
	u.User = nil
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	c.base = u
	if c.hc == nil {
		c.hc = NewHTTPClient(HTTPOptions{})
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "isapi", "device", u.Host)
	return c, nil
}

// Host returns the device's host:port, for logs.
func (c *Client) Host() string { return c.base.Host }

func (c *Client) url(path string) string {
	u := *c.base
	p, q, _ := strings.Cut(path, "?")
	u.Path += p
	u.RawQuery = q
	return u.String()
}

// Get fetches an ISAPI path and returns the body of a 2xx answer. Non-2xx
// answers and <ResponseStatus> bodies reporting a failure become *StatusError.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return nil, fmt.Errorf("isapi: GET %s: reading body: %w", path, err)
	}
	if se := responseStatus(resp.StatusCode, path, body); se != nil && se.StatusCode != StatusOK {
		return nil, se
	}
	return body, nil
}

// do sends one request with credentials, handling the Digest/Basic handshake.
// It returns a 2xx response (caller closes the body) or an error.
//
// Credentials are sent pre-emptively with the cached nonce (nc incremented).
// On a 401 the request is retried once with the fresh challenge: that covers
// the first contact, a stale nonce and a rotated one, while a wrong password
// costs the device only two failed attempts (devices lock accounts after a few).
func (c *Client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, c.url(path), bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("isapi: %s %s: %w", method, path, err)
		}
		if body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", "application/xml")
		}
		sent, err := c.authorize(req)
		if err != nil {
			return nil, err
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("isapi: %s %s: %w", method, path, err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		errBody, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			if se := responseStatus(resp.StatusCode, path, errBody); se != nil {
				return nil, se
			}
			return nil, &StatusError{HTTPStatus: resp.StatusCode, URL: path}
		}
		next, err := pickChallenge(parseChallenges(resp.Header))
		if err != nil {
			return nil, fmt.Errorf("isapi: %s %s: %w", method, path, err)
		}
		stale := strings.EqualFold(next.stale, "true")
		c.mu.Lock()
		c.auth = next
		c.mu.Unlock()
		retry := sent == nil || stale || sent.nonce != next.nonce || sent.basic != next.basic
		if attempt == 0 && retry {
			c.log.Debug("authenticating", "stale", stale, "basic", next.basic, "realm", next.realm)
			continue
		}
		se := userCheck(path, errBody)
		return nil, fmt.Errorf("%w: %w", ErrUnauthorized, se)
	}
}

// authorize adds the Authorization header from the cached challenge, if any,
// and returns the state it used.
func (c *Client) authorize(req *http.Request) (*authState, error) {
	c.mu.Lock()
	st := c.auth
	if st == nil {
		c.mu.Unlock()
		return nil, nil
	}
	st.nc++
	nc := st.nc
	used := *st
	c.mu.Unlock()
	h, err := used.authorization(c.user, c.pass, req.Method, req.URL.RequestURI(), nc)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", h)
	return &used, nil
}

// responseStatus parses a <ResponseStatus> body; nil if body is not one.
func responseStatus(httpStatus int, path string, body []byte) *StatusError {
	root, err := parseXML(body)
	if err != nil || !strings.EqualFold(root.Name, "ResponseStatus") {
		return nil
	}
	se := &StatusError{
		HTTPStatus:    httpStatus,
		URL:           firstNonEmpty(root.text("requestURL"), path),
		StatusString:  root.text("statusString"),
		SubStatusCode: root.text("subStatusCode"),
		ErrorMsg:      root.text("errorMsg"),
	}
	se.StatusCode, _ = root.int("statusCode")
	se.ErrorCode, _ = root.int("errorCode")
	return se
}

// userCheck turns the 401 body (<userCheck>) into a StatusError that says
// whether the account is locked, which is what an installer needs to know.
func userCheck(path string, body []byte) *StatusError {
	se := &StatusError{HTTPStatus: http.StatusUnauthorized, URL: path}
	root, err := parseXML(body)
	if err != nil || !strings.EqualFold(root.Name, "userCheck") {
		if rs := responseStatus(http.StatusUnauthorized, path, body); rs != nil {
			return rs
		}
		return se
	}
	se.StatusCode, _ = root.int("statusValue")
	se.StatusString = root.text("statusString")
	if ls := root.text("lockStatus"); strings.EqualFold(ls, "lock") {
		se.ErrorMsg = fmt.Sprintf("account locked for %s s", root.text("unlockTime"))
	} else if n := root.text("retryLoginTime"); n != "" {
		se.ErrorMsg = n + " login attempts left"
	}
	return se
}
