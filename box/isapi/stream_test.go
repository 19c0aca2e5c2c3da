package isapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamHandler serves an alertStream: it writes each chunk, flushes, and then
// holds the connection open until the test ends (or closes it when hold is false).
func streamHandler(ctype string, chunks []string, hold bool, done <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(http.StatusOK)
		f := w.(http.Flusher)
		for _, c := range chunks {
			_, _ = w.Write([]byte(c))
			f.Flush()
		}
		if hold {
			select {
			case <-r.Context().Done():
			case <-done:
			}
		}
	}
}

type eventSink struct{ ch chan Event }

func newSink() *eventSink { return &eventSink{ch: make(chan Event, 100)} }

func (s *eventSink) on(e Event) { s.ch <- e }

func (s *eventSink) next(t *testing.T) Event {
	t.Helper()
	select {
	case e := <-s.ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return Event{}
	}
}

func runStream(t *testing.T, s *AlertStream) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(5 * time.Second):
				err = errors.New("Run did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func TestAlertStreamDelivers(t *testing.T) {
	done := make(chan struct{})
	defer close(done)
	d := newFakeDevice(t)
	cam := func(typ, state string, count int) string {
		x := alertXML(hikNS, typ, state, 1, "\r\n")
		x = strings.Replace(x, "<activePostCount>1</activePostCount>", "<activePostCount>"+string(rune('0'+count))+"</activePostCount>", 1)
		return framed("--hikboundary", xmlCT, x, "\r\n")
	}
	d.handle(PathAlertStream, streamHandler("multipart/mixed; boundary=hikboundary", []string{
		cam("videoloss", "inactive", 0),
		cam("VMD", "active", 1),
		framed("--hikboundary", "image/jpeg", fakeJPEG, "\r\n"),
		framed("--hikboundary", xmlCT, "<EventNotificationAlert><broken", "\r\n"),
		cam("linedetection", "active", 2),
	}, true, done))
	sink := newSink()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var connected []string
	s, err := NewAlertStream(newTestClient(t, d, "Admin12345"), StreamOptions{OnEvent: sink.on,
		Clock: func() time.Time { return now }, OnConnect: func(p string) { connected = append(connected, p) }})
	require.NoError(t, err)
	stop := runStream(t, s)

	hb := sink.next(t)
	assert.True(t, IsHeartbeat(hb))
	assert.Equal(t, now, hb.Received)
	vmd := sink.next(t)
	assert.Equal(t, "VMD", vmd.EventType)
	assert.True(t, vmd.IsActive())
	assert.Equal(t, 1, vmd.Channel)
	assert.Equal(t, "2026-11-27T09:30:00+08:00", vmd.DateTimeRaw)
	// The last part arrives although the device then goes quiet: nothing waits
	// for a following boundary.
	ld := sink.next(t)
	assert.Equal(t, "linedetection", ld.EventType)

	require.ErrorIs(t, stop(), context.Canceled)
	st := s.Stats()
	assert.Equal(t, uint64(3), st.Events)
	assert.Equal(t, map[string]uint64{"videoloss": 1, "vmd": 1, "linedetection": 1}, st.EventsByType)
	assert.Equal(t, uint64(1), st.Heartbeats)
	assert.Equal(t, uint64(1), st.Malformed)
	assert.Equal(t, uint64(1), st.NonXMLParts)
	assert.Equal(t, uint64(1), st.Connects)
	assert.Equal(t, uint64(0), st.Reconnects)
	assert.Greater(t, st.Bytes, uint64(1000))
	assert.Equal(t, PathAlertStream, st.Path)
	assert.Equal(t, now, st.LastEvent)
	assert.Equal(t, []string{PathAlertStream}, connected)
}

func TestAlertStreamLegacyPathAndHTTP10(t *testing.T) {
	// An old DVR: no /ISAPI prefix, HTTP/1.0, close-delimited LF body with the
	// literal boundary and a prolog.
	d := newFakeDevice(t)
	body := framed("--boundary", "application/xml", `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+alertXML("", "VMD", "active", 33, "\n"), "\n") +
		"--boundary\n" + framed("--boundary", "application/xml", alertXML("", "VMD", "active", 34, "\n"), "\n")
	d.handle(PathAlertStreamLegacy, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.0 200 OK\r\nContent-Type: multipart/mixed;boundary=MIME_boundary\r\n\r\n" + body)
		_ = buf.Flush()
		<-r.Context().Done()
		time.Sleep(200 * time.Millisecond)
	})
	sink := newSink()
	s, err := NewAlertStream(newTestClient(t, d, "Admin12345"), StreamOptions{OnEvent: sink.on, Parse: ParseOptions{IPChannelOffset: 32},
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	require.NoError(t, err)
	runStream(t, s)
	e := sink.next(t)
	assert.Equal(t, 1, e.Channel)
	assert.Equal(t, 33, e.ChannelID)
	assert.Equal(t, 2, sink.next(t).Channel)
	assert.Equal(t, PathAlertStreamLegacy, s.Stats().Path)
}

func TestAlertStreamReconnects(t *testing.T) {
	d := newFakeDevice(t)
	d.handle(PathAlertStream, streamHandler("multipart/mixed; boundary=boundary",
		[]string{framed("--boundary", xmlCT, alertXML("", "IO", "active", 0, "\r\n"), "\r\n")}, false, nil))
	sink := newSink()
	s, err := NewAlertStream(newTestClient(t, d, "Admin12345"), StreamOptions{OnEvent: sink.on,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	require.NoError(t, err)
	runStream(t, s)
	for range 3 {
		assert.Equal(t, "IO", sink.next(t).EventType)
	}
	st := s.Stats()
	assert.GreaterOrEqual(t, st.Reconnects, uint64(2))
	assert.GreaterOrEqual(t, st.Connects, uint64(3))
	assert.Contains(t, st.LastError, "closed by device")
}

func TestAlertStreamQuietIsNotKilled(t *testing.T) {
	release := make(chan struct{})
	d := newFakeDevice(t)
	d.handle(PathAlertStream, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/mixed; boundary=boundary")
		_, _ = w.Write([]byte(framed("--boundary", xmlCT, alertXML("", "videoloss", "inactive", 0, "\r\n"), "\r\n")))
		w.(http.Flusher).Flush()
		select { // one heartbeat, then silence, as some devices do
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n")))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	sink := newSink()
	s, err := NewAlertStream(newTestClient(t, d, "Admin12345"), StreamOptions{OnEvent: sink.on})
	require.NoError(t, err)
	runStream(t, s)
	sink.next(t)
	time.Sleep(1500 * time.Millisecond)
	close(release)
	assert.Equal(t, "VMD", sink.next(t).EventType)
	assert.Equal(t, uint64(1), s.Stats().Connects)
}

func TestAlertStreamIdleTimeout(t *testing.T) {
	done := make(chan struct{})
	defer close(done)
	d := newFakeDevice(t)
	d.handle(PathAlertStream, streamHandler("multipart/mixed; boundary=boundary",
		[]string{framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n")}, true, done))
	sink := newSink()
	s, err := NewAlertStream(newTestClient(t, d, "Admin12345"), StreamOptions{OnEvent: sink.on,
		IdleTimeout: 150 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	require.NoError(t, err)
	runStream(t, s)
	sink.next(t)
	sink.next(t) // only arrives after the idle connection was dropped and re-opened
	st := s.Stats()
	assert.GreaterOrEqual(t, st.Reconnects, uint64(1))
	assert.Contains(t, st.LastError, ErrIdleTimeout.Error())
}

func TestAlertStreamFailFast(t *testing.T) {
	d := newFakeDevice(t)
	d.handle(PathAlertStream, streamHandler("multipart/mixed; boundary=boundary", nil, false, nil))
	s, err := NewAlertStream(newTestClient(t, d, "wrong"), StreamOptions{OnEvent: func(Event) {}, FailFast: true})
	require.NoError(t, err)
	err = s.Run(context.Background())
	assert.ErrorIs(t, err, ErrUnauthorized)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(ClientOptions{URL: addr})
	require.NoError(t, err)
	s, err = NewAlertStream(c, StreamOptions{OnEvent: func(Event) {}, FailFast: true})
	require.NoError(t, err)
	err = s.Run(context.Background())
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr)
}

func TestAlertStreamRefusedWithResponseStatus(t *testing.T) {
	d := newFakeDevice(t)
	d.xml(PathAlertStream, `<ResponseStatus><statusCode>3</statusCode><statusString>Device Error</statusString><subStatusCode>maxSessionsReached</subStatusCode></ResponseStatus>`)
	s, err := NewAlertStream(newTestClient(t, d, "Admin12345"), StreamOptions{OnEvent: func(Event) {}, FailFast: true})
	require.NoError(t, err)
	err = s.Run(context.Background())
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "maxSessionsReached", se.SubStatusCode)
	assert.Zero(t, s.Stats().Malformed)
}

func TestAlertStreamSingleSession(t *testing.T) {
	done := make(chan struct{})
	defer close(done)
	d := newFakeDevice(t)
	d.handle(PathAlertStream, streamHandler("multipart/mixed; boundary=boundary",
		[]string{framed("--boundary", xmlCT, alertXML("", "VMD", "active", 1, "\r\n"), "\r\n")}, true, done))
	sink := newSink()
	s, err := NewAlertStream(newTestClient(t, d, "Admin12345"), StreamOptions{OnEvent: sink.on})
	require.NoError(t, err)
	runStream(t, s)
	sink.next(t)
	assert.ErrorIs(t, s.Run(context.Background()), ErrAlreadyRunning)
}

func TestBackoff(t *testing.T) {
	s := &AlertStream{opts: StreamOptions{MinBackoff: time.Second, MaxBackoff: 8 * time.Second}}
	for _, tc := range []struct {
		n        int
		err      error
		min, max time.Duration
	}{
		{0, nil, 500 * time.Millisecond, time.Second},
		{1, nil, time.Second, 2 * time.Second},
		{3, nil, 4 * time.Second, 8 * time.Second},
		{10, nil, 4 * time.Second, 8 * time.Second},
		{100, nil, 4 * time.Second, 8 * time.Second},
		{0, ErrUnauthorized, 4 * time.Second, 8 * time.Second},
	} {
		for range 50 {
			d := s.backoff(tc.n, tc.err)
			assert.GreaterOrEqual(t, d, tc.min)
			assert.LessOrEqual(t, d, tc.max)
		}
	}
}
