package api

import (
	"errors"
	"net/http"
)

// Sentinel errors. Handlers wrap them with %w and a message for the caller; statusOf is
// the single place that turns them into an HTTP status and an error code.
var (
	ErrInvalid         = errors.New("invalid request")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	// ErrAuthorization refuses installer maintenance of a handed-over site whose owner
	// has not granted (or has cancelled) the site authorization.
	ErrAuthorization = errors.New("site authorization required")
	ErrNotFound      = errors.New("not found")
	ErrConflict      = errors.New("conflict")
	// ErrLimit refuses a request over a product limit (4 playback channels, 8 box channels).
	ErrLimit = errors.New("limit exceeded")
	// ErrAdmission refuses a channel link over the box's pixel budget.
	ErrAdmission = errors.New("admission refused")
	// ErrUnsupportedModel refuses a device that is not Hikvision, HiLook or supported EZVIZ.
	ErrUnsupportedModel = errors.New("unsupported device model")
	// ErrRegion refuses a region mismatch or a region without cloud storage.
	ErrRegion = errors.New("region not allowed")
	// ErrOffline refuses linkage to a device that is not online.
	ErrOffline = errors.New("device offline")
	// ErrNotSubscribed refuses a clip of a channel without an active storage package.
	ErrNotSubscribed = errors.New("channel not subscribed")
	// ErrNoInventory refuses a package assignment when the company has none left.
	ErrNoInventory = errors.New("no package inventory left")
)

// statusOf maps an error to its HTTP status and stable machine-readable code. Unknown
// errors are internal: their text is logged, not shown.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, "invalid_argument"
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized, "unauthenticated"
	case errors.Is(err, ErrAuthorization):
		return http.StatusForbidden, "authorization_required"
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, "permission_denied"
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, ErrOffline):
		return http.StatusConflict, "device_offline"
	case errors.Is(err, ErrLimit):
		return http.StatusUnprocessableEntity, "limit_exceeded"
	case errors.Is(err, ErrAdmission):
		return http.StatusUnprocessableEntity, "admission_refused"
	case errors.Is(err, ErrUnsupportedModel):
		return http.StatusUnprocessableEntity, "unsupported_model"
	case errors.Is(err, ErrRegion):
		return http.StatusUnprocessableEntity, "region_not_allowed"
	case errors.Is(err, ErrNotSubscribed):
		return http.StatusUnprocessableEntity, "not_subscribed"
	case errors.Is(err, ErrNoInventory):
		return http.StatusUnprocessableEntity, "no_inventory"
	default:
		return http.StatusInternalServerError, "internal"
	}
}
