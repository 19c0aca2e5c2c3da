package uplink

import (
	"math"
	"time"
)

// Backoff is a capped exponential delay with jitter.
type Backoff struct {
	Initial    time.Duration // delay after the first failure; 0 means 1s
	Max        time.Duration // cap; 0 means 1m
	Multiplier float64       // growth per failure; < 1 means 2
	// Jitter is the fraction (0..1) of the delay that is random: the delay is drawn
	// from [d*(1-Jitter), d], so boxes that lost the network together do not come back
	// in lockstep, and the cap is never exceeded. Negative means 0; 0 means 0.2.
	Jitter float64
}

func (b Backoff) withDefaults(initial, max time.Duration) Backoff {
	if b.Initial <= 0 {
		b.Initial = initial
	}
	if b.Max <= 0 {
		b.Max = max
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Multiplier < 1 {
		b.Multiplier = 2
	}
	switch {
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter == 0:
		b.Jitter = 0.2
	case b.Jitter > 1:
		b.Jitter = 1
	}
	return b
}

// Delay is the wait after the n-th consecutive failure (n >= 1); rnd is a uniform
// random number in [0,1).
func (b Backoff) Delay(n int, rnd float64) time.Duration {
	if n < 1 {
		return 0
	}
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(n-1))
	if d > float64(b.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(b.Max)
	}
	return time.Duration(d * (1 - b.Jitter*rnd))
}
