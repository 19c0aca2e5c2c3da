package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/internal/testenv"
)

func post(t *testing.T, url, tok string, body, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(raw))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return doJSON(t, req, out)
}

func doJSON(t *testing.T, req *http.Request, out any) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(raw, out), string(raw))
	}
	return resp.StatusCode
}

// TestOneCommandStart runs the command as a user would (seeded, embedded S3), uses it
// over the wire, stops it with its context and starts it again on the same data.
func TestOneCommandStart(t *testing.T) {
	data := t.TempDir()
	apiAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	s3Addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	args := []string{"--data", data, "--listen", apiAddr, "--s3-listen", s3Addr, "--seed", "demo", "--log-level", "warn", "--bcrypt-cost", "4"}
	start := func() func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, args, func(string) string { return "" }, io.Discard) }()
		testenv.WaitTCP(t, apiAddr, 60*time.Second)
		return func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(15 * time.Second):
				t.Fatal("cloudsim did not stop")
			}
		}
	}
	stop := start()
	base := "http://" + apiAddr + "/api/v1"
	var seed struct {
		SiteID           string `json:"site_id"`
		BoxSerial        string `json:"box_serial"`
		VerificationCode string `json:"box_verification_code"`
	}
	raw, err := os.ReadFile(filepath.Join(data, "seed.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &seed))

	var reg struct{ Token string }
	require.Equal(t, 200, post(t, base+"/box/register", "", map[string]string{"serial": seed.BoxSerial, "verification_code": seed.VerificationCode}, &reg))
	var st struct {
		Endpoint, Bucket, Prefix, Region string
		AccessKey                        string `json:"access_key"`
		SecretKey                        string `json:"secret_key"`
	}
	req, _ := http.NewRequest("GET", base+"/box/storage", nil)
	req.Header.Set("Authorization", "Bearer "+reg.Token)
	require.Equal(t, 200, doJSON(t, req, &st))
	require.Equal(t, "http://"+s3Addr, st.Endpoint)

	// The box can upload to the embedded S3 with what the cloud told it.
	c := s3.New(s3.Options{BaseEndpoint: aws.String(st.Endpoint), Region: st.Region, UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(st.AccessKey, st.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired})
	_, err = c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(st.Prefix + "ch01/x.mp4"), Body: bytes.NewReader([]byte("clip"))})
	require.NoError(t, err)

	var channels struct {
		Channels []struct {
			Channel int
			Package struct{ Active bool }
		}
	}
	req, _ = http.NewRequest("GET", base+"/box/channels", nil)
	req.Header.Set("Authorization", "Bearer "+reg.Token)
	require.Equal(t, 200, doJSON(t, req, &channels))
	require.Len(t, channels.Channels, 4)
	require.True(t, channels.Channels[0].Package.Active)
	require.False(t, channels.Channels[3].Package.Active, "the demo leaves one channel without a package")
	// Health lives in memory between ticks; a graceful stop must flush it.
	require.Equal(t, 200, post(t, base+"/box/health", reg.Token, map[string]any{
		"box": map[string]any{"network": "ok", "disk": map[string]string{"status": "ok"}, "uplink": "ok", "firmware": "9.9.9"}}, nil))
	resp, err := http.Get("http://" + apiAddr + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(metrics), `cloudsim_requests_total{code="200",route="POST /api/v1/box/register"} 1`)
	stop()

	stop = start()
	defer stop()
	var login struct{ Token string }
	require.Equal(t, 200, post(t, base+"/login", "", map[string]string{"email": "admin@demo.test", "password": "demo-password"}, &login))
	var health struct {
		Devices []struct {
			Type   string
			Health *struct{ Firmware string }
		}
	}
	req, _ = http.NewRequest("GET", base+"/sites/"+seed.SiteID+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	require.Equal(t, 200, doJSON(t, req, &health))
	found := false
	for _, d := range health.Devices {
		if d.Type == "box" {
			require.NotNil(t, d.Health)
			require.Equal(t, "9.9.9", d.Health.Firmware, "health flushed on shutdown")
			found = true
		}
	}
	require.True(t, found)
	require.Equal(t, 200, post(t, base+"/box/heartbeat", reg.Token, map[string]any{}, nil), "the box credential survived the restart")
	_, err = c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(st.Bucket), Key: aws.String(st.Prefix + "ch01/x.mp4")})
	require.NoError(t, err, "the embedded S3 kept the object")
}

func TestFlagsValidateAtOnce(t *testing.T) {
	_, err := parse([]string{"--s3", "ftp://x", "--s3-bucket", "", "--tick", "0s"}, func(string) string { return "" }, io.Discard)
	require.ErrorContains(t, err, "--s3")
	require.ErrorContains(t, err, "--s3-bucket")
	require.ErrorContains(t, err, "--tick")
	o, err := parse(nil, func(k string) string {
		if k == "CLOUDSIM_LISTEN" {
			return "127.0.0.1:9999"
		}
		return ""
	}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9999", o.Listen)
	o, err = parse([]string{"--listen", "127.0.0.1:1"}, func(k string) string {
		if k == "CLOUDSIM_LISTEN" {
			return "127.0.0.1:9999"
		}
		return ""
	}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:1", o.Listen, "flags win over the environment")
}
