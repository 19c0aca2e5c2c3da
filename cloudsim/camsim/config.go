package camsim

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Device modes and manufacturers accepted in Config.
const (
	ModeCamera = "camera"
	ModeNVR    = "nvr"

	ManufacturerHikvision = "hikvision"
	ManufacturerOther     = "other"
)

// Config describes one simulated device. Every zero value has a documented default,
// so Config{Channels: ...} is a working camera.
type Config struct {
	// Mode is "camera" (default) or "nvr". It sets deviceType, the default model, the
	// default alertStream style and whether InputProxy channels exist.
	Mode string
	// Manufacturer is "hikvision" (default) or "other". "other" reports a non-Hikvision
	// device in deviceInfo (manufacturer "Dahua"); any other non-empty value is used
	// verbatim as that manufacturer's name. See the package doc for the telltale fields.
	Manufacturer string
	// Channels lists the device's channels; channel N is Channels[N-1]. Default: one
	// channel with h264_1080p.h264 / h264_360p.h264.
	Channels []ChannelConfig
	// User and Password guard RTSP and ISAPI. Default admin / Admin12345.
	User, Password string
	// RTSPAddr and HTTPAddr are listen addresses. Default "127.0.0.1:0" (a free port).
	RTSPAddr, HTTPAddr string
	// Serial and Model identify the device. Defaults depend on Mode and Manufacturer; a
	// Hikvision serial is model + yyyymmdd + "AAWRJ" + 8 digits.
	Serial, Model string
	// MediaDir holds the Annex-B files named in Channels. Default "testdata/media".
	MediaDir string
	// Alert configures the alertStream.
	Alert AlertConfig
	// NonceTTL is how long an ISAPI Digest nonce stays fresh. Default 5 minutes.
	NonceTTL time.Duration
	// Realm is the ISAPI Digest realm. Default: 32 hex digits derived from Serial, the
	// way many Hikvision firmwares present it.
	Realm string
	// BasicAuth makes ISAPI accept only Basic auth, like a few old cameras. Default false.
	BasicAuth bool
	// LegacyXML serves ISAPI documents in the old ver10 namespace (version="1.0")
	// instead of ver20. Default false.
	LegacyXML bool
	// Clock drives pacing, heartbeats, event lifetimes and nonce expiry. Default: the
	// real clock.
	Clock Clock
}

// ChannelConfig names the media of one channel.
type ChannelConfig struct {
	// Main and Sub are file names in MediaDir, e.g. "h264_1080p.h264". The codec comes
	// from the extension (.h264 or .h265/.hevc). An empty Sub reuses Main.
	Main, Sub string
}

// Alert styles.
const (
	StyleCamera = "camera"
	StyleNVR    = "nvr"
)

// AlertConfig configures the alertStream.
type AlertConfig struct {
	// Style is "camera" or "nvr"; default follows Config.Mode. Camera style sends an
	// explicit inactive when an event ends; NVR style never does.
	Style string
	// Heartbeat is the interval of videoloss/inactive heartbeats per connection, the
	// first one a full interval after connecting. Default: 10 s for the camera style,
	// none for the NVR style (quiet NVR streams stay silent); negative disables.
	Heartbeat time.Duration
	// Repeat is how often an active event is re-sent while it lasts. Default 1 s.
	Repeat time.Duration
	// Quirks selects the framing and content quirks. Nil means the Style's preset
	// (CameraQuirks or NVRQuirks); non-nil is used exactly as given.
	Quirks *AlertQuirks
	// Script is a list of events triggered relative to Start.
	Script []ScriptEvent
}

// ScriptEvent is one scripted event: at At after Start, channel Channel reports
// Type for Duration (0: until cleared).
type ScriptEvent struct {
	At       time.Duration
	Channel  int
	Type     string
	Duration time.Duration
}

// AlertQuirks switches each alertStream quirk from docs isapi.md on or off. The JSON
// names are those accepted by PUT /sim/alert/quirks.
type AlertQuirks struct {
	// BoundaryMismatch declares boundary=hikboundary in the header while the body uses
	// the literal --boundary (older NVRs).
	BoundaryMismatch bool `json:"boundaryMismatch"`
	// DuplicateBoundary writes every boundary line twice.
	DuplicateBoundary bool `json:"duplicateBoundary"`
	// LFBodies ends lines with LF only (NVRs); otherwise CRLF (cameras).
	LFBodies bool `json:"lfBodies"`
	// XMLProlog prepends <?xml version="1.0" encoding="UTF-8"?> to each XML part.
	XMLProlog bool `json:"xmlProlog"`
	// JPEGAfterSmart sends an image/jpeg part after each active smart event
	// (linedetection, fielddetection, regionEntrance, regionExiting).
	JPEGAfterSmart bool `json:"jpegAfterSmart"`
	// NoContentLength omits the Content-Length header of parts.
	NoContentLength bool `json:"noContentLength"`
	// UnescapedAmp puts a raw '&' into eventDescription (invalid XML, seen in the wild).
	UnescapedAmp bool `json:"unescapedAmp"`
	// Namespace is one of ver10, ver20 (default), isapi.org, std-cgi.com, psialliance,
	// none.
	Namespace string `json:"namespace"`
	// ChannelID is how the channel is reported: "channelID" (default), "dynChannelID",
	// "both", "empty" (an empty <channelID/>) or "dyn32" (dynChannelID = 32+N, as some
	// NVRs do for IP channel N).
	ChannelID string `json:"channelID"`
	// DateTime is the dateTime offset style: "+08:00" (default), "-8:00" (one-digit
	// hour), "nosign" (...T11:46:3100:00) or "none" (no offset at all).
	DateTime string `json:"dateTime"`
	// OldPathOnly serves only /Event/notification/alertStream; the /ISAPI path is 404.
	OldPathOnly bool `json:"oldPathOnly"`
	// HeartbeatOnce sends a single heartbeat and then none (devices quiet for minutes).
	HeartbeatOnce bool `json:"heartbeatOnce"`
	// QuietDuringEvents skips heartbeats while any event is active.
	QuietDuringEvents bool `json:"quietDuringEvents"`
	// CloseDelimited answers HTTP/1.0 style: no chunking, the body ends when the
	// connection closes (NVRs, DVRs). Otherwise HTTP/1.1 chunked.
	CloseDelimited bool `json:"closeDelimited"`
}

// CameraQuirks is the camera style preset: chunked HTTP/1.1, CRLF, Content-Length,
// ver20 namespace, channelID, "+08:00" offsets.
func CameraQuirks() AlertQuirks {
	return AlertQuirks{Namespace: "ver20", ChannelID: "channelID", DateTime: "+08:00"}
}

// NVRQuirks is the NVR style preset: HTTP/1.0 close-delimited, LF-only bodies, XML
// prolog, ver20 namespace, channelID and dynChannelID.
func NVRQuirks() AlertQuirks {
	return AlertQuirks{
		LFBodies: true, XMLProlog: true, CloseDelimited: true,
		Namespace: "ver20", ChannelID: "both", DateTime: "+08:00",
	}
}

// namespaceURI maps an AlertQuirks.Namespace name to its XML namespace.
func namespaceURI(name string) (string, bool) {
	switch name {
	case "ver10":
		return "http://www.hikvision.com/ver10/XMLSchema", true
	case "ver20", "":
		return "http://www.hikvision.com/ver20/XMLSchema", true
	case "isapi.org":
		return "http://www.isapi.org/ver20/XMLSchema", true
	case "std-cgi.com":
		return "http://www.std-cgi.com/ver20/XMLSchema", true
	case "psialliance":
		return "http://www.psialliance.org/ver10/XMLSchema", true
	case "none":
		return "", true
	}
	return "", false
}

// validate checks quirk values, treating empty strings as the defaults.
func (q *AlertQuirks) validate() []string {
	var probs []string
	if _, ok := namespaceURI(q.Namespace); !ok {
		probs = append(probs, fmt.Sprintf("alert quirk namespace %q unknown", q.Namespace))
	}
	switch q.ChannelID {
	case "", "channelID", "dynChannelID", "both", "empty", "dyn32":
	default:
		probs = append(probs, fmt.Sprintf("alert quirk channelID %q unknown", q.ChannelID))
	}
	switch q.DateTime {
	case "", "+08:00", "-8:00", "nosign", "none":
	default:
		probs = append(probs, fmt.Sprintf("alert quirk dateTime %q unknown", q.DateTime))
	}
	return probs
}

// withDefaults returns a copy of cfg with every zero value replaced by its default.
func (cfg Config) withDefaults() Config {
	if cfg.Mode == "" {
		cfg.Mode = ModeCamera
	}
	if cfg.Manufacturer == "" {
		cfg.Manufacturer = ManufacturerHikvision
	}
	if len(cfg.Channels) == 0 {
		cfg.Channels = []ChannelConfig{{Main: "h264_1080p.h264", Sub: "h264_360p.h264"}}
	}
	cfg.Channels = append([]ChannelConfig(nil), cfg.Channels...)
	for i := range cfg.Channels {
		if cfg.Channels[i].Sub == "" {
			cfg.Channels[i].Sub = cfg.Channels[i].Main
		}
	}
	if cfg.User == "" {
		cfg.User = "admin"
	}
	if cfg.Password == "" {
		cfg.Password = "Admin12345"
	}
	if cfg.RTSPAddr == "" {
		cfg.RTSPAddr = "127.0.0.1:0"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	hik := strings.EqualFold(cfg.Manufacturer, ManufacturerHikvision)
	if cfg.Model == "" {
		switch {
		case hik && cfg.Mode == ModeNVR:
			cfg.Model = "DS-7608NI-K2"
		case hik:
			cfg.Model = "DS-2CD2386G2-IU"
		case cfg.Mode == ModeNVR:
			cfg.Model = "NVR5208-8P-4KS2E"
		default:
			cfg.Model = "IPC-HFW2431S-S-S2"
		}
	}
	if cfg.Serial == "" {
		if hik {
			cfg.Serial = cfg.Model + "20240101AAWRJ12345678"
		} else {
			cfg.Serial = "7J01234PAZ12345"
		}
	}
	if cfg.MediaDir == "" {
		cfg.MediaDir = filepath.Join("testdata", "media")
	}
	if cfg.NonceTTL == 0 {
		cfg.NonceTTL = 5 * time.Minute
	}
	if cfg.Realm == "" {
		cfg.Realm = realmFor(cfg.Serial)
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	a := &cfg.Alert
	if a.Style == "" {
		a.Style = StyleCamera
		if cfg.Mode == ModeNVR {
			a.Style = StyleNVR
		}
	}
	if a.Heartbeat == 0 {
		a.Heartbeat = 10 * time.Second
		if a.Style == StyleNVR {
			a.Heartbeat = -1
		}
	}
	if a.Repeat == 0 {
		a.Repeat = time.Second
	}
	if a.Quirks == nil {
		q := CameraQuirks()
		if a.Style == StyleNVR {
			q = NVRQuirks()
		}
		a.Quirks = &q
	} else {
		q := *a.Quirks
		a.Quirks = &q
	}
	a.Script = append([]ScriptEvent(nil), a.Script...)
	return cfg
}

// Validate fills the defaults and reports every problem of the config at once (New
// does the same; media files are checked only by New).
func (cfg Config) Validate() error { return cfg.withDefaults().validate() }

// validate checks a defaulted config.
func (cfg Config) validate() error {
	var probs []string
	if cfg.Mode != ModeCamera && cfg.Mode != ModeNVR {
		probs = append(probs, fmt.Sprintf("mode %q: want camera or nvr", cfg.Mode))
	}
	if cfg.Alert.Style != StyleCamera && cfg.Alert.Style != StyleNVR {
		probs = append(probs, fmt.Sprintf("alert style %q: want camera or nvr", cfg.Alert.Style))
	}
	if cfg.NonceTTL < 0 {
		probs = append(probs, "nonce TTL is negative")
	}
	if cfg.Alert.Repeat < 0 {
		probs = append(probs, "alert repeat is negative")
	}
	if strings.ContainsAny(cfg.User, ":@/") || strings.ContainsAny(cfg.Password, "@/") {
		probs = append(probs, "user and password must not contain ':', '@' or '/' (they go into URLs)")
	}
	for i, ch := range cfg.Channels {
		for _, f := range []string{ch.Main, ch.Sub} {
			if codecOf(f) == "" {
				probs = append(probs, fmt.Sprintf("channel %d: %q: want a .h264, .h265 or .hevc file", i+1, f))
			}
		}
	}
	for i, ev := range cfg.Alert.Script {
		if ev.Channel < 0 || ev.Channel > len(cfg.Channels) {
			probs = append(probs, fmt.Sprintf("script event %d: channel %d out of range", i, ev.Channel))
		}
		if ev.Type == "" {
			probs = append(probs, fmt.Sprintf("script event %d: empty type", i))
		}
	}
	probs = append(probs, cfg.Alert.Quirks.validate()...)
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(probs, "; "))
	}
	return nil
}
