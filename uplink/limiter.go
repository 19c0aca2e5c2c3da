package uplink

import (
	"context"
	"io"
	"sync"
	"time"
)

// limiter is a token bucket in bytes shared by every request body of an Uploader, so
// the cap holds for the sum of concurrent uploads.
type limiter struct {
	rate  float64 // bytes per second
	burst float64
	clock Clock

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newLimiter(bytesPerSec int64, clock Clock) *limiter {
	burst := float64(bytesPerSec) / 4 // a quarter second: smooth, yet few wake-ups
	if burst < 32<<10 {
		burst = 32 << 10
	}
	return &limiter{rate: float64(bytesPerSec), burst: burst, clock: clock, tokens: burst, last: clock.Now()}
}

// chunk is the largest read that keeps the pacing smooth.
func (l *limiter) chunk() int { return int(l.burst) }

// take spends n bytes, waiting while the bucket is in debt. Going into debt first and
// waiting after keeps one reader from starving the others with oversized requests.
func (l *limiter) take(ctx context.Context, n int) error {
	l.mu.Lock()
	now := l.clock.Now()
	l.tokens += now.Sub(l.last).Seconds() * l.rate
	if l.tokens > l.burst {
		l.tokens = l.burst
	}
	l.last = now
	l.tokens -= float64(n)
	var wait time.Duration
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	return sleep(ctx, l.clock, wait)
}

// body is a request body: it paces reads through the limiter (if any) and counts the
// bytes sent for throughput. It stays seekable because the SDK rewinds bodies.
type body struct {
	ctx   context.Context
	r     io.ReadSeeker
	lim   *limiter
	count func(int)
}

func (b *body) Read(p []byte) (int, error) {
	if b.lim != nil && len(p) > b.lim.chunk() {
		p = p[:b.lim.chunk()]
	}
	n, err := b.r.Read(p)
	if n > 0 {
		if b.lim != nil {
			if werr := b.lim.take(b.ctx, n); werr != nil {
				return n, werr
			}
		}
		if b.count != nil {
			b.count(n)
		}
	}
	return n, err
}

func (b *body) Seek(off int64, whence int) (int64, error) { return b.r.Seek(off, whence) }
