package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Config locates the bucket.
type Config struct {
	Endpoint  string // e.g. http://127.0.0.1:9000; required
	Region    string // default us-east-1
	Bucket    string // required
	AccessKey string
	SecretKey string
	// HTTPClient defaults to a client with a 30 s timeout (never http.DefaultClient).
	HTTPClient *http.Client
}

// Client is an S3 client bound to one bucket.
type Client struct {
	bucket  string
	s3      *s3.Client
	presign *s3.PresignClient
}

// New builds a Client. It does not contact the endpoint.
func New(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, fmt.Errorf("%w: endpoint and bucket required", ErrConfig)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(cfg.Endpoint),
		Region:       cfg.Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		HTTPClient:   cfg.HTTPClient,
		// Many S3-compatible stores reject the SDK's default CRC32 trailers.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return &Client{bucket: cfg.Bucket, s3: c, presign: s3.NewPresignClient(c)}, nil
}

// S3 exposes the underlying client (tests use it to put and inspect objects).
func (c *Client) S3() *s3.Client { return c.s3 }

// EnsureBucket creates the bucket if it does not exist.
func (c *Client) EnsureBucket(ctx context.Context) error {
	if _, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &c.bucket}); err == nil {
		return nil
	}
	_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &c.bucket})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("objstore: create bucket %s: %w", c.bucket, err)
	}
	return nil
}

// PresignGet returns a GET link valid for ttl. A non-empty attachmentName makes the
// browser save the object under that name (downloads) instead of playing it.
func (c *Client) PresignGet(ctx context.Context, key string, ttl time.Duration, attachmentName string) (string, error) {
	in := &s3.GetObjectInput{Bucket: &c.bucket, Key: &key}
	if attachmentName != "" {
		in.ResponseContentDisposition = aws.String(fmt.Sprintf("attachment; filename=%q", attachmentName))
	}
	req, err := c.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("objstore: presign %s: %w", key, err)
	}
	return req.URL, nil
}

// Delete removes key; deleting a missing key succeeds (S3 semantics).
func (c *Client) Delete(ctx context.Context, key string) error {
	if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &c.bucket, Key: &key}); err != nil {
		return fmt.Errorf("objstore: delete %s: %w", key, err)
	}
	return nil
}
