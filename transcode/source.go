package transcode

import (
	"context"

	"github.com/proconnect-oss/boxfw/box/media"
)

// Source yields the compressed access units of one video stream in decode order.
// Ingest implements it over the pre-roll ring plus the live tail of a channel;
// this package implements it over files.
type Source interface {
	// Info returns the codec and parameter sets of the stream. It may block until
	// they are known (the first keyframe has arrived) or ctx ends.
	Info(ctx context.Context) (media.StreamInfo, error)
	// Next returns the next access unit, or io.EOF when the source has ended.
	Next(ctx context.Context) (*media.AccessUnit, error)
}
