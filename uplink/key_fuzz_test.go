package uplink

import (
	"strings"
	"testing"
	"time"

	"github.com/proconnect-oss/boxfw/anr"
)

// FuzzObjectKey checks the key invariants for any clip record: inside the box's
// prefix, no empty segments, no characters that need escaping, deterministic.
func FuzzObjectKey(f *testing.F) {
	f.Add("clips", "BX123", "c1", 3, "VMD", "linedetection", int64(1772400000))
	f.Add("", "S/N 1", "a/b c", 0, "V M-D!", "", int64(0))
	f.Add("/a//b/", "..", "../x", 99, "", "fieldDetection", int64(-1))
	f.Fuzz(func(t *testing.T, prefix, serial, id string, ch int, ev1, ev2 string, unix int64) {
		c := anr.Clip{ID: id, Channel: ch, EventTypes: []string{ev1, ev2}, Start: time.Unix(unix, 0)}
		key, err := ObjectKey(prefix, serial, c)
		if err != nil {
			return
		}
		again, _ := ObjectKey(prefix, serial, c)
		if key != again {
			t.Fatalf("not deterministic: %q vs %q", key, again)
		}
		if seg := strings.TrimSuffix(boxPrefix(prefix, serial), "/"); seg != "" {
			last := seg[strings.LastIndex(seg, "/")+1:]
			if last == "." || last == ".." {
				t.Fatalf("serial segment %q", last)
			}
		}
		if !strings.HasPrefix(key, boxPrefix(prefix, serial)) || strings.HasPrefix(key, "/") || !strings.HasSuffix(key, ".mp4") {
			t.Fatalf("key %q outside %q", key, boxPrefix(prefix, serial))
		}
		rest := strings.TrimPrefix(key, boxPrefix(prefix, serial))
		for _, seg := range strings.Split(rest, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("key %q has segment %q", key, seg)
			}
			if safeSegment(seg) != seg {
				t.Fatalf("key %q has unsafe segment %q", key, seg)
			}
		}
	})
}
