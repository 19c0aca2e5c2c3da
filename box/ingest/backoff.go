package ingest

import "time"

// backoff is capped exponential backoff with "equal jitter": the n-th wait is uniform
// in [d/2, d] with d = min(Max, Min * 2^n). Half the wait stays deterministic so a
// flapping camera is not hammered; the random half spreads the reconnects of the
// channels of one NVR that dropped all at once.
type backoff struct {
	min, max time.Duration
	rand     func() float64 // [0, 1)
	attempt  int
}

func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.attempt++
	half := d / 2
	return half + time.Duration(b.rand()*float64(d-half))
}

func (b *backoff) reset() { b.attempt = 0 }
