package isapi

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMultipartReaderCases(t *testing.T) {
	readers := []struct {
		name string
		wrap func([]byte) io.Reader
	}{
		{"whole", func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"byte at a time", func(b []byte) io.Reader { return oneByteReader{bytes.NewReader(b)} }},
		{"odd chunks", func(b []byte) io.Reader { return &chunkReader{data: b, sizes: []int{1, 7, 64, 3, 500}} }},
	}
	for _, tc := range streamCases() {
		for _, rd := range readers {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				got := drain(rd.wrap([]byte(tc.body)), tc.boundary, tc.max)
				assert.Equal(t, tc.want, got.Types, "event types")
				assert.Equal(t, tc.malformed, got.Malformed, "malformed")
				assert.Equal(t, tc.nonXML, got.NonXML, "non-XML parts")
				assert.ErrorIs(t, got.Final, tc.final)
			})
		}
	}
}

func TestSharedFixtureMatchesCopy(t *testing.T) {
	// In CI a read-only shared/ sits beside the clone; the package keeps its own
	// copy so tests do not depend on it, but the two must not drift.
	shared, err := os.ReadFile("../../../shared/fixtures/isapi/hikvision_style.mime")
	if errors.Is(err, os.ErrNotExist) && os.Getenv("CI") == "" {
		// CI always lays shared/ beside the clone, so there the check runs.
		t.Skip("shared/ not beside the checkout")
	}
	require.NoError(t, err)
	local, err := os.ReadFile("testdata/hikvision_style.mime")
	require.NoError(t, err)
	assert.Equal(t, shared, local)

	res := drain(bytes.NewReader(shared), "boundary", 0)
	assert.Equal(t, []string{"videoloss", "videoloss"}, res.Types)
}

func TestFixtureFields(t *testing.T) {
	data, err := os.ReadFile("testdata/hikvision_style.mime")
	require.NoError(t, err)
	mr := NewMultipartReader(bytes.NewReader(data), "boundary", 0)
	p, err := mr.NextPart()
	require.NoError(t, err)
	assert.Len(t, p.Body, 480, "Content-Length counts the trailing CRLF")
	assert.Equal(t, "application/xml", p.MediaType())
	ev, err := ParseAlert(p.Body, time.Unix(100, 0), ParseOptions{})
	require.NoError(t, err)
	assert.True(t, IsHeartbeat(ev))
	assert.Equal(t, "2019-02-20T15:22:34-8:00", ev.DateTimeRaw)
	assert.Equal(t, "2019-02-20T23:22:34Z", ev.DateTime.UTC().Format(time.RFC3339))
	assert.Equal(t, 1, ev.Channel)
	assert.Equal(t, "8c:e7:48:da:94:8f", ev.MACAddress)
}

// dripPart feeds parts through a pipe and checks each one is returned before
// anything of the next part has been written: the property mime/multipart lacks.
func TestPartDeliveredBeforeNextBoundary(t *testing.T) {
	cases := []struct {
		name     string
		boundary string
		parts    []string
	}{
		{"camera with Content-Length", "hikboundary", []string{
			framed("--hikboundary", xmlCT, alertXML(hikNS, "VMD", "active", 1, "\r\n"), "\r\n"),
			framed("--hikboundary", xmlCT, alertXML(hikNS, "VMD", "inactive", 1, "\r\n"), "\r\n"),
		}},
		{"NVR LF with Content-Length", "boundary", []string{
			framed("--boundary", "application/xml", alertXML("", "linedetection", "active", 35, "\n"), "\n"),
			framed("--boundary", "application/xml", alertXML("", "fielddetection", "active", 35, "\n"), "\n"),
		}},
		{"no Content-Length", "boundary", []string{
			unsized("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n"),
			unsized("--boundary", xmlCT, alertXML("", "VMD", "active", 2, "\r\n"), "\r\n"),
		}},
		{"duplicated boundary", "boundary", []string{
			"--boundary\r\n" + framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n"),
			"--boundary\r\n" + framed("--boundary", xmlCT, alertXML("", "IO", "active", 1, "\r\n"), "\r\n"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pr.Close()
			mr := NewMultipartReader(oneByteReader{pr}, tc.boundary, 0)
			got := make(chan *Part)
			go func() {
				defer close(got)
				for {
					p, err := mr.NextPart()
					if err != nil {
						return
					}
					got <- p
				}
			}()
			for i, part := range tc.parts {
				go func() { _, _ = io.Copy(pw, strings.NewReader(part)) }()
				select {
				case p := <-got:
					require.NotNil(t, p, "part %d", i)
					assert.Contains(t, string(p.Body), "</EventNotificationAlert>")
				case <-time.After(5 * time.Second):
					t.Fatalf("part %d not delivered before the next boundary", i)
				}
			}
			pw.Close()
		})
	}
}

func TestPartErrorMatching(t *testing.T) {
	body := framed("--boundary", "image/jpeg", strings.Repeat("x", 5000), "\r\n")
	mr := NewMultipartReader(strings.NewReader(body), "boundary", 1000)
	_, err := mr.NextPart()
	assert.ErrorIs(t, err, ErrPartTooLarge)
	assert.ErrorIs(t, err, ErrMalformedPart)
	var pe *PartError
	assert.ErrorAs(t, err, &pe)
	_, err = mr.NextPart()
	assert.ErrorIs(t, err, io.EOF)
}

func TestBoundaryOf(t *testing.T) {
	for _, tc := range []struct{ ct, want string }{
		{"multipart/mixed; boundary=hikboundary", "hikboundary"},
		{"multipart/mixed;boundary=boundary", "boundary"},
		{`multipart/mixed; boundary="MIME_boundary"`, "MIME_boundary"},
		{"multipart/mixed; boundary=--boundary; charset", "--boundary"},
		{"multipart/mixed", ""},
		{"", ""},
	} {
		t.Run(tc.ct, func(t *testing.T) { assert.Equal(t, tc.want, boundaryOf(tc.ct)) })
	}
}
