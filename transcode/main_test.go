package transcode

import (
	"os"
	"testing"

	"github.com/asticode/go-astiav"
)

func TestMain(m *testing.M) {
	// The corrupt-stream tests make FFmpeg log every damaged slice; the tests count
	// the damage through Result instead.
	astiav.SetLogLevel(astiav.LogLevelFatal)
	os.Exit(m.Run())
}
