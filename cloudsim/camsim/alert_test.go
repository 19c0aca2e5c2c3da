package camsim

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// alertPart is one multipart part as the box's reader sees it.
type alertPart struct {
	header map[string]string
	body   []byte
}

// parseAlertParts reads parts the way docs/isapi.md tells the box to: skip CR/LF,
// expect boundary lines (possibly repeated), read headers, then exactly
// Content-Length bytes, or scan to the next boundary when there is none. An
// incomplete trailing part is left out.
func parseAlertParts(raw []byte) ([]alertPart, error) {
	const delim = "--boundary"
	var parts []alertPart
	for {
		raw = bytes.TrimLeft(raw, "\r\n")
		if len(raw) == 0 {
			return parts, nil
		}
		if !bytes.HasPrefix(raw, []byte(delim)) {
			return parts, fmt.Errorf("want boundary, got %q", trunc(raw))
		}
		for bytes.HasPrefix(raw, []byte(delim)) { // duplicated boundary lines
			nl := bytes.IndexByte(raw, '\n')
			if nl < 0 {
				return parts, nil
			}
			raw = bytes.TrimLeft(raw[nl+1:], "\r\n")
		}
		p := alertPart{header: map[string]string{}}
		for {
			nl := bytes.IndexByte(raw, '\n')
			if nl < 0 {
				return parts, nil
			}
			line := strings.TrimRight(string(raw[:nl]), "\r")
			raw = raw[nl+1:]
			if line == "" {
				break
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return parts, fmt.Errorf("bad header line %q", line)
			}
			p.header[strings.ToLower(k)] = strings.TrimSpace(v)
		}
		if cl, ok := p.header["content-length"]; ok {
			n, err := strconv.Atoi(cl)
			if err != nil {
				return parts, err
			}
			if len(raw) < n {
				return parts, nil
			}
			p.body, raw = raw[:n], raw[n:]
		} else {
			i := bytes.Index(raw, []byte("\n"+delim))
			if i < 0 {
				return parts, nil
			}
			p.body, raw = raw[:i+1], raw[i+1:]
		}
		parts = append(parts, p)
	}
}

func trunc(b []byte) string {
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b)
}

// alertXML is the part of EventNotificationAlert the tests look at.
type alertXML struct {
	ChannelID       string `xml:"channelID"`
	DynChannelID    string `xml:"dynChannelID"`
	DateTime        string `xml:"dateTime"`
	ActivePostCount int    `xml:"activePostCount"`
	EventType       string `xml:"eventType"`
	EventState      string `xml:"eventState"`
	Regions         []struct {
		Points []struct {
			X int `xml:"positionX"`
			Y int `xml:"positionY"`
		} `xml:"RegionCoordinatesList>RegionCoordinates"`
	} `xml:"DetectionRegionList>DetectionRegionEntry"`
	TargetType string `xml:"targetType"`
}

func decodeAlerts(t *testing.T, parts []alertPart) []alertXML {
	t.Helper()
	var out []alertXML
	for _, p := range parts {
		if !strings.HasPrefix(p.header["content-type"], "application/xml") {
			continue
		}
		var a alertXML
		require.NoError(t, xml.Unmarshal(p.body, &a), "%s", p.body)
		out = append(out, a)
	}
	return out
}

// openAlerts connects to an alertStream with Digest and collects its body.
func openAlerts(t *testing.T, sim *Sim, path string) (*http.Response, *streamBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	before := sim.Status().AlertSessions
	resp := newDigestClient("admin", "Admin12345").get(t, ctx, sim.ISAPIURL()+path)
	t.Cleanup(func() { resp.Body.Close() })
	sb := readStream(resp.Body)
	if resp.StatusCode == http.StatusOK {
		require.Eventually(t, func() bool { return sim.Status().AlertSessions > before }, 2*time.Second, 10*time.Millisecond)
	}
	return resp, sb
}

func quirks(base AlertQuirks, f func(*AlertQuirks)) *AlertQuirks {
	f(&base)
	return &base
}

const alertPath = "/ISAPI/Event/notification/alertStream"

// TestAlertQuirks shows each quirk's bytes on the wire, one simulator per case.
func TestAlertQuirks(t *testing.T) {
	t.Parallel()
	cam := CameraQuirks()
	for _, tc := range []struct {
		name   string
		quirks *AlertQuirks
		event  string
		path   string
		check  func(t *testing.T, resp *http.Response, body string)
	}{
		{"camera preset", nil, "VMD", alertPath, func(t *testing.T, resp *http.Response, body string) {
			assert.Equal(t, "HTTP/1.1", resp.Proto)
			assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
			assert.Equal(t, "multipart/mixed; boundary=boundary", resp.Header.Get("Content-Type"))
			assert.True(t, strings.HasPrefix(body, "--boundary\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\nContent-Length: "), body)
			assert.NotContains(t, strings.ReplaceAll(body, "\r\n", ""), "\n", "CRLF only")
			assert.Contains(t, body, `<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`)
			assert.Contains(t, body, "<channelID>1</channelID>")
			assert.NotContains(t, body, "<?xml")
			assert.Regexp(t, `<dateTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00</dateTime>`, body)
			parts, err := parseAlertParts([]byte(body))
			require.NoError(t, err)
			require.NotEmpty(t, parts)
			for _, p := range parts {
				assert.True(t, bytes.HasSuffix(p.body, []byte("</EventNotificationAlert>\r\n")), "Content-Length counts the CRLF")
			}
		}},
		{"boundary mismatch", quirks(cam, func(q *AlertQuirks) { q.BoundaryMismatch = true }), "VMD", alertPath,
			func(t *testing.T, resp *http.Response, body string) {
				assert.Equal(t, "multipart/mixed; boundary=hikboundary", resp.Header.Get("Content-Type"))
				assert.True(t, strings.HasPrefix(body, "--boundary\r\n"))
				assert.NotContains(t, body, "--hikboundary")
			}},
		{"duplicate boundary", quirks(cam, func(q *AlertQuirks) { q.DuplicateBoundary = true }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.True(t, strings.HasPrefix(body, "--boundary\r\n--boundary\r\nContent-Type:"), body)
			}},
		{"LF bodies", quirks(cam, func(q *AlertQuirks) { q.LFBodies = true }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.NotContains(t, body, "\r")
				assert.True(t, strings.HasPrefix(body, "--boundary\nContent-Type: application/xml; charset=\"UTF-8\"\nContent-Length: "))
			}},
		{"XML prolog", quirks(cam, func(q *AlertQuirks) { q.XMLProlog = true }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, "\r\n\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<EventNotificationAlert")
			}},
		{"JPEG after smart event", quirks(cam, func(q *AlertQuirks) { q.JPEGAfterSmart = true }), "linedetection", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				parts, err := parseAlertParts([]byte(body))
				require.NoError(t, err)
				require.GreaterOrEqual(t, len(parts), 2)
				assert.Equal(t, "image/jpeg", parts[1].header["content-type"])
				assert.True(t, bytes.HasPrefix(parts[1].body, []byte{0xff, 0xd8}), "JPEG SOI")
				alerts := decodeAlerts(t, parts[:1])
				assert.Equal(t, "linedetection", alerts[0].EventType)
				require.Len(t, alerts[0].Regions, 1)
				assert.Len(t, alerts[0].Regions[0].Points, 2, "a line rule has 2 points")
				assert.Equal(t, "human", alerts[0].TargetType)
			}},
		{"no Content-Length", quirks(cam, func(q *AlertQuirks) { q.NoContentLength = true }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.NotContains(t, body, "Content-Length")
				assert.True(t, strings.HasPrefix(body, "--boundary\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\n\r\n<EventNotificationAlert"))
			}},
		{"unescaped ampersand", quirks(cam, func(q *AlertQuirks) { q.UnescapedAmp = true }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, "<eventDescription>Motion & alarm</eventDescription>")
				parts, err := parseAlertParts([]byte(body))
				require.NoError(t, err)
				var a alertXML
				assert.Error(t, xml.Unmarshal(parts[0].body, &a), "invalid XML on purpose")
			}},
		{"namespace ver10", quirks(cam, func(q *AlertQuirks) { q.Namespace = "ver10" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, `<EventNotificationAlert version="1.0" xmlns="http://www.hikvision.com/ver10/XMLSchema">`)
			}},
		{"namespace isapi.org", quirks(cam, func(q *AlertQuirks) { q.Namespace = "isapi.org" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, `xmlns="http://www.isapi.org/ver20/XMLSchema"`)
			}},
		{"namespace std-cgi.com", quirks(cam, func(q *AlertQuirks) { q.Namespace = "std-cgi.com" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, `xmlns="http://www.std-cgi.com/ver20/XMLSchema"`)
			}},
		{"namespace psialliance", quirks(cam, func(q *AlertQuirks) { q.Namespace = "psialliance" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, `<EventNotificationAlert version="1.0" xmlns="http://www.psialliance.org/ver10/XMLSchema">`)
			}},
		{"namespace none", quirks(cam, func(q *AlertQuirks) { q.Namespace = "none" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, "<EventNotificationAlert version=\"2.0\">\r\n")
			}},
		{"dynChannelID only", quirks(cam, func(q *AlertQuirks) { q.ChannelID = "dynChannelID" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, "<dynChannelID>1</dynChannelID>")
				assert.NotContains(t, body, "<channelID>")
			}},
		{"both channel IDs", quirks(cam, func(q *AlertQuirks) { q.ChannelID = "both" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, "<channelID>1</channelID>\r\n<dynChannelID>1</dynChannelID>")
			}},
		{"empty channelID", quirks(cam, func(q *AlertQuirks) { q.ChannelID = "empty" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, "<channelID></channelID>")
			}},
		{"channelID 32+N", quirks(cam, func(q *AlertQuirks) { q.ChannelID = "dyn32" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Contains(t, body, "<channelID>33</channelID>\r\n<dynChannelID>1</dynChannelID>")
			}},
		{"dateTime -8:00", quirks(cam, func(q *AlertQuirks) { q.DateTime = "-8:00" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Regexp(t, `<dateTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-8:00</dateTime>`, body)
			}},
		{"dateTime without sign", quirks(cam, func(q *AlertQuirks) { q.DateTime = "nosign" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Regexp(t, `<dateTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d00:00</dateTime>`, body)
			}},
		{"dateTime without offset", quirks(cam, func(q *AlertQuirks) { q.DateTime = "none" }), "VMD", alertPath,
			func(t *testing.T, _ *http.Response, body string) {
				assert.Regexp(t, `<dateTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d</dateTime>`, body)
			}},
		{"old path only", quirks(cam, func(q *AlertQuirks) { q.OldPathOnly = true }), "VMD", "/Event/notification/alertStream",
			func(t *testing.T, resp *http.Response, body string) {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Contains(t, body, "<eventType>VMD</eventType>")
			}},
		{"close-delimited", quirks(cam, func(q *AlertQuirks) { q.CloseDelimited = true }), "VMD", alertPath,
			func(t *testing.T, resp *http.Response, body string) {
				assert.Equal(t, "HTTP/1.0", resp.Proto)
				assert.Empty(t, resp.TransferEncoding)
				assert.True(t, resp.Close)
				assert.Equal(t, "multipart/mixed;boundary=boundary", resp.Header.Get("Content-Type"))
				assert.True(t, strings.HasPrefix(body, "--boundary\r\n"))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, Config{
				Channels: []ChannelConfig{{Main: "h264_360p.h264"}},
				Alert:    AlertConfig{Heartbeat: -1, Quirks: tc.quirks},
			})
			if tc.quirks != nil && tc.quirks.OldPathOnly {
				resp, _ := openAlerts(t, sim, alertPath)
				assert.Equal(t, http.StatusNotFound, resp.StatusCode, "new path is 404 on old firmware")
			}
			resp, sb := openAlerts(t, sim, tc.path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.NoError(t, sim.Trigger(1, tc.event, 0))
			body := sb.waitFor(t, "</EventNotificationAlert>", 1, 3*time.Second)
			if tc.quirks != nil && tc.quirks.JPEGAfterSmart {
				body = sb.waitFor(t, "image/jpeg", 1, 3*time.Second)
				time.Sleep(100 * time.Millisecond) // the rest of the image part
				body = sb.String()
			}
			tc.check(t, resp, body)
		})
	}
}

// TestAlertCameraStyle: heartbeats, repeats with a shared activePostCount, explicit
// inactive at the end.
func TestAlertCameraStyle(t *testing.T) {
	t.Parallel()
	sim := startSim(t, Config{
		Channels: []ChannelConfig{{Main: "h264_360p.h264"}, {Main: "h265_360p.h265"}},
		Alert:    AlertConfig{Heartbeat: 400 * time.Millisecond, Repeat: 150 * time.Millisecond},
	})
	_, sb := openAlerts(t, sim, alertPath)
	sb.waitFor(t, "<eventType>videoloss</eventType>", 1, 3*time.Second) // a heartbeat first
	require.NoError(t, sim.Trigger(1, "VMD", 500*time.Millisecond))
	require.NoError(t, sim.Trigger(2, "fielddetection", 300*time.Millisecond))
	sb.waitFor(t, "<eventState>inactive</eventState>", 3, 3*time.Second) // heartbeat + 2 ends
	body := sb.waitFor(t, "<eventType>VMD</eventType>\r\n<eventState>inactive", 1, 3*time.Second)
	parts, err := parseAlertParts([]byte(body))
	require.NoError(t, err)
	alerts := decodeAlerts(t, parts)

	var counts []int
	sawEnd := map[string]bool{}
	for _, a := range alerts {
		switch {
		case a.EventType == "videoloss":
			assert.Equal(t, "inactive", a.EventState, "heartbeat")
			assert.Equal(t, 0, a.ActivePostCount)
		case a.EventState == "active":
			assert.False(t, sawEnd[a.EventType], "no active after inactive")
			counts = append(counts, a.ActivePostCount)
		default:
			assert.Equal(t, "inactive", a.EventState)
			sawEnd[a.EventType] = true
		}
	}
	assert.True(t, sawEnd["VMD"] && sawEnd["fielddetection"])
	require.GreaterOrEqual(t, len(counts), 4, "VMD and fielddetection repeat while active")
	for i := range counts {
		assert.Equal(t, i+1, counts[i], "activePostCount is one counter shared across event types")
	}
	for _, a := range alerts {
		if a.EventType == "fielddetection" && a.EventState == "active" {
			require.Len(t, a.Regions, 1)
			assert.Len(t, a.Regions[0].Points, 4)
			assert.Equal(t, "2", a.ChannelID)
		}
	}
}

// TestAlertHeartbeatQuirks: one heartbeat then silence; no heartbeats during events.
func TestAlertHeartbeatQuirks(t *testing.T) {
	t.Parallel()
	const hb = 150 * time.Millisecond
	t.Run("heartbeat once", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, Config{
			Channels: []ChannelConfig{{Main: "h264_360p.h264"}},
			Alert:    AlertConfig{Heartbeat: hb, Quirks: quirks(CameraQuirks(), func(q *AlertQuirks) { q.HeartbeatOnce = true })},
		})
		_, sb := openAlerts(t, sim, alertPath)
		sb.waitFor(t, "<eventType>videoloss</eventType>", 1, 3*time.Second)
		time.Sleep(5 * hb)
		assert.Equal(t, 1, strings.Count(sb.String(), "<eventType>videoloss</eventType>"))
	})
	t.Run("quiet during events", func(t *testing.T) {
		t.Parallel()
		sim := startSim(t, Config{
			Channels: []ChannelConfig{{Main: "h264_360p.h264"}},
			Alert: AlertConfig{Heartbeat: hb, Repeat: time.Hour,
				Quirks: quirks(CameraQuirks(), func(q *AlertQuirks) { q.QuietDuringEvents = true })},
		})
		_, sb := openAlerts(t, sim, alertPath)
		require.NoError(t, sim.Trigger(1, "VMD", 6*hb))
		sb.waitFor(t, "<eventState>active</eventState>", 1, 3*time.Second)
		time.Sleep(4 * hb)
		assert.NotContains(t, sb.String(), "videoloss", "no heartbeat while VMD is active")
		sb.waitFor(t, "<eventType>videoloss</eventType>", 1, 3*time.Second) // back after the event
	})
}

// TestAlertNVRStyle: HTTP/1.0, LF, prolog, repeats while active, never inactive, no
// heartbeat; a stopped channel reports videoloss active.
func TestAlertNVRStyle(t *testing.T) {
	t.Parallel()
	sim := startSim(t, Config{
		Mode:     ModeNVR,
		Channels: []ChannelConfig{{Main: "h264_360p.h264"}, {Main: "h264_360p.h264"}},
		Alert:    AlertConfig{Repeat: 150 * time.Millisecond},
	})
	resp, sb := openAlerts(t, sim, alertPath)
	assert.Equal(t, "HTTP/1.0", resp.Proto)
	require.NoError(t, sim.Trigger(1, "VMD", 400*time.Millisecond))
	sb.waitFor(t, "<eventType>VMD</eventType>", 2, 3*time.Second)
	time.Sleep(700 * time.Millisecond) // past the end of the event
	body := sb.String()
	assert.NotContains(t, body, "inactive")
	assert.NotContains(t, body, "\r")
	assert.Contains(t, body, "\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EventNotificationAlert")
	assert.Contains(t, body, "<protocolType>HTTP</protocolType>")
	n := strings.Count(body, "<eventType>VMD</eventType>")
	assert.GreaterOrEqual(t, n, 2)
	time.Sleep(400 * time.Millisecond)
	assert.Equal(t, n, strings.Count(sb.String(), "<eventType>VMD</eventType>"), "no repeats after the end")

	require.NoError(t, sim.StopStream(2))
	body = sb.waitFor(t, "<eventType>videoloss</eventType>", 2, 3*time.Second)
	assert.Contains(t, body, "<dynChannelID>2</dynChannelID>")
	require.NoError(t, sim.StartStream(2))
	assert.Empty(t, sim.Status().ActiveEvents)
}

// TestControlAPI drives the simulator over its /sim/ JSON API.
func TestControlAPI(t *testing.T) {
	t.Parallel()
	sim := startSim(t, Config{
		Channels: []ChannelConfig{{Main: "h264_360p.h264"}},
		Alert: AlertConfig{Heartbeat: -1, Script: []ScriptEvent{
			{At: 800 * time.Millisecond, Channel: 1, Type: "tamperdetection", Duration: 200 * time.Millisecond},
		}},
	})
	base := sim.ISAPIURL() + "/sim"
	do := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	_, sb := openAlerts(t, sim, alertPath)

	code, _ := do("POST", "/events", `{"channel":1,"type":"VMD","seconds":5}`)
	require.Equal(t, http.StatusOK, code)
	sb.waitFor(t, "<eventType>VMD</eventType>\r\n<eventState>active", 1, 3*time.Second)
	code, body := do("GET", "/status", "")
	require.Equal(t, http.StatusOK, code)
	var st Status
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	require.Len(t, st.ActiveEvents, 1)
	assert.Equal(t, "VMD", st.ActiveEvents[0].Type)
	assert.Equal(t, 1, st.AlertSessions)
	code, _ = do("DELETE", "/events", "")
	require.Equal(t, http.StatusOK, code)
	sb.waitFor(t, "<eventType>VMD</eventType>\r\n<eventState>inactive", 1, 3*time.Second)
	sb.waitFor(t, "<eventType>tamperdetection</eventType>\r\n<eventState>inactive", 1, 3*time.Second) // Config.Alert.Script

	code, _ = do("POST", "/script", `[{"at":0.1,"channel":1,"type":"PIR","seconds":0.2}]`)
	require.Equal(t, http.StatusOK, code)
	sb.waitFor(t, "<eventType>PIR</eventType>\r\n<eventState>inactive", 1, 3*time.Second)

	for _, tc := range []struct {
		method, path, body string
		code               int
		live, stalled      bool
		garbage            int
	}{
		{"POST", "/streams/1/stop", "", http.StatusOK, false, false, 0},
		{"POST", "/streams/1/start", "", http.StatusOK, true, false, 0},
		{"POST", "/streams/1/restart", "", http.StatusOK, true, false, 0},
		{"POST", "/streams/1/stall", "", http.StatusOK, true, true, 0},
		{"POST", "/streams/1/resume", "", http.StatusOK, true, false, 0},
		{"POST", "/streams/1/stall?seconds=30", "", http.StatusOK, true, true, 0},
		{"POST", "/streams/1/resume", "", http.StatusOK, true, false, 0},
		{"POST", "/streams/1/stall?seconds=abc", "", http.StatusBadRequest, true, false, 0},
		{"POST", "/streams/9/stop", "", http.StatusNotFound, true, false, 0},
		{"POST", "/streams/1/garbage?packets=100000", "", http.StatusOK, true, false, 100000},
		{"POST", "/events", `{"channel":7,"type":"VMD"}`, http.StatusNotFound, true, false, 100000},
		{"POST", "/events", `not json`, http.StatusBadRequest, true, false, 100000},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			code, body := do(tc.method, tc.path, tc.body)
			require.Equal(t, tc.code, code, body)
			st := sim.Status()
			assert.Equal(t, tc.live, st.Paths[0].Live)
			assert.Equal(t, tc.stalled, st.Paths[0].Stalled)
			assert.InDelta(t, tc.garbage, st.Paths[0].Garbage, 1000, "garbage pending (being consumed)")
		})
	}

	code, body = do("PUT", "/alert/quirks", `{"lfBodies":true,"namespace":"none"}`)
	require.Equal(t, http.StatusOK, code, body)
	q := sim.AlertQuirks()
	assert.True(t, q.LFBodies)
	assert.Equal(t, "none", q.Namespace)
	assert.Equal(t, "channelID", q.ChannelID, "fields absent from the JSON are kept")
	code, _ = do("PUT", "/alert/quirks", `{"dateTime":"yesterday"}`)
	assert.Equal(t, http.StatusBadRequest, code)

	code, _ = do("POST", "/alert/disconnect", "")
	require.Equal(t, http.StatusOK, code)
	require.Eventually(t, sb.ended, 3*time.Second, 10*time.Millisecond, "alertStream dropped")
	_, sb2 := openAlerts(t, sim, alertPath) // new connections get the new quirks
	require.NoError(t, sim.Trigger(1, "VMD", 0))
	body = sb2.waitFor(t, "</EventNotificationAlert>", 1, 3*time.Second)
	assert.NotContains(t, body, "\r")
	assert.Regexp(t, regexp.MustCompile(`<EventNotificationAlert version="2.0">\n`), body)
}
