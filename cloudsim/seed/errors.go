package seed

import "errors"

// ErrStep is wrapped around a failed API call while seeding.
var ErrStep = errors.New("seed: step failed")
