package objstore_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/cloudsim/objstore"
	"github.com/proconnect-oss/boxfw/cloudsim/s3server"
)

func TestConfigRequired(t *testing.T) {
	_, err := objstore.New(objstore.Config{Bucket: "b"})
	require.ErrorIs(t, err, objstore.ErrConfig)
	_, err = objstore.New(objstore.Config{Endpoint: "http://127.0.0.1:1"})
	require.ErrorIs(t, err, objstore.ErrConfig)
}

// TestAgainstEmbeddedS3 covers bucket creation, presigned GET (inline and attachment)
// and delete on the embedded endpoint; the MinIO run is in the api package.
func TestAgainstEmbeddedS3(t *testing.T) {
	srv, err := s3server.New(s3server.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DataDir: t.TempDir()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	c, err := objstore.New(objstore.Config{Endpoint: srv.Endpoint(), Bucket: "clips", AccessKey: "k", SecretKey: "s"})
	require.NoError(t, err)
	require.NoError(t, c.EnsureBucket(t.Context()))
	require.NoError(t, c.EnsureBucket(t.Context()))
	_, err = c.S3().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("clips"), Key: aws.String("a/b.mp4"), Body: bytes.NewReader([]byte("video"))})
	require.NoError(t, err)

	u, err := c.PresignGet(t.Context(), "a/b.mp4", time.Minute, "b.mp4")
	require.NoError(t, err)
	require.Contains(t, u, "X-Amz-Expires=60")
	require.Contains(t, u, "response-content-disposition")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(u)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "video", string(body))

	require.NoError(t, c.Delete(t.Context(), "a/b.mp4"))
	require.NoError(t, c.Delete(t.Context(), "a/b.mp4"), "deleting a missing key succeeds")
	_, err = c.S3().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("clips"), Key: aws.String("a/b.mp4")})
	require.Error(t, err)
}
