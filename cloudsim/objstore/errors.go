package objstore

import "errors"

// ErrConfig is returned by New for an incomplete configuration.
var ErrConfig = errors.New("objstore: invalid config")
