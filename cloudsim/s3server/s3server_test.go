package s3server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/cloudsim/s3server"
)

func start(t *testing.T, dir string) (*s3.Client, func()) {
	t.Helper()
	srv, err := s3server.New(s3server.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DataDir: dir, Buckets: []string{"clips"}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	// The box's client settings (uplink): path-style, checksums only when required.
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.Endpoint()), Region: "us-east-1", UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider("box", "secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return c, func() { cancel(); require.NoError(t, <-done) }
}

func TestEmbeddedS3WithAWSSDK(t *testing.T) {
	dir := t.TempDir()
	c, stop := start(t, dir)
	ctx := t.Context()
	bucket := aws.String("clips")

	t.Run("put with If-None-Match refuses an overwrite", func(t *testing.T) {
		put := &s3.PutObjectInput{Bucket: bucket, Key: aws.String("boxes/B1/ch01/a.mp4"), Body: bytes.NewReader([]byte("first")),
			IfNoneMatch: aws.String("*"), Metadata: map[string]string{"sha256": "abc", "channel": "1"}, ContentType: aws.String("video/mp4")}
		_, err := c.PutObject(ctx, put)
		require.NoError(t, err)
		put.Body = bytes.NewReader([]byte("second"))
		_, err = c.PutObject(ctx, put)
		var api smithy.APIError
		require.True(t, errors.As(err, &api), "%v", err)
		require.Equal(t, "PreconditionFailed", api.ErrorCode())
	})
	t.Run("head returns size and metadata", func(t *testing.T) {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("boxes/B1/ch01/a.mp4")})
		require.NoError(t, err)
		require.Equal(t, int64(5), aws.ToInt64(h.ContentLength))
		require.Equal(t, "abc", h.Metadata["sha256"])
		require.Equal(t, "1", h.Metadata["channel"])
	})
	part1 := make([]byte, 5<<20)
	_, _ = rand.Read(part1)
	part2 := []byte("tail of the clip")
	t.Run("multipart upload", func(t *testing.T) {
		key := aws.String("boxes/B1/ch02/big.mp4")
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key, Metadata: map[string]string{"sha256": "def"}})
		require.NoError(t, err)
		var parts []types.CompletedPart
		for i, p := range [][]byte{part1, part2} {
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: up.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
			require.NoError(t, err)
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
		}
		lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: up.UploadId})
		require.NoError(t, err)
		require.Len(t, lp.Parts, 2, "a resuming uploader lists the parts it already sent")
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		require.NoError(t, err)
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
		require.NoError(t, err)
		require.Equal(t, int64(len(part1)+len(part2)), aws.ToInt64(h.ContentLength))
		require.Equal(t, "def", h.Metadata["sha256"])
	})
	stop()

	t.Run("objects survive a restart", func(t *testing.T) {
		c, stop := start(t, dir)
		defer stop()
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("boxes/B1/ch02/big.mp4")})
		require.NoError(t, err)
		body, err := io.ReadAll(got.Body)
		require.NoError(t, err)
		require.Equal(t, append(append([]byte(nil), part1...), part2...), body)
		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("boxes/B1/ch01/a.mp4")})
		require.NoError(t, err)
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("boxes/B1/ch01/a.mp4")})
		require.Error(t, err)
	})
}
