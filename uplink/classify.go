package uplink

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Class is what the retry policy knows about an error.
type Class int

// Error classes.
const (
	// ClassTransient: the network or the service is having a bad moment; retry later.
	ClassTransient Class = iota
	// ClassFatal: nothing will upload until the configuration changes (credentials,
	// permissions, bucket). Goes down at once and probes.
	ClassFatal
	// ClassClip: only this clip is affected (file missing or corrupt, conflict,
	// mismatch); the others keep draining.
	ClassClip
	// ClassCanceled: we are shutting down.
	ClassCanceled
)

func (c Class) String() string {
	switch c {
	case ClassTransient:
		return "transient"
	case ClassFatal:
		return "fatal"
	case ClassClip:
		return "clip"
	case ClassCanceled:
		return "canceled"
	}
	return "unknown"
}

// fatalCodes are S3 error codes after which retrying the same request cannot help.
var fatalCodes = map[string]bool{
	"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"NoSuchBucket": true, "AccountProblem": true, "AllAccessDisabled": true,
	"InvalidBucketName": true, "ExpiredToken": true, "InvalidToken": true,
	"NotSignedUp": true, "InvalidRegion": true, "AuthorizationHeaderMalformed": true,
}

// clipCodes are S3 error codes caused by this clip's data or upload state.
var clipCodes = map[string]bool{
	"BadDigest": true, "XAmzContentSHA256Mismatch": true, "InvalidDigest": true,
	"EntityTooSmall": true, "EntityTooLarge": true, "InvalidPart": true,
	"InvalidPartOrder": true, "KeyTooLongError": true, "InvalidArgument": true,
	"IncompleteBody": true, "MetadataTooLarge": true,
}

// transientCodes are error codes that the status alone might misclass.
var transientCodes = map[string]bool{
	"SlowDown": true, "RequestTimeout": true, "InternalError": true, "ServiceUnavailable": true,
	"RequestTimeTooSkewed": true, "OperationAborted": true, "ConditionalRequestConflict": true,
}

// Classify returns the class of an upload error. Unknown errors are transient: a
// retry with backoff is the safe default, a wrong "fatal" would stall the queue.
func Classify(err error) Class {
	switch {
	case err == nil:
		return ClassTransient
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	case errors.Is(err, ErrConflict), errors.Is(err, ErrVerify), errors.Is(err, ErrClipUnreadable),
		errors.Is(err, ErrInvalidClip), errors.Is(err, ErrNotSubscribed):
		return ClassClip
	case errors.Is(err, ErrInvalidOptions):
		return ClassFatal
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ClassTransient
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch {
		case transientCodes[code]:
			return ClassTransient
		case fatalCodes[code]:
			return ClassFatal
		case clipCodes[code]:
			return ClassClip
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch s := re.HTTPStatusCode(); {
		case s >= 500, s == 408, s == 429:
			return ClassTransient
		case s == 401, s == 403:
			return ClassFatal
		case s >= 400:
			return ClassClip
		}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return ClassTransient
	}
	// Local file errors that escaped wrapping are about this clip.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return ClassClip
	}
	return ClassTransient
}
