package isapi

import (
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
	cam := func(t, s string) string {
		return framed("--hikboundary", xmlCT, alertXML(hikNS, t, s, 1, "\r\n"), "\r\n")
	}
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
		{name: "no blank line after headers", boundary: "boundary",
			body: "--boundary\r\nContent-Type: application/xml\r\n" + alertXML(hikNS, "IO", "active", 1, "\r\n") +
				framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n"),
			want: []string{"IO", "VMD"}, final: io.EOF},
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

// alertCase is one EventNotificationAlert body and what must come out of it.
type alertCase struct {
	name    string
	body    string
	opts    ParseOptions
	wantErr error
	check   func(t assertT, e Event)
}

// assertT is the part of *testing.T the checks need.
type assertT interface {
	Errorf(format string, args ...any)
	Helper()
}

func alertCases() []alertCase {
	wrap := func(ns, inner string) string {
		open := "<EventNotificationAlert version=\"2.0\">"
		if ns != "" {
			open = `<EventNotificationAlert version="2.0" xmlns="` + ns + `">`
		}
		return open + "\r\n" + inner + "\r\n</EventNotificationAlert>\r\n"
	}
	smart := `<ipAddress>10.0.0.5</ipAddress><ipv6Address>::ffff:10.0.0.5</ipv6Address><portNo>8000</portNo>
<protocolType>HTTP</protocolType><macAddress>aa:bb:cc:dd:ee:ff</macAddress>
<channelID>1</channelID><dateTime>2026-11-27T11:46:3100:00</dateTime><activePostCount>3</activePostCount>
<eventType>linedetection</eventType><eventState>active</eventState><eventDescription>linedetection alarm</eventDescription>
<channelName>Gate & Yard</channelName>
<DetectionRegionList><DetectionRegionEntry><regionID>1</regionID><sensitivityLevel>50</sensitivityLevel>
<RegionCoordinatesList><RegionCoordinates><positionX>100</positionX><positionY>200</positionY></RegionCoordinates>
<RegionCoordinates><positionX>900</positionX><positionY>800</positionY></RegionCoordinates></RegionCoordinatesList>
<TargetRect><X>0.25</X><Y>0.5</Y><width>0.1</width><height>0.2</height></TargetRect>
</DetectionRegionEntry></DetectionRegionList>
<targetType>human</targetType><Extensions><serialNumber>DS-2CD2386G2-IU00000000AAWRJ00000000</serialNumber></Extensions>`
	simple := func(extra string) string {
		return `<eventType>VMD</eventType><eventState>active</eventState>` + extra
	}
	return []alertCase{
		{name: "ver10 namespace", body: wrap("http://www.hikvision.com/ver10/XMLSchema", simple("<channelID>1</channelID>")),
			check: func(t assertT, e Event) { eq(t, 1, e.Channel); eq(t, "VMD", e.EventType); eq(t, true, e.IsActive()) }},
		{name: "ver20 namespace", body: wrap("http://www.hikvision.com/ver20/XMLSchema", simple("<channelID>2</channelID>")),
			check: func(t assertT, e Event) { eq(t, 2, e.Channel) }},
		{name: "isapi.org namespace", body: wrap("http://www.isapi.org/ver20/XMLSchema", simple("<channelID>3</channelID>")),
			check: func(t assertT, e Event) { eq(t, 3, e.Channel) }},
		{name: "std-cgi namespace", body: wrap("http://www.std-cgi.com/ver20/XMLSchema", simple("<channelID>4</channelID>")),
			check: func(t assertT, e Event) { eq(t, 4, e.Channel) }},
		{name: "psialliance namespace", body: wrap("urn:psialliance-org", simple("<channelID>5</channelID>")),
			check: func(t assertT, e Event) { eq(t, 5, e.Channel) }},
		{name: "prefixed namespace", body: `<hik:EventNotificationAlert xmlns:hik="http://www.hikvision.com/ver20/XMLSchema"><hik:eventType>IO</hik:eventType><hik:channelID>6</hik:channelID></hik:EventNotificationAlert>`,
			check: func(t assertT, e Event) { eq(t, "IO", e.EventType); eq(t, 6, e.Channel) }},
		{name: "no namespace with prolog", body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + wrap("", simple("<channelID>7</channelID>")),
			check: func(t assertT, e Event) { eq(t, 7, e.Channel) }},
		{name: "foreign charset in prolog", body: `<?xml version="1.0" encoding="GB2312"?>` + wrap("", simple("")),
			check: func(t assertT, e Event) { eq(t, "VMD", e.EventType) }},
		{name: "smart event with every field", body: wrap(hikNS, smart),
			check: func(t assertT, e Event) {
				eq(t, "10.0.0.5", e.IPAddress)
				eq(t, "::ffff:10.0.0.5", e.IPv6Address)
				eq(t, 8000, e.PortNo)
				eq(t, "HTTP", e.Protocol)
				eq(t, "aa:bb:cc:dd:ee:ff", e.MACAddress)
				eq(t, 3, e.ActivePostCount)
				eq(t, "Gate & Yard", e.ChannelName)
				eq(t, "human", e.TargetType)
				eq(t, "DS-2CD2386G2-IU00000000AAWRJ00000000", e.SerialNumber)
				eq(t, "2026-11-27T11:46:3100:00", e.DateTimeRaw)
				eq(t, "2026-11-27T11:46:31Z", e.DateTime.UTC().Format(time.RFC3339))
				eq(t, 1, len(e.Regions))
				if len(e.Regions) == 1 {
					r := e.Regions[0]
					eq(t, []Point{{100, 200}, {900, 800}}, r.Points)
					eq(t, Rect{250, 500, 100, 200}, r.Target.Normalized())
				}
				eq(t, true, IsClipEvent(e.EventType))
			}},
		{name: "unescaped ampersand", body: wrap("", simple("<eventDescription>Motion & Tamper &amp; more</eventDescription>")),
			check: func(t assertT, e Event) { eq(t, "Motion & Tamper & more", e.EventDescription) }},
		{name: "empty channelID is the device", body: wrap("", `<channelID></channelID><eventType>diskfull</eventType>`),
			check: func(t assertT, e Event) { eq(t, 0, e.Channel); eq(t, false, e.HasChannelID) }},
		{name: "missing channelID is the device", body: wrap("", `<eventType>ipconflict</eventType>`),
			check: func(t assertT, e Event) { eq(t, 0, e.Channel) }},
		{name: "dynChannelID wins", body: wrap("", `<channelID>33</channelID><dynChannelID>1</dynChannelID><eventType>VMD</eventType>`),
			check: func(t assertT, e Event) { eq(t, 1, e.Channel); eq(t, 33, e.ChannelID); eq(t, 1, e.DynChannelID) }},
		{name: "dynChannelID alone", body: wrap("", `<dynChannelID>4</dynChannelID><eventType>VMD</eventType>`),
			check: func(t assertT, e Event) { eq(t, 4, e.Channel) }},
		{name: "32+N without offset stays raw", body: wrap("", `<channelID>34</channelID><eventType>VMD</eventType>`),
			check: func(t assertT, e Event) { eq(t, 34, e.Channel) }},
		{name: "32+N with offset", body: wrap("", `<channelID>34</channelID><eventType>VMD</eventType>`), opts: ParseOptions{IPChannelOffset: 32},
			check: func(t assertT, e Event) { eq(t, 2, e.Channel); eq(t, 34, e.ChannelID) }},
		{name: "32+N in dynChannelID with offset", body: wrap("", `<channelID>34</channelID><dynChannelID>34</dynChannelID><eventType>VMD</eventType>`), opts: ParseOptions{IPChannelOffset: 32},
			check: func(t assertT, e Event) { eq(t, 2, e.Channel) }},
		{name: "offset leaves low channels", body: wrap("", `<channelID>3</channelID><eventType>VMD</eventType>`), opts: ParseOptions{IPChannelOffset: 32},
			check: func(t assertT, e Event) { eq(t, 3, e.Channel) }},
		{name: "offset keeps device channel 0", body: wrap("", `<channelID>0</channelID><eventType>diskerror</eventType>`), opts: ParseOptions{IPChannelOffset: 32},
			check: func(t assertT, e Event) { eq(t, 0, e.Channel); eq(t, true, e.HasChannelID) }},
		{name: "one-digit negative offset", body: wrap("", simple("<dateTime>2019-02-20T15:22:34-8:00</dateTime>")),
			check: func(t assertT, e Event) {
				eq(t, "2019-02-20T23:22:34Z", e.DateTime.UTC().Format(time.RFC3339))
				eq(t, true, e.DateTimeHasZone)
			}},
		{name: "RFC 3339 offset", body: wrap("", simple("<dateTime>2026-11-27T09:30:00+08:00</dateTime>")),
			check: func(t assertT, e Event) { eq(t, "2026-11-27T01:30:00Z", e.DateTime.UTC().Format(time.RFC3339)) }},
		{name: "no offset", body: wrap("", simple("<dateTime>2026-11-27T09:30:00</dateTime>")),
			check: func(t assertT, e Event) {
				eq(t, "2026-11-27T09:30:00Z", e.DateTime.Format(time.RFC3339))
				eq(t, false, e.DateTimeHasZone)
			}},
		{name: "garbage dateTime kept raw", body: wrap("", simple("<dateTime>yesterday</dateTime>")),
			check: func(t assertT, e Event) { eq(t, "yesterday", e.DateTimeRaw); eq(t, true, e.DateTime.IsZero()) }},
		{name: "case-insensitive type", body: wrap("", `<eventType>vmd</eventType><eventState>inactive</eventState>`),
			check: func(t assertT, e Event) {
				eq(t, "vmd", e.EventType)
				eq(t, true, IsClipEvent(e.EventType))
				eq(t, false, e.IsActive())
			}},
		{name: "heartbeat", body: wrap("", `<channelID>1</channelID><activePostCount>0</activePostCount><eventType>videoloss</eventType><eventState>inactive</eventState>`),
			check: func(t assertT, e Event) { eq(t, true, IsHeartbeat(e)); eq(t, false, IsClipEvent(e.EventType)) }},
		{name: "dead NVR channel is no heartbeat", body: wrap("", `<channelID>3</channelID><activePostCount>9</activePostCount><eventType>videoloss</eventType><eventState>active</eventState>`),
			check: func(t assertT, e Event) { eq(t, false, IsHeartbeat(e)) }},
		{name: "mismatched close tags tolerated", body: `<EventNotificationAlert><eventType>IO</eventType><eventState>active</eventstate></EventNotificationAlert>`,
			check: func(t assertT, e Event) { eq(t, "IO", e.EventType) }},
		{name: "trailing garbage ignored", body: wrap("", simple("")) + "\x00\x00garbage<<<",
			check: func(t assertT, e Event) { eq(t, "VMD", e.EventType) }},
		{name: "no eventType", body: wrap("", `<channelID>1</channelID>`), wantErr: ErrNotAlert},
		{name: "other document", body: `<ResponseStatus><statusCode>4</statusCode></ResponseStatus>`, wantErr: ErrNotAlert},
		{name: "truncated", body: `<EventNotificationAlert><eventType>VMD</eventType>`, wantErr: ErrNotAlert},
		{name: "binary", body: "\xff\xd8\xff\xe0\x00\x10JFIF", wantErr: ErrNotAlert},
		{name: "empty", body: "", wantErr: ErrNotAlert},
	}
}

// eq is a tiny assertion usable from the shared table without importing testify
// into the case definitions.
func eq(t assertT, want, got any) {
	t.Helper()
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Errorf("want %v, got %v", want, got)
	}
}
