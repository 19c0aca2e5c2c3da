package transcode

import (
	"context"
	"io"

	"github.com/proconnect-oss/boxfw/box/media"
)

// SliceSource is a Source over access units held in memory (tests, benchmarks, and
// clips cut from a ring snapshot). It is not safe for concurrent use.
type SliceSource struct {
	info media.StreamInfo
	aus  []*media.AccessUnit
	pos  int
}

// NewSliceSource returns a source yielding aus in order, then io.EOF.
func NewSliceSource(info media.StreamInfo, aus []*media.AccessUnit) *SliceSource {
	return &SliceSource{info: info, aus: aus}
}

// Info implements Source.
func (s *SliceSource) Info(ctx context.Context) (media.StreamInfo, error) {
	return s.info, ctx.Err()
}

// Next implements Source.
func (s *SliceSource) Next(ctx context.Context) (*media.AccessUnit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.pos >= len(s.aus) {
		return nil, io.EOF
	}
	au := s.aus[s.pos]
	s.pos++
	return au, nil
}
