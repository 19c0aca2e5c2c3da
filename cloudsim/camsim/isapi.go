package camsim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// xmlDoc builds the small ISAPI XML documents line by line, escaping values.
type xmlDoc struct{ b strings.Builder }

func (d *xmlDoc) raw(s string) *xmlDoc { d.b.WriteString(s); d.b.WriteString("\n"); return d }

func (d *xmlDoc) el(name string, v any) *xmlDoc {
	d.b.WriteString("<" + name + ">")
	_ = xml.EscapeText(&d.b, []byte(fmt.Sprint(v)))
	d.b.WriteString("</" + name + ">\n")
	return d
}

// ns returns the namespace attributes of ISAPI documents.
func (s *Sim) ns() string {
	if s.cfg.LegacyXML {
		return `version="1.0" xmlns="http://www.hikvision.com/ver10/XMLSchema"`
	}
	return `version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"`
}

func (s *Sim) open(root string) *xmlDoc {
	d := &xmlDoc{}
	d.raw(`<?xml version="1.0" encoding="UTF-8"?>`)
	d.raw("<" + root + " " + s.ns() + ">")
	return d
}

func (s *Sim) isHikvision() bool {
	return strings.EqualFold(s.cfg.Manufacturer, ManufacturerHikvision)
}

// manufacturerName is what a non-Hikvision device reports in <manufacturer>.
func (s *Sim) manufacturerName() string {
	if strings.EqualFold(s.cfg.Manufacturer, ManufacturerOther) {
		return "Dahua"
	}
	return s.cfg.Manufacturer
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", `application/xml; charset="UTF-8"`)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// ISAPI statusCode values (docs isapi.md).
const (
	statusOK               = 1
	statusDeviceError      = 3
	statusInvalidOperation = 4
	statusInvalidXML       = 6
)

// responseStatus writes an ISAPI <ResponseStatus> error (or success) document.
func (s *Sim) responseStatus(w http.ResponseWriter, r *http.Request, httpStatus, code int, sub string) {
	str := map[int]string{statusOK: "OK", statusDeviceError: "Device Error",
		statusInvalidOperation: "Invalid Operation", statusInvalidXML: "Invalid XML Content"}[code]
	d := s.open("ResponseStatus")
	d.el("requestURL", r.URL.RequestURI()).el("statusCode", code).el("statusString", str).el("subStatusCode", sub)
	d.raw("</ResponseStatus>")
	writeXML(w, httpStatus, d.b.String())
}

// routes builds the HTTP handler: the unauthenticated /sim/ control API, and ISAPI
// behind auth. ISAPI paths match case-insensitively, as on real devices.
func (s *Sim) routes() http.Handler {
	auth := newDigestAuth(s.cfg)
	control := s.controlRoutes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sim/") {
			control.ServeHTTP(w, r)
			return
		}
		if s.isHikvision() {
			w.Header().Set("Server", "App-webs/")
		} else {
			w.Header().Set("Server", "Webs")
		}
		switch auth.check(r) {
		case authOK:
		case authStale:
			auth.challenge(w, true)
			return
		default:
			auth.challenge(w, false)
			return
		}
		s.serveISAPI(w, r)
	})
}

func (s *Sim) serveISAPI(w http.ResponseWriter, r *http.Request) {
	p := strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))
	if r.Method != http.MethodGet {
		s.responseStatus(w, r, http.StatusMethodNotAllowed, statusInvalidOperation, "methodNotAllowed")
		return
	}
	switch {
	case p == "/isapi/system/deviceinfo":
		s.deviceInfo(w)
	case p == "/isapi/streaming/channels":
		s.streamingChannels(w, r, 0)
	case strings.HasPrefix(p, "/isapi/streaming/channels/"):
		id, err := strconv.Atoi(strings.TrimPrefix(p, "/isapi/streaming/channels/"))
		if err != nil || s.pathByID(id) == nil {
			s.responseStatus(w, r, http.StatusNotFound, statusInvalidOperation, "invalidID")
			return
		}
		s.streamingChannels(w, r, id)
	case p == "/isapi/contentmgmt/inputproxy/channels":
		s.inputProxy(w, r)
	case p == "/isapi/security/adminaccesses":
		s.adminAccesses(w)
	case p == "/isapi/event/notification/alertstream":
		if s.alerts.quirks().OldPathOnly {
			s.responseStatus(w, r, http.StatusNotFound, statusInvalidOperation, "notSupport")
			return
		}
		s.alerts.serve(w, r)
	case p == "/event/notification/alertstream":
		s.alerts.serve(w, r)
	default:
		s.responseStatus(w, r, http.StatusNotFound, statusInvalidOperation, "notSupport")
	}
}

func (s *Sim) pathByID(id int) *streamPath {
	return s.pathByName(fmt.Sprintf("/Streaming/Channels/%d", id))
}

// macAddress is derived from the serial so it is stable per device.
func (s *Sim) macAddress() string {
	sum := realmFor(s.cfg.Serial)
	prefix := "bc:ba:c2" // a Hikvision OUI
	if !s.isHikvision() {
		prefix = "3c:ef:8c" // a Dahua OUI
	}
	return fmt.Sprintf("%s:%s:%s:%s", prefix, sum[0:2], sum[2:4], sum[4:6])
}

func (s *Sim) deviceInfo(w http.ResponseWriter) {
	d := s.open("DeviceInfo")
	name := "IP CAMERA"
	typ := "IPCamera"
	if s.cfg.Mode == ModeNVR {
		name, typ = "Network Video Recorder", "NVR"
	}
	id := realmFor(s.cfg.Serial + "id")
	d.el("deviceName", name).
		el("deviceID", fmt.Sprintf("%s-%s-%s-%s-%s", id[0:8], id[8:12], id[12:16], id[16:20], id[20:32])).
		el("deviceDescription", typ).el("deviceLocation", "hangzhou")
	if s.isHikvision() {
		d.el("systemContact", "Hikvision.China")
	} else {
		// Hikvision firmware never sends <manufacturer>; the box can refuse on it.
		d.el("systemContact", s.manufacturerName()).el("manufacturer", s.manufacturerName())
	}
	d.el("model", s.cfg.Model).el("serialNumber", s.cfg.Serial).el("macAddress", s.macAddress()).
		el("firmwareVersion", "V5.7.3").el("firmwareReleasedDate", "build 220112").
		el("encoderVersion", "V7.3").el("encoderReleasedDate", "build 211227").
		el("bootVersion", "V1.3.4").el("bootReleasedDate", "100316").
		el("hardwareVersion", "0x0").el("deviceType", typ).el("telecontrolID", 88).
		el("supportBeep", true).el("supportVideoLoss", s.cfg.Mode == ModeNVR)
	if s.cfg.Mode == ModeNVR {
		d.el("videoInputPortNums", 0).el("digitalChannelNum", len(s.cfg.Channels)).
			el("audioInputPortNums", 0).el("alarmInputPortNums", 4).el("alarmOutputPortNums", 1)
	}
	d.el("firmwareVersionInfo", "B-R-G5-0")
	d.raw("</DeviceInfo>")
	writeXML(w, http.StatusOK, d.b.String())
}

// streamingChannels lists all streams, or only stream id when id != 0.
func (s *Sim) streamingChannels(w http.ResponseWriter, r *http.Request, id int) {
	var d *xmlDoc
	if id == 0 {
		d = s.open("StreamingChannelList")
	} else {
		d = &xmlDoc{}
		d.raw(`<?xml version="1.0" encoding="UTF-8"?>`)
	}
	for _, p := range s.paths {
		sid := p.channel*100 + p.stream
		if id != 0 && sid != id {
			continue
		}
		m := p.media
		d.raw("<StreamingChannel " + s.ns() + ">")
		d.el("id", sid).el("channelName", fmt.Sprintf("Camera %02d", p.channel)).el("enabled", true)
		d.raw("<Transport>").el("maxPacketSize", 1000).
			raw("<ControlProtocolList><ControlProtocol><streamingTransport>RTSP</streamingTransport></ControlProtocol></ControlProtocolList>").
			raw("<Unicast><enabled>true</enabled><rtpTransportType>RTP/TCP</rtpTransportType></Unicast>").
			raw("</Transport>")
		d.raw("<Video>").el("enabled", true).el("videoInputChannelID", p.channel).
			el("videoCodecType", m.codec).el("videoScanType", "progressive").
			el("videoResolutionWidth", m.width).el("videoResolutionHeight", m.height).
			el("videoQualityControlType", "VBR").el("constantBitRate", 4096).el("fixedQuality", 60).
			el("vbrUpperCap", 4096).el("maxFrameRate", frameRate*100).el("GovLength", gopLength(m))
		if m.codec == codecH264 {
			d.el("H264Profile", "Main")
		} else {
			d.el("H265Profile", "Main")
		}
		d.raw("<SmartCodec><enabled>false</enabled></SmartCodec>").raw("</Video>")
		d.raw("</StreamingChannel>")
	}
	if id == 0 {
		d.raw("</StreamingChannelList>")
	}
	writeXML(w, http.StatusOK, d.b.String())
}

// gopLength is the distance between the first two keyframes (the whole file if one).
func gopLength(m *media) int {
	for i := 1; i < len(m.keyframes); i++ {
		if m.keyframes[i] {
			return i
		}
	}
	return len(m.keyframes)
}

func (s *Sim) inputProxy(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Mode != ModeNVR {
		s.responseStatus(w, r, http.StatusForbidden, statusInvalidOperation, "notSupport")
		return
	}
	d := s.open("InputProxyChannelList")
	for i := range s.cfg.Channels {
		ch := i + 1
		d.raw("<InputProxyChannel " + s.ns() + ">")
		d.el("id", ch).el("name", fmt.Sprintf("Camera %02d", ch))
		d.raw("<sourceInputPortDescriptor>").el("proxyProtocol", "HIKVISION").
			el("addressingFormatType", "ipaddress").el("ipAddress", fmt.Sprintf("192.168.254.%d", ch+1)).
			el("managePortNo", 8000).el("srcInputPort", 1).el("userName", "admin").el("streamType", "auto").
			el("model", "DS-2CD2386G2-IU").
			el("serialNumber", fmt.Sprintf("DS-2CD2386G2-IU20240101AAWRJ%08d", ch)).
			el("firmwareVersion", "V5.7.3 build 220112").
			raw("</sourceInputPortDescriptor>")
		d.el("enableAnr", false).el("enableTiming", true)
		d.raw("</InputProxyChannel>")
	}
	d.raw("</InputProxyChannelList>")
	writeXML(w, http.StatusOK, d.b.String())
}

// adminAccesses tells clients the RTSP port, as real devices do.
func (s *Sim) adminAccesses(w http.ResponseWriter) {
	port := func(addr string) string {
		i := strings.LastIndexByte(addr, ':')
		return addr[i+1:]
	}
	d := s.open("AdminAccessProtocolList")
	for i, p := range []struct{ proto, port string }{
		{"HTTP", port(s.httpAddr)}, {"HTTPS", "443"}, {"DEV_MANAGE", "8000"}, {"RTSP", port(s.rtspAddr)},
	} {
		d.raw("<AdminAccessProtocol "+s.ns()+">").el("id", i+1).el("enabled", true).
			el("protocol", p.proto).el("portNo", p.port).raw("</AdminAccessProtocol>")
	}
	d.raw("</AdminAccessProtocolList>")
	writeXML(w, http.StatusOK, d.b.String())
}
