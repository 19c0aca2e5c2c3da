package cloud

import (
	"errors"
	"fmt"
)

var (
	// ErrUnauthorized: the box token is missing, revoked or rotated; register again.
	ErrUnauthorized = errors.New("cloud: unauthorized")
	// ErrNotSubscribed: the channel has no active storage package; do not upload it.
	ErrNotSubscribed = errors.New("cloud: channel not subscribed")
	// ErrNotRegistered is returned by box calls made before Register or SetToken.
	ErrNotRegistered = errors.New("cloud: box not registered")
)

// APIError is a non-2xx answer carrying the cloud's {"error":{"code","message"}}.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("cloud: %d %s: %s", e.Status, e.Code, e.Message)
}

// Is lets errors.Is match the sentinels by status and code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == 401
	case ErrNotSubscribed:
		return e.Code == "not_subscribed"
	}
	return false
}

// Transient reports whether err is worth retrying later: the network failed, the
// cloud was overloaded or broken (5xx, 429). Refusals (4xx) are not.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var api *APIError
	if errors.As(err, &api) {
		return api.Status >= 500 || api.Status == 429
	}
	return !errors.Is(err, ErrNotRegistered)
}
