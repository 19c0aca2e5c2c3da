package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/proconnect-oss/boxfw/cloudsim/api"
	"github.com/proconnect-oss/boxfw/cloudsim/objstore"
	"github.com/proconnect-oss/boxfw/internal/testenv"
)

// TestMinIOPlaybackAndRetention runs the clip lifecycle against a real MinIO: the box
// uploads and registers a clip, the owner's presigned links fetch the exact bytes (and
// the download link is an attachment), and the retention sweep deletes the object.
func TestMinIOPlaybackAndRetention(t *testing.T) {
	m := testenv.StartMinIO(t)
	objs, err := objstore.New(objstore.Config{Endpoint: m.Endpoint, Bucket: "clips", AccessKey: m.AccessKey, SecretKey: m.SecretKey,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}})
	require.NoError(t, err)
	require.NoError(t, objs.EnsureBucket(t.Context()))
	require.NoError(t, objs.EnsureBucket(t.Context()), "idempotent")

	// A world whose server talks to MinIO instead of the fake.
	tmpl := newWorld(t, stHanded)
	require.NoError(t, tmpl.srv.Flush())
	w := tmpl.clone(t)
	srv, err := api.New(api.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: w.db, Clock: w.clock, Objects: objs,
		Storage:    api.Storage{Endpoint: m.Endpoint, Bucket: "clips", Prefix: "v1/", AccessKey: m.AccessKey, SecretKey: m.SecretKey},
		BcryptCost: bcrypt.MinCost})
	require.NoError(t, err)
	w.srv, w.h = srv, srv.Handler()

	body := bytes.Repeat([]byte("fMP4"), 4096)
	sum := sha256.Sum256(body)
	clip := w.clip(1, t0.Add(10*time.Second))
	clip["size"], clip["sha256"] = len(body), hex.EncodeToString(sum[:])
	key := clip["object_key"].(string)
	_, err = objs.S3().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("clips"), Key: aws.String(key), Body: bytes.NewReader(body), IfNoneMatch: aws.String("*")})
	require.NoError(t, err)
	w.ok(w.tok["box"], "POST", "/api/v1/box/clips", clip, nil)

	hc := &http.Client{Timeout: 10 * time.Second}
	fetch := func(url string) (*http.Response, []byte) {
		resp, err := hc.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}
	var pb media
	w.ok(w.tok["owner"], "POST", w.site("/playback"), map[string]any{"box_id": w.id["box"], "channels": []int{1}, "from": t0, "to": t0.Add(time.Hour)}, &pb)
	require.Len(t, pb.Channels["1"], 2) // the fixture's clip (never uploaded) and ours
	link := pb.Channels["1"][1]
	require.Equal(t, key, link.ObjectKey)
	resp, got := fetch(link.URL)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(got))
	require.Equal(t, body, got)

	var dl media
	w.ok(w.tok["owner"], "POST", w.site("/downloads"), map[string]any{"box_id": w.id["box"], "channels": []int{1}, "from": t0}, &dl)
	resp, got = fetch(dl.Channels["1"][1].URL)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	require.Equal(t, body, got)

	// Tampering with the signed link is refused.
	resp, _ = fetch(link.URL + "x")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	w.clock.Add(8 * 24 * time.Hour)
	require.NoError(t, w.srv.Tick(t.Context()))
	_, err = objs.S3().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("clips"), Key: aws.String(key)})
	require.Error(t, err, "retention deleted the object")
	w.relogin()
	var list []api.Clip
	w.ok(w.tok["owner"], "GET", w.site("/boxes/"+w.id["box"]+"/clips"), nil, &list)
	require.Empty(t, list)
}
