package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config configures a Client.
type Config struct {
	// URL is the cloud's base URL, e.g. http://127.0.0.1:7000; required.
	URL string
	// HTTPClient defaults to one with a 15 s timeout (never http.DefaultClient).
	HTTPClient *http.Client
	// Token is a device token from an earlier registration, if the box kept one.
	Token string
}

// Client calls the box API. It is safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client
	mu   sync.Mutex
	tok  string
}

// New returns a Client; it does not contact the cloud.
func New(cfg Config) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{base: strings.TrimRight(cfg.URL, "/") + "/api/v1", hc: cfg.HTTPClient, tok: cfg.Token}
}

// Token returns the current device token ("" before registration), for persisting.
func (c *Client) Token() string { c.mu.Lock(); defer c.mu.Unlock(); return c.tok }

// SetToken installs a device token kept from an earlier registration.
func (c *Client) SetToken(tok string) { c.mu.Lock(); defer c.mu.Unlock(); c.tok = tok }

// Register trades the serial number and verification code for a device token, which
// the client keeps. Registering again rotates the token.
func (c *Client) Register(ctx context.Context, serial, verificationCode string) (Registration, error) {
	var out Registration
	err := c.do(ctx, false, "POST", "/box/register", map[string]string{"serial": serial, "verification_code": verificationCode}, &out)
	if err == nil {
		c.SetToken(out.Token)
	}
	return out, err
}

// Heartbeat reports liveness and the applied config version.
func (c *Client) Heartbeat(ctx context.Context, req HeartbeatRequest) (HeartbeatResponse, error) {
	var out HeartbeatResponse
	return out, c.do(ctx, true, "POST", "/box/heartbeat", req, &out)
}

// ReportHealth sends a health report (answering an inspection when InspectionID is set).
func (c *Client) ReportHealth(ctx context.Context, rep HealthReport) error {
	return c.do(ctx, true, "POST", "/box/health", rep, nil)
}

// Channels fetches the remote channel configuration with package status.
func (c *Client) Channels(ctx context.Context) (ChannelList, error) {
	var out ChannelList
	return out, c.do(ctx, true, "GET", "/box/channels", nil, &out)
}

// RegisterClip indexes an uploaded clip. Retrying after a lost answer is safe: the
// cloud returns the existing record for a known object key. ErrNotSubscribed means the
// channel had no active package.
func (c *Client) RegisterClip(ctx context.Context, clip Clip) (ClipRecord, error) {
	var out ClipRecord
	return out, c.do(ctx, true, "POST", "/box/clips", clip, &out)
}

// Storage fetches the object storage settings for this box.
func (c *Client) Storage(ctx context.Context) (Storage, error) {
	var out Storage
	return out, c.do(ctx, true, "GET", "/box/storage", nil, &out)
}

func (c *Client) do(ctx context.Context, auth bool, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("cloud: encode %s: %w", path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("cloud: %s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth {
		tok := c.Token()
		if tok == "" {
			return ErrNotRegistered
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cloud: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("cloud: %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &eb)
		return &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("cloud: %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}
