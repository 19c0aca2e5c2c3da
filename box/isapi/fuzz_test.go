package isapi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The fuzz targets are seeded from the same tables as the unit tests
// (streamCases, alertCases); testdata/fuzz/ holds the committed corpus.

func FuzzMultipartReader(f *testing.F) {
	for _, tc := range streamCases() {
		f.Add([]byte(tc.body), tc.boundary)
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		const maxPart = 4096
		whole := drain(bytes.NewReader(body), boundary, maxPart)
		// Framing must not depend on how the network chunks the bytes.
		slow := drain(oneByteReader{bytes.NewReader(body)}, boundary, maxPart)
		if !reflect.DeepEqual(whole, slow) {
			t.Fatalf("whole and byte-at-a-time readers disagree:\n%+v\n%+v", whole, slow)
		}
		// Every part is bounded.
		mr := NewMultipartReader(bytes.NewReader(body), boundary, maxPart)
		for {
			p, err := mr.NextPart()
			if err != nil {
				if errors.Is(err, ErrMalformedPart) {
					continue
				}
				break
			}
			if len(p.Body) > maxPart {
				t.Fatalf("part of %d bytes exceeds the bound %d", len(p.Body), maxPart)
			}
		}
	})
}

func FuzzParseAlert(f *testing.F) {
	for _, tc := range alertCases() {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseAlert(body, time.Time{}, ParseOptions{IPChannelOffset: 32})
		if err != nil {
			if !errors.Is(err, ErrNotAlert) {
				t.Fatalf("error does not match ErrNotAlert: %v", err)
			}
			return
		}
		if e.EventType == "" {
			t.Fatal("parsed an alert without eventType")
		}
		_, _, _ = ParseDeviceTime(e.DateTimeRaw)
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/ from the shared tables.
// Run with UPDATE_FUZZ_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("UPDATE_FUZZ_CORPUS") == "" {
		t.Skip("set UPDATE_FUZZ_CORPUS=1 to regenerate testdata/fuzz")
	}
	write := func(target string, i int, vals ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString("go test fuzz v1\n")
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case string:
				fmt.Fprintf(&b, "string(%q)\n", v)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, tc := range streamCases() {
		write("FuzzMultipartReader", i, []byte(tc.body), tc.boundary)
	}
	for i, tc := range alertCases() {
		write("FuzzParseAlert", i, []byte(tc.body))
	}
}
