package camsim

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// alertMsg is one event notification before quirks shape it into bytes.
type alertMsg struct {
	channel int
	typ     string
	active  bool
	count   int // activePostCount
	at      time.Time
}

type eventKey struct {
	channel int
	typ     string
}

type activeEvent struct {
	until    time.Time // zero: until cleared
	lastSent time.Time
}

// EventStatus is an active event as reported by Status.
type EventStatus struct {
	Channel int       `json:"channel"`
	Type    string    `json:"type"`
	Until   time.Time `json:"until,omitzero"`
}

// alertSub is one open alertStream connection.
type alertSub struct {
	msgs    chan alertMsg
	done    chan struct{}
	once    sync.Once
	dropped int // guarded by alertHub.mu
}

func (s *alertSub) close() { s.once.Do(func() { close(s.done) }) }

// alertHub owns event state and fans notifications out to every alertStream.
type alertHub struct {
	sim  *Sim
	kick chan struct{}

	mu        sync.Mutex
	q         AlertQuirks
	active    map[eventKey]*activeEvent
	postCount int
	subs      map[*alertSub]struct{}
	closing   bool           // set by shutdown: no new subscriptions
	handlers  sync.WaitGroup // open connections; Add only under mu while !closing
	jpeg      []byte
}

func newAlertHub(s *Sim) *alertHub {
	return &alertHub{
		sim:    s,
		kick:   make(chan struct{}, 1),
		q:      *s.cfg.Alert.Quirks,
		active: make(map[eventKey]*activeEvent),
		subs:   make(map[*alertSub]struct{}),
		jpeg:   snapshotJPEG(),
	}
}

func (h *alertHub) quirks() AlertQuirks {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.q
}

func (h *alertHub) setQuirks(q AlertQuirks) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.q = q
}

func (h *alertHub) nvr() bool { return h.sim.cfg.Alert.Style == StyleNVR }

// broadcastLocked queues m on every connection; a connection that cannot keep up
// loses the message (counted) rather than stalling the others.
func (h *alertHub) broadcastLocked(m alertMsg) {
	for sub := range h.subs {
		select {
		case sub.msgs <- m:
		default:
			sub.dropped++
		}
	}
}

// busy reports whether any event is active.
func (h *alertHub) busy() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.active) > 0
}

func (h *alertHub) trigger(ch int, typ string, d time.Duration) {
	now := h.sim.clock.Now()
	h.mu.Lock()
	ev := &activeEvent{lastSent: now}
	if d > 0 {
		ev.until = now.Add(d)
	}
	h.active[eventKey{ch, typ}] = ev
	h.postCount++
	h.broadcastLocked(alertMsg{channel: ch, typ: typ, active: true, count: h.postCount, at: now})
	h.mu.Unlock()
	h.sim.log.Info("event triggered", "channel", ch, "type", typ, "for", d)
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

func (h *alertHub) clear(ch int, typ string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.active[eventKey{ch, typ}]; ok {
		h.endLocked(eventKey{ch, typ}, h.sim.clock.Now())
	}
}

func (h *alertHub) clearAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.sim.clock.Now()
	for k := range h.active {
		h.endLocked(k, now)
	}
}

// endLocked ends an event: cameras say inactive, NVRs just stop repeating it.
func (h *alertHub) endLocked(k eventKey, now time.Time) {
	delete(h.active, k)
	if !h.nvr() {
		h.broadcastLocked(alertMsg{channel: k.channel, typ: k.typ, active: false, at: now})
	}
	if len(h.active) == 0 {
		h.postCount = 0 // the burst is over
	}
}

// run repeats active events every Repeat and ends them when they expire.
func (h *alertHub) run(ctx context.Context) {
	repeat := h.sim.cfg.Alert.Repeat
	for {
		now := h.sim.clock.Now()
		h.mu.Lock()
		keys := make([]eventKey, 0, len(h.active))
		for k := range h.active {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { // deterministic order for tests
			if keys[i].channel != keys[j].channel {
				return keys[i].channel < keys[j].channel
			}
			return keys[i].typ < keys[j].typ
		})
		next := time.Duration(-1)
		for _, k := range keys {
			ev := h.active[k]
			if !ev.until.IsZero() && !now.Before(ev.until) {
				h.endLocked(k, now)
				continue
			}
			if repeat > 0 && now.Sub(ev.lastSent) >= repeat {
				ev.lastSent = now
				h.postCount++
				h.broadcastLocked(alertMsg{channel: k.channel, typ: k.typ, active: true, count: h.postCount, at: now})
			}
			wake := ev.lastSent.Add(repeat).Sub(now)
			if repeat <= 0 {
				wake = -1
			}
			if !ev.until.IsZero() && (wake < 0 || ev.until.Sub(now) < wake) {
				wake = ev.until.Sub(now)
			}
			if wake >= 0 && (next < 0 || wake < next) {
				next = wake
			}
		}
		h.mu.Unlock()
		var timer <-chan time.Time
		if next >= 0 {
			timer = h.sim.clock.After(next)
		}
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		case <-timer:
		}
	}
}

// runScript triggers the configured script relative to start.
func (h *alertHub) runScript(ctx context.Context, script []ScriptEvent, start time.Time) {
	sort.SliceStable(script, func(i, j int) bool { return script[i].At < script[j].At })
	for _, ev := range script {
		if wait := start.Add(ev.At).Sub(h.sim.clock.Now()); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-h.sim.clock.After(wait):
			}
		}
		h.trigger(ev.Channel, ev.Type, ev.Duration)
	}
}

func (h *alertHub) status() ([]EventStatus, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	evs := make([]EventStatus, 0, len(h.active))
	for k, ev := range h.active {
		evs = append(evs, EventStatus{Channel: k.channel, Type: k.typ, Until: ev.until})
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].Channel != evs[j].Channel {
			return evs[i].Channel < evs[j].Channel
		}
		return evs[i].Type < evs[j].Type
	})
	return evs, len(h.subs)
}

// subscribe registers a connection; nil once the hub shuts down.
func (h *alertHub) subscribe() *alertSub {
	sub := &alertSub{msgs: make(chan alertMsg, 256), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil
	}
	h.subs[sub] = struct{}{}
	h.handlers.Add(1)
	return sub
}

func (h *alertHub) unsubscribe(sub *alertSub) {
	h.mu.Lock()
	delete(h.subs, sub)
	dropped := sub.dropped
	h.mu.Unlock()
	if dropped > 0 {
		h.sim.log.Warn("alertStream client too slow", "dropped", dropped)
	}
	h.handlers.Done()
}

// closeAll drops every open alertStream; clients may connect again.
func (h *alertHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		sub.close()
	}
}

// shutdown drops every alertStream for good and waits for their handlers.
func (h *alertHub) shutdown() {
	h.mu.Lock()
	h.closing = true
	for sub := range h.subs {
		sub.close()
	}
	h.mu.Unlock()
	h.handlers.Wait()
}

// serve answers one alertStream request until the client leaves, the stream is
// dropped by a knob, or the simulator closes.
func (h *alertHub) serve(w http.ResponseWriter, r *http.Request) {
	q := h.quirks()
	declared := "boundary"
	if q.BoundaryMismatch {
		declared = "hikboundary"
	}
	var out io.Writer
	var flush func() error
	if q.CloseDelimited {
		conn, bufrw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			h.sim.log.Error("alertStream hijack", "err", err)
			return
		}
		defer conn.Close()
		_, _ = fmt.Fprintf(bufrw, "HTTP/1.0 200 OK\r\nContent-Type: multipart/mixed;boundary=%s\r\n"+
			"Connection: close\r\nServer: %s\r\n\r\n", declared, w.Header().Get("Server"))
		out, flush = bufrw, bufrw.Flush
		// A hijacked connection no longer sees the request context end: watch reads.
		go watchClose(r.Context(), conn, bufrw.Reader)
	} else {
		w.Header().Set("Content-Type", "multipart/mixed; boundary="+declared)
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		out, flush = w, rc.Flush
	}
	if err := flush(); err != nil {
		return
	}
	sub := h.subscribe()
	if sub == nil {
		return
	}
	defer h.unsubscribe(sub)
	h.sim.log.Info("alertStream opened", "remote", r.RemoteAddr, "closeDelimited", q.CloseDelimited)
	defer h.sim.log.Info("alertStream closed", "remote", r.RemoteAddr)

	f := alertFormatter{q: q, nvr: h.nvr(), sim: h.sim, jpeg: h.jpeg}
	hb := h.sim.cfg.Alert.Heartbeat
	var heartbeat <-chan time.Time
	if hb > 0 {
		heartbeat = h.sim.clock.After(hb)
	}
	for {
		var parts []byte
		select {
		case <-r.Context().Done():
			return
		case <-sub.done:
			return
		case <-heartbeat:
			heartbeat = h.sim.clock.After(hb)
			if q.HeartbeatOnce {
				heartbeat = nil
			}
			if q.QuietDuringEvents && h.busy() {
				continue
			}
			parts = f.parts(alertMsg{channel: 1, typ: "videoloss", at: h.sim.clock.Now()})
		case m := <-sub.msgs:
			parts = f.parts(m)
		}
		if _, err := out.Write(parts); err != nil {
			return
		}
		if err := flush(); err != nil {
			return
		}
	}
}

// watchClose cancels nothing itself; it closes conn once the client hangs up or
// ctx ends, which makes the writer's next Write fail and the handler return.
func watchClose(ctx context.Context, conn net.Conn, r *bufio.Reader) {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, r)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	_ = conn.Close()
}

// alertFormatter renders messages with one connection's quirks.
type alertFormatter struct {
	q    AlertQuirks
	nvr  bool
	sim  *Sim
	jpeg []byte
}

func (f *alertFormatter) nl() string {
	if f.q.LFBodies {
		return "\n"
	}
	return "\r\n"
}

// parts returns the bytes of one notification: its XML part and, for smart events
// with the JPEG quirk, an image part.
func (f *alertFormatter) parts(m alertMsg) []byte {
	var b bytes.Buffer
	body := f.xml(m)
	f.part(&b, `application/xml; charset="UTF-8"`, "", body)
	if f.q.JPEGAfterSmart && m.active && isSmart(m.typ) {
		img := append(append([]byte(nil), f.jpeg...), f.nl()...)
		f.part(&b, "image/jpeg", fmt.Sprintf(`Content-Disposition: form-data; name="%s"; filename="%s.jpg"`, m.typ, m.typ), img)
	}
	return b.Bytes()
}

// part writes a boundary line, headers and body. Content-Length counts the body's
// trailing line end, as real cameras do.
func (f *alertFormatter) part(b *bytes.Buffer, ctype, extra string, body []byte) {
	nl := f.nl()
	b.WriteString("--boundary" + nl)
	if f.q.DuplicateBoundary {
		b.WriteString("--boundary" + nl)
	}
	if extra != "" {
		b.WriteString(extra + nl)
	}
	b.WriteString("Content-Type: " + ctype + nl)
	if !f.q.NoContentLength {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + nl)
	}
	b.WriteString(nl)
	b.Write(body)
}

func isSmart(typ string) bool {
	switch strings.ToLower(typ) {
	case "linedetection", "fielddetection", "regionentrance", "regionexiting":
		return true
	}
	return false
}

func describe(typ string) string {
	if strings.EqualFold(typ, "VMD") {
		return "Motion alarm"
	}
	return typ + " alarm"
}

func (f *alertFormatter) dateTime(t time.Time) string {
	const layout = "2006-01-02T15:04:05"
	switch f.q.DateTime {
	case "-8:00":
		return t.In(time.FixedZone("", -8*3600)).Format(layout) + "-8:00"
	case "nosign":
		return t.UTC().Format(layout) + "00:00"
	case "none":
		return t.In(time.FixedZone("", 8*3600)).Format(layout)
	}
	return t.In(time.FixedZone("", 8*3600)).Format(layout + "-07:00")
}

func (f *alertFormatter) xml(m alertMsg) []byte {
	nl := f.nl()
	var b strings.Builder
	line := func(s string) { b.WriteString(s + nl) }
	el := func(name string, v any) { line(fmt.Sprintf("<%s>%v</%s>", name, v, name)) }
	if f.q.XMLProlog {
		line(`<?xml version="1.0" encoding="UTF-8"?>`)
	}
	ns, _ := namespaceURI(f.q.Namespace)
	version := "2.0"
	if f.q.Namespace == "ver10" || f.q.Namespace == "psialliance" {
		version = "1.0"
	}
	if ns == "" {
		line(fmt.Sprintf(`<EventNotificationAlert version="%s">`, version))
	} else {
		line(fmt.Sprintf(`<EventNotificationAlert version="%s" xmlns="%s">`, version, ns))
	}
	host, port, _ := net.SplitHostPort(f.sim.httpAddr)
	el("ipAddress", host)
	el("portNo", port)
	if f.nvr {
		el("protocolType", "HTTP")
	} else {
		el("protocol", "HTTP")
	}
	el("macAddress", f.sim.macAddress())
	switch f.q.ChannelID {
	case "dynChannelID":
		el("dynChannelID", m.channel)
	case "both":
		el("channelID", m.channel)
		el("dynChannelID", m.channel)
	case "empty":
		line("<channelID></channelID>")
	case "dyn32":
		id := m.channel
		if id > 0 {
			id += 32
		}
		el("channelID", id)
		el("dynChannelID", m.channel)
	default:
		el("channelID", m.channel)
	}
	el("dateTime", f.dateTime(m.at))
	el("activePostCount", m.count)
	el("eventType", m.typ)
	state := "inactive"
	if m.active {
		state = "active"
	}
	el("eventState", state)
	desc := describe(m.typ)
	if f.q.UnescapedAmp {
		desc = strings.Replace(desc, " alarm", " & alarm", 1) // raw '&': invalid XML on purpose
	}
	el("eventDescription", desc)
	if m.channel > 0 {
		el("channelName", fmt.Sprintf("Camera %02d", m.channel))
	}
	if isSmart(m.typ) && m.active {
		f.regions(m.typ, line, el)
		el("targetType", "human")
	}
	line("<Extensions>")
	el("serialNumber", f.sim.cfg.Serial)
	el("eventPush", fmt.Sprintf("%s&amp;%d&amp;%s", f.sim.cfg.Serial, m.channel, m.typ))
	line("</Extensions>")
	line("</EventNotificationAlert>")
	return []byte(b.String())
}

// regions writes a DetectionRegionList: a line rule has 2 points, a field 4;
// coordinates 0..1000, TargetRect as 0..1 floats.
func (f *alertFormatter) regions(typ string, line func(string), el func(string, any)) {
	pts := [][2]int{{100, 500}, {900, 500}}
	if !strings.EqualFold(typ, "linedetection") {
		pts = [][2]int{{200, 200}, {800, 200}, {800, 800}, {200, 800}}
	}
	line("<DetectionRegionList>")
	line("<DetectionRegionEntry>")
	el("regionID", 1)
	el("sensitivityLevel", 50)
	line("<RegionCoordinatesList>")
	for _, p := range pts {
		line("<RegionCoordinates>")
		el("positionX", p[0])
		el("positionY", p[1])
		line("</RegionCoordinates>")
	}
	line("</RegionCoordinatesList>")
	el("detectionTarget", "human")
	line("<TargetRect>")
	el("X", 0.42)
	el("Y", 0.31)
	el("width", 0.08)
	el("height", 0.27)
	line("</TargetRect>")
	line("</DetectionRegionEntry>")
	line("</DetectionRegionList>")
}

// snapshotJPEG is the small picture sent after smart events.
func snapshotJPEG() []byte {
	img := image.NewGray(image.Rect(0, 0, 64, 36))
	for y := 0; y < 36; y++ {
		for x := 0; x < 64; x++ {
			img.SetGray(x, y, color.Gray{Y: uint8(x * 4)})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 60})
	return b.Bytes()
}
