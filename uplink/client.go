package uplink

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultRegion is used when ClientConfig.Region is empty: S3-compatible stores accept
// any region in the signature, and us-east-1 is what they expect by default.
const DefaultRegion = "us-east-1"

// ClientConfig says how to reach an S3-compatible endpoint.
type ClientConfig struct {
	// Endpoint is the base URL, e.g. "http://127.0.0.1:9000". Empty means AWS itself.
	Endpoint string
	// Region; empty means DefaultRegion.
	Region string
	// AccessKey and SecretKey (and SessionToken) are static credentials. When
	// AccessKey is empty the standard chain is used (environment, shared config files).
	AccessKey, SecretKey, SessionToken string
	// HTTPClient carries every request; nil means NewHTTPClient().
	HTTPClient *http.Client
	// MaxAttempts of the SDK's own retryer per request; 0 means 1 (no SDK retry),
	// because the Uploader retries whole clips with its own policy and counts them.
	MaxAttempts int
}

// NewHTTPClient returns a client with timeouts for every phase that can hang on a bad
// uplink. There is no overall Timeout because a large part on a capped uplink takes
// long legitimately; the Uploader bounds each request with a context deadline that
// grows with the body size instead.
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}}
}

// NewClient builds an S3 client for any S3-compatible store: path-style addressing and
// checksums only when an operation requires them (many stores reject the SDK's default
// CRC32 trailers).
func NewClient(ctx context.Context, cc ClientConfig) (*s3.Client, error) {
	region := cc.Region
	if region == "" {
		region = DefaultRegion
	}
	hc := cc.HTTPClient
	if hc == nil {
		hc = NewHTTPClient()
	}
	attempts := cc.MaxAttempts
	if attempts <= 0 {
		attempts = 1
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryMaxAttempts(attempts),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cc.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cc.AccessKey, cc.SecretKey, cc.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("uplink: load aws config: %w", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		// Set here, not in LoadDefaultConfig, which would try to patch the transport for
		// AWS_CA_BUNDLE: the injected client is used exactly as given.
		o.HTTPClient = hc
		if cc.Endpoint != "" {
			o.BaseEndpoint = aws.String(cc.Endpoint)
		}
	}), nil
}

// S3 is the part of *s3.Client the uplink uses (declared here so tests can wrap the
// real client to inject failures).
type S3 interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	ListParts(context.Context, *s3.ListPartsInput, ...func(*s3.Options)) (*s3.ListPartsOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListMultipartUploads(context.Context, *s3.ListMultipartUploadsInput, ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
}
