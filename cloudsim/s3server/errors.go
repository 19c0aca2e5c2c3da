package s3server

import "errors"

// ErrConfig is returned by New for an incomplete configuration.
var ErrConfig = errors.New("s3server: invalid config")
