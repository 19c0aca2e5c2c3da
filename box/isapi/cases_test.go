package isapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// This file holds the one table of alertStream bodies that drives the unit
// tests (whole, byte-at-a-time, slow-drip readers), the fuzz seeds and the
// committed fuzz corpus.

// alertXML renders an EventNotificationAlert the way a device would.
func alertXML(ns, eventType, state string, channel int, eol string) string {
	open := "<EventNotificationAlert version=\"2.0\">"
	if ns != "" {
		open = fmt.Sprintf(`<EventNotificationAlert version="2.0" xmlns="%s">`, ns)
	}
	lines := []string{
		open,
		"<ipAddress>192.168.1.64</ipAddress>",
		"<portNo>80</portNo>",
		"<protocol>HTTP</protocol>",
		"<macAddress>44:19:b6:00:00:01</macAddress>",
		fmt.Sprintf("<channelID>%d</channelID>", channel),
		"<dateTime>2026-11-27T09:30:00+08:00</dateTime>",
		"<activePostCount>1</activePostCount>",
		"<eventType>" + eventType + "</eventType>",
		"<eventState>" + state + "</eventState>",
		"<eventDescription>" + eventType + " alarm</eventDescription>",
		"</EventNotificationAlert>",
	}
	return strings.Join(lines, eol) + eol
}

// framed renders one part with Content-Length counting the body's trailing EOL.
func framed(delim, ctype, body, eol string) string {
	return delim + eol + "Content-Type: " + ctype + eol + fmt.Sprintf("Content-Length: %d", len(body)) + eol + eol + body
}

// unsized renders one part without Content-Length.
func unsized(delim, ctype, body, eol string) string {
	return delim + eol + "Content-Type: " + ctype + eol + eol + body
}

const xmlCT = `application/xml; charset="UTF-8"`

const hikNS = "http://www.hikvision.com/ver20/XMLSchema"

// fakeJPEG has line ends and a delimiter-looking sequence that is not a line.
var fakeJPEG = "\xff\xd8\xff\xe0\x00\x10JFIF\r\n--boundary-not\r\n\x00\x01\x02\xff\xd9\r\n"

type streamCase struct {
	name     string
	boundary string // as declared in the HTTP header
	body     string
	max      int // MaxPartSize; 0 = default
	// want is the event types of the delivered XML parts, in order.
	want      []string
	malformed int   // parts skipped by the reader or unparsable
	nonXML    int   // image parts
	final     error // io.EOF or io.ErrUnexpectedEOF
}

func streamCases() []streamCase {
	cam := func(t, s string) string { return framed("--hikboundary", xmlCT, alertXML(hikNS, t, s, 1, "\r\n"), "\r\n") }
	nvr := func(t string, ch int) string {
		return framed("--boundary", "application/xml", `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+alertXML("http://www.isapi.org/ver20/XMLSchema", t, "active", ch, "\n"), "\n")
	}
	fixture, err := os.ReadFile("testdata/hikvision_style.mime")
	if err != nil {
		panic(err)
	}
	big := strings.Repeat("A", 2000) + "\r\n"
	return []streamCase{
		{name: "real camera fixture", boundary: "boundary", body: string(fixture),
			want: []string{"videoloss", "videoloss"}, final: io.EOF},
		{name: "camera CRLF declared boundary", boundary: "hikboundary",
			body: cam("videoloss", "inactive") + cam("VMD", "active") + cam("VMD", "inactive"),
			want: []string{"videoloss", "VMD", "VMD"}, final: io.EOF},
		{name: "quirk1 literal boundary in body", boundary: "MIME_boundary",
			body: nvr("VMD", 1) + nvr("linedetection", 2),
			want: []string{"VMD", "linedetection"}, final: io.EOF},
		{name: "quirk2 duplicated boundary lines", boundary: "hikboundary",
			body: "--hikboundary\r\n" + cam("VMD", "active") + "--hikboundary\r\n--hikboundary\r\n" + cam("fielddetection", "active"),
			want: []string{"VMD", "fielddetection"}, final: io.EOF},
		{name: "quirk3 NVR LF bodies with prolog", boundary: "boundary",
			body: nvr("videoloss", 33) + nvr("VMD", 34),
			want: []string{"videoloss", "VMD"}, final: io.EOF},
		{name: "quirk4 jpeg part after smart event", boundary: "boundary",
			body: framed("--boundary", xmlCT, alertXML(hikNS, "linedetection", "active", 1, "\r\n"), "\r\n") +
				framed("--boundary", "image/jpeg", fakeJPEG, "\r\n") +
				framed("--boundary", xmlCT, alertXML(hikNS, "VMD", "active", 1, "\r\n"), "\r\n"),
			want: []string{"linedetection", "VMD"}, nonXML: 1, final: io.EOF},
		{name: "missing Content-Length CRLF", boundary: "boundary",
			body: unsized("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n") +
				unsized("--boundary", xmlCT, alertXML("", "IO", "active", 0, "\r\n"), "\r\n"),
			want: []string{"VMD", "IO"}, final: io.EOF},
		{name: "missing Content-Length LF jpeg", boundary: "boundary",
			body: unsized("--boundary", "image/jpeg", fakeJPEG, "\n") + unsized("--boundary", "application/xml", alertXML("", "PIR", "active", 1, "\n"), "\n"),
			want: []string{"PIR"}, nonXML: 1, final: io.EOF},
		{name: "headerless part", boundary: "boundary",
			body: "--boundary\r\n" + alertXML("", "tamperdetection", "active", 1, "\r\n"),
			want: []string{"tamperdetection"}, final: io.EOF},
		{name: "Content-Length not counting the EOL", boundary: "boundary",
			body: "--boundary\r\nContent-Type: application/xml\r\nContent-Length: 74\r\n\r\n" +
				"<EventNotificationAlert><eventType>IO</eventType></EventNotificationAlert>" + "\r\n\r\n" +
				framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n"),
			want: []string{"IO", "VMD"}, final: io.EOF},
		{name: "Content-Length overstated", boundary: "boundary",
			body: "--boundary\r\nContent-Type: application/xml\r\nContent-Length: 200\r\n\r\n" +
				"<EventNotificationAlert><eventType>VMD</eventType></EventNotificationAlert>\r\n" +
				framed("--boundary", xmlCT, alertXML("", "IO", "active", 1, "\r\n"), "\r\n"),
			want: []string{"VMD", "IO"}, final: io.EOF},
		{name: "Content-Length understated", boundary: "boundary",
			body: "--boundary\r\nContent-Type: application/xml\r\nContent-Length: 30\r\n\r\n" +
				"<EventNotificationAlert><eventType>VMD</eventType></EventNotificationAlert>\r\n" +
				framed("--boundary", xmlCT, alertXML("", "IO", "active", 1, "\r\n"), "\r\n"),
			want: []string{"IO"}, malformed: 2, final: io.EOF},
		{name: "garbage between parts", boundary: "boundary",
			body: framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n") + "HTTP/1.1 200 OK junk\r\nmore junk\r\n" +
				framed("--boundary", xmlCT, alertXML("", "IO", "active", 1, "\r\n"), "\r\n"),
			want: []string{"VMD", "IO"}, malformed: 1, final: io.EOF},
		{name: "bad header line", boundary: "boundary",
			body: "--boundary\r\nthis is not a header\r\n\r\n<x/>\r\n" + framed("--boundary", xmlCT, alertXML("", "IO", "active", 1, "\r\n"), "\r\n"),
			want: []string{"IO"}, malformed: 1, final: io.EOF},
		{name: "unparsable XML part", boundary: "boundary",
			body: framed("--boundary", xmlCT, "<EventNotificationAlert><eventType>VMD</eventType>\r\n", "\r\n") + framed("--boundary", xmlCT, alertXML("", "IO", "active", 1, "\r\n"), "\r\n"),
			want: []string{"IO"}, malformed: 1, final: io.EOF},
		{name: "huge part with Content-Length bounded", boundary: "boundary", max: 1024,
			body: framed("--boundary", "image/jpeg", strings.Repeat(big, 3), "\r\n") + framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n"),
			want: []string{"VMD"}, malformed: 1, final: io.EOF},
		{name: "huge part without Content-Length bounded", boundary: "boundary", max: 1024,
			body: unsized("--boundary", "image/jpeg", strings.Repeat(big, 3), "\r\n") + framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n"),
			want: []string{"VMD"}, malformed: 1, final: io.EOF},
		{name: "huge single line bounded", boundary: "boundary", max: 1024,
			body: unsized("--boundary", "text/plain", strings.Repeat("B", 30000), "\r\n") + "\r\n" + framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n"),
			want: []string{"VMD"}, malformed: 1, final: io.EOF},
		{name: "closing delimiter ends stream", boundary: "boundary",
			body: framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n") + "--boundary--\r\n" + framed("--boundary", xmlCT, alertXML("", "IO", "active", 1, "\r\n"), "\r\n"),
			want: []string{"VMD"}, final: io.EOF},
		{name: "stream cut inside a part", boundary: "boundary",
			body: framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n") + "--boundary\r\nContent-Length: 500\r\n\r\n<EventNot",
			want: []string{"VMD"}, final: io.ErrUnexpectedEOF},
		{name: "unescaped ampersand and namespaces", boundary: "boundary",
			body: framed("--boundary", xmlCT, strings.Replace(alertXML("http://www.std-cgi.com/ver20/XMLSchema", "VMD", "active", 1, "\r\n"), "VMD alarm", "Motion & more", 1), "\r\n") +
				framed("--boundary", xmlCT, alertXML("urn:psialliance-org", "IO", "active", 1, "\r\n"), "\r\n"),
			want: []string{"VMD", "IO"}, final: io.EOF},
		{name: "empty stream", boundary: "boundary", body: "", final: io.EOF},
	}
}

// drainResult is what a consumer of the reader observes.
type drainResult struct {
	Types     []string
	Malformed int
	NonXML    int
	Final     error
}

// drain reads a stream the way AlertStream does, counting what it skips.
func drain(r io.Reader, boundary string, maxPart int) drainResult {
	var res drainResult
	mr := NewMultipartReader(r, boundary, maxPart)
	for i := 0; i < 1_000_000; i++ {
		p, err := mr.NextPart()
		if err != nil {
			if errors.Is(err, ErrMalformedPart) {
				res.Malformed++
				continue
			}
			res.Final = err
			return res
		}
		if !p.IsXML() {
			res.NonXML++
			continue
		}
		ev, err := ParseAlert(p.Body, time.Time{}, ParseOptions{})
		if err != nil {
			res.Malformed++
			continue
		}
		res.Types = append(res.Types, ev.EventType)
	}
	panic("reader did not terminate")
}

// oneByteReader returns one byte per Read: the slowest a network can be.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// chunkReader returns the data in chunks of the given sizes, cycling.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := c.sizes[c.i%len(c.sizes)]
	c.i++
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

var _ = bytes.MinRead
