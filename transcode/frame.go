package transcode

//#cgo pkg-config: libavutil
//#include <libavutil/frame.h>
import "C"

import (
	"fmt"

	"github.com/asticode/go-astiav"
)

// makeWritable makes f's buffers exclusively ours, copying them only if someone
// else (the encoder) still holds a reference. go-astiav v0.16 does not wrap
// av_frame_make_writable; without it the scaled picture would need a fresh
// buffer per frame, and those allocations cost ~8% CPU in page faults.
func makeWritable(f *astiav.Frame) error {
	if ret := C.av_frame_make_writable((*C.AVFrame)(f.UnsafePointer())); ret < 0 {
		return fmt.Errorf("transcode: make frame writable: %w", astiav.Error(ret))
	}
	return nil
}
