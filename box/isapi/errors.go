package isapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. Callers match them with errors.Is; the returned errors wrap
// them with context.
var (
	// ErrUnauthorized: the device rejected the credentials (401 after a fresh
	// challenge). Retrying quickly risks the device's account lockout.
	ErrUnauthorized = errors.New("isapi: unauthorized")
	// ErrForbidden: the device answered 403, e.g. the user lacks the right.
	ErrForbidden = errors.New("isapi: forbidden")
	// ErrNotFound: the device answered 404 (the URL does not exist on this firmware).
	ErrNotFound = errors.New("isapi: not found")
	// ErrNotNVR: the device has no InputProxy (IP channel) API; cameras answer 403
	// or 404 there. It also matches ErrForbidden or ErrNotFound, whichever was seen.
	ErrNotNVR = errors.New("isapi: device has no IP channels (not an NVR)")
	// ErrBadResponse: the device answered 2xx with a body that is not the expected XML.
	ErrBadResponse = errors.New("isapi: unexpected response")
	// ErrUnsupportedAuth: the challenge names a scheme or algorithm we do not speak.
	ErrUnsupportedAuth = errors.New("isapi: unsupported authentication challenge")
	// ErrMalformedPart: a multipart part could not be framed; the reader skipped it
	// and can go on (see [MultipartReader.NextPart]).
	ErrMalformedPart = errors.New("isapi: malformed multipart part")
	// ErrPartTooLarge: a part exceeded the reader's size bound and was discarded.
	// It also matches ErrMalformedPart.
	ErrPartTooLarge = errors.New("isapi: multipart part too large")
	// ErrNotAlert: the XML is not an EventNotificationAlert.
	ErrNotAlert = errors.New("isapi: not an EventNotificationAlert")
	// ErrAlreadyRunning: devices limit concurrent alertStream sessions, so an
	// AlertStream runs at most once at a time.
	ErrAlreadyRunning = errors.New("isapi: alert stream already running")
	// ErrIdleTimeout: the alertStream sent nothing for longer than the idle timeout.
	ErrIdleTimeout = errors.New("isapi: alert stream idle timeout")
)

// ISAPI statusCode values of <ResponseStatus>.
const (
	StatusOK                = 1
	StatusDeviceBusy        = 2
	StatusDeviceError       = 3
	StatusInvalidOperation  = 4
	StatusInvalidXMLFormat  = 5
	StatusInvalidXMLContent = 6
	StatusRebootRequired    = 7
)

// StatusError is a non-OK HTTP answer, with the device's <ResponseStatus> (or
// <userCheck>) details when it sent one.
type StatusError struct {
	HTTPStatus    int    // HTTP status code of the answer
	URL           string // request path
	StatusCode    int    // ResponseStatus/statusCode (0 if absent)
	StatusString  string // ResponseStatus/statusString
	SubStatusCode string // ResponseStatus/subStatusCode, e.g. "notSupport"
	ErrorCode     int    // ResponseStatus/errorCode on newer firmware
	ErrorMsg      string // ResponseStatus/errorMsg on newer firmware
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("isapi: %s: HTTP %d", e.URL, e.HTTPStatus)
	if e.StatusCode != 0 || e.StatusString != "" {
		msg += fmt.Sprintf(", statusCode %d %s", e.StatusCode, e.StatusString)
	}
	if e.SubStatusCode != "" {
		msg += ", subStatusCode " + e.SubStatusCode
	}
	if e.ErrorMsg != "" {
		msg += ", " + e.ErrorMsg
	}
	return msg
}

// Is maps the HTTP status onto the sentinels so callers need not know codes.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.HTTPStatus == http.StatusUnauthorized
	case ErrForbidden:
		return e.HTTPStatus == http.StatusForbidden
	case ErrNotFound:
		return e.HTTPStatus == http.StatusNotFound
	}
	return false
}

// PartError reports a part the multipart reader skipped. The reader has already
// resynchronised on the next boundary; the stream can go on.
type PartError struct {
	Err    error // ErrMalformedPart or ErrPartTooLarge
	Reason string
}

func (e *PartError) Error() string { return e.Err.Error() + ": " + e.Reason }

// Unwrap lets errors.Is see both the specific sentinel and ErrMalformedPart.
func (e *PartError) Unwrap() []error { return []error{e.Err, ErrMalformedPart} }
