package isapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/proconnect-oss/boxfw/box/media"
)

// ISAPI paths used by the box.
const (
	PathDeviceInfo         = "/ISAPI/System/deviceInfo"
	PathStreamingChannels  = "/ISAPI/Streaming/channels"
	PathInputProxyChannels = "/ISAPI/ContentMgmt/InputProxy/channels"
	PathAdminAccesses      = "/ISAPI/Security/adminAccesses"
	PathAlertStream        = "/ISAPI/Event/notification/alertStream"
	PathAlertStreamLegacy  = "/Event/notification/alertStream"
	DefaultRTSPPort        = 554
)

// DeviceInfo is /ISAPI/System/deviceInfo. Fields missing on a device are "".
type DeviceInfo struct {
	DeviceName           string
	DeviceID             string
	DeviceDescription    string
	DeviceLocation       string
	Model                string
	SerialNumber         string
	MACAddress           string
	FirmwareVersion      string
	FirmwareReleasedDate string
	EncoderVersion       string
	HardwareVersion      string
	DeviceType           string // IPCamera, IPDome, NVR, DVR...
	Manufacturer         string // rarely sent by Hikvision; OEM and foreign devices do
	// Namespace is the root element's XML namespace, one hint for IsHikvision.
	Namespace string
	// Fields holds every leaf element by local name (first occurrence), including
	// the NVR channel counts whose names vary between firmware.
	Fields map[string]string
}

// IsRecorder reports whether the device is an NVR or DVR (it has IP or analog
// channels behind it rather than one sensor).
func (d DeviceInfo) IsRecorder() bool {
	t := strings.ToUpper(d.DeviceType)
	return strings.Contains(t, "NVR") || strings.Contains(t, "DVR") || strings.Contains(t, "HCVR")
}

// DeviceInfo fetches and parses /ISAPI/System/deviceInfo.
func (c *Client) DeviceInfo(ctx context.Context) (DeviceInfo, error) {
	body, err := c.Get(ctx, PathDeviceInfo)
	if err != nil {
		return DeviceInfo{}, err
	}
	return ParseDeviceInfo(body)
}

// ParseDeviceInfo parses a DeviceInfo document, ignoring namespaces.
func ParseDeviceInfo(body []byte) (DeviceInfo, error) {
	root, err := parseXML(body)
	if err != nil {
		return DeviceInfo{}, fmt.Errorf("%w: deviceInfo: %w", ErrBadResponse, err)
	}
	if !strings.EqualFold(root.Name, "DeviceInfo") {
		return DeviceInfo{}, fmt.Errorf("%w: deviceInfo: root element <%s>", ErrBadResponse, root.Name)
	}
	return DeviceInfo{
		DeviceName:           root.text("deviceName"),
		DeviceID:             root.text("deviceID"),
		DeviceDescription:    root.text("deviceDescription"),
		DeviceLocation:       root.text("deviceLocation"),
		Model:                root.text("model"),
		SerialNumber:         root.text("serialNumber"),
		MACAddress:           root.text("macAddress"),
		FirmwareVersion:      root.text("firmwareVersion"),
		FirmwareReleasedDate: root.text("firmwareReleasedDate"),
		EncoderVersion:       root.text("encoderVersion"),
		HardwareVersion:      root.text("hardwareVersion"),
		DeviceType:           root.text("deviceType"),
		Manufacturer:         root.text("manufacturer"),
		Namespace:            root.Space,
		Fields:               root.leaves(),
	}, nil
}

// hikvisionBrands are manufacturer strings of Hikvision and its own brands.
var hikvisionBrands = []string{"hikvision", "hik", "hilook", "hiwatch", "ezviz"}

// hikvisionModelPrefixes are model (and serial number) prefixes of Hikvision
// devices: DS- (cameras, NVRs, DVRs), iDS- (DeepinView/AcuSense), HWI-/HWN-/
// HWD-/HWT- (HiWatch). HiLook models are matched by name.
var hikvisionModelPrefixes = []string{"DS-", "IDS-", "HWI-", "HWN-", "HWD-", "HWT-", "HILOOK"}

// IsHikvision decides whether the box should treat a device as Hikvision, with
// the reason for logs. The rule, in order:
//  1. a <manufacturer> naming anyone but Hikvision or its brands (HiLook,
//     HiWatch, EZVIZ) means no: an OEM clone or foreign device answering ISAPI
//     (Hikvision firmware sends no <manufacturer>, so its presence is a telltale);
//  2. a model or serial number starting with a Hikvision prefix (DS-, iDS-,
//     HWI-, HWN-, HWD-, HWT-, HiLook) means yes;
//  3. a Hikvision ISAPI namespace (hikvision.com, isapi.org, std-cgi.com) means
//     yes;
//  4. a <manufacturer> naming Hikvision or its brands means yes;
//  5. otherwise no.
func IsHikvision(d DeviceInfo) (bool, string) {
	if m := strings.TrimSpace(d.Manufacturer); m != "" {
		lm := strings.ToLower(m)
		known := false
		for _, b := range hikvisionBrands {
			if strings.HasPrefix(lm, b) || strings.Contains(lm, "hikvision") {
				known = true
			}
		}
		if !known {
			return false, fmt.Sprintf("manufacturer %q is not Hikvision", m)
		}
	}
	for _, s := range []struct{ field, v string }{{"model", d.Model}, {"serial number", d.SerialNumber}} {
		up := strings.ToUpper(strings.TrimSpace(s.v))
		for _, p := range hikvisionModelPrefixes {
			if strings.HasPrefix(up, p) {
				return true, fmt.Sprintf("%s %q has the Hikvision prefix %s", s.field, s.v, p)
			}
		}
	}
	ns := strings.ToLower(d.Namespace)
	for _, h := range []string{"hikvision.com", "isapi.org", "std-cgi.com"} {
		if strings.Contains(ns, h) {
			return true, fmt.Sprintf("ISAPI namespace %q", d.Namespace)
		}
	}
	if d.Manufacturer != "" {
		return true, fmt.Sprintf("manufacturer %q", d.Manufacturer)
	}
	return false, fmt.Sprintf("model %q has no Hikvision prefix and namespace %q is not ISAPI", d.Model, d.Namespace)
}

// StreamingChannel is one entry of /ISAPI/Streaming/channels.
type StreamingChannel struct {
	ID      int // channel*100 + stream
	Channel int // 1-based video input
	Stream  int // 1 main, 2 sub, 3 third
	Name    string
	Enabled bool
	// CodecName is videoCodecType as sent ("H.264", "H.265"); Codec its parse.
	CodecName    string
	Codec        media.Codec
	Width        int
	Height       int
	MaxFrameRate float64 // frames per second (the device sends 1/100 fps)
	GOVLength    int     // frames between keyframes, 0 if not sent
}

// StreamingChannels lists the device's streams.
func (c *Client) StreamingChannels(ctx context.Context) ([]StreamingChannel, error) {
	body, err := c.Get(ctx, PathStreamingChannels)
	if err != nil {
		return nil, err
	}
	return ParseStreamingChannels(body)
}

// ParseStreamingChannels parses a StreamingChannelList (or a single StreamingChannel).
func ParseStreamingChannels(body []byte) ([]StreamingChannel, error) {
	root, err := parseXML(body)
	if err != nil {
		return nil, fmt.Errorf("%w: streaming channels: %w", ErrBadResponse, err)
	}
	var list []*node
	switch {
	case strings.EqualFold(root.Name, "StreamingChannelList"):
		list = root.children("StreamingChannel")
	case strings.EqualFold(root.Name, "StreamingChannel"):
		list = []*node{root}
	default:
		return nil, fmt.Errorf("%w: streaming channels: root element <%s>", ErrBadResponse, root.Name)
	}
	out := make([]StreamingChannel, 0, len(list))
	for _, n := range list {
		sc := StreamingChannel{Name: n.text("channelName"), CodecName: n.text("Video", "videoCodecType")}
		sc.ID, _ = n.int("id")
		sc.Channel, sc.Stream = sc.ID/100, sc.ID%100
		if in, ok := n.int("Video", "videoInputChannelID"); ok && in > 0 && sc.Channel == 0 {
			sc.Channel = in
		}
		sc.Enabled = !strings.EqualFold(n.text("enabled"), "false")
		sc.Codec, _ = media.ParseCodec(sc.CodecName)
		sc.Width, _ = n.int("Video", "videoResolutionWidth")
		sc.Height, _ = n.int("Video", "videoResolutionHeight")
		if fr, ok := n.float("Video", "maxFrameRate"); ok {
			sc.MaxFrameRate = fr / 100
		}
		sc.GOVLength, _ = n.int("Video", "GovLength")
		out = append(out, sc)
	}
	return out, nil
}

// InputProxyChannel is one IP channel of an NVR.
type InputProxyChannel struct {
	ID        int // the NVR channel number (RTSP path N01/N02)
	Name      string
	IPAddress string
	Port      int    // managePortNo of the source device
	Protocol  string // proxyProtocol, e.g. HIKVISION, ONVIF
	SrcInput  int    // the source device's input channel
}

// InputProxyChannels lists an NVR's IP channels. Cameras answer 403 (or 404 on
// some firmware); both come back as an error matching ErrNotNVR.
func (c *Client) InputProxyChannels(ctx context.Context) ([]InputProxyChannel, error) {
	body, err := c.Get(ctx, PathInputProxyChannels)
	if err != nil {
		if errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", ErrNotNVR, err)
		}
		return nil, err
	}
	return ParseInputProxyChannels(body)
}

// ParseInputProxyChannels parses an InputProxyChannelList.
func ParseInputProxyChannels(body []byte) ([]InputProxyChannel, error) {
	root, err := parseXML(body)
	if err != nil {
		return nil, fmt.Errorf("%w: input proxy channels: %w", ErrBadResponse, err)
	}
	if !strings.EqualFold(root.Name, "InputProxyChannelList") {
		return nil, fmt.Errorf("%w: input proxy channels: root element <%s>", ErrBadResponse, root.Name)
	}
	var out []InputProxyChannel
	for _, n := range root.children("InputProxyChannel") {
		src := n.child("sourceInputPortDescriptor")
		ch := InputProxyChannel{Name: n.text("name"), IPAddress: src.text("ipAddress"), Protocol: src.text("proxyProtocol")}
		ch.ID, _ = n.int("id")
		ch.Port, _ = src.int("managePortNo")
		ch.SrcInput, _ = src.int("srcInputPort")
		out = append(out, ch)
	}
	return out, nil
}

// RTSPPort reads the RTSP port from /ISAPI/Security/adminAccesses; devices that
// do not answer there use DefaultRTSPPort, which is returned with the error.
func (c *Client) RTSPPort(ctx context.Context) (int, error) {
	body, err := c.Get(ctx, PathAdminAccesses)
	if err != nil {
		return DefaultRTSPPort, err
	}
	root, err := parseXML(body)
	if err != nil {
		return DefaultRTSPPort, fmt.Errorf("%w: adminAccesses: %w", ErrBadResponse, err)
	}
	for _, p := range root.children("AdminAccessProtocol") {
		if strings.EqualFold(p.text("protocol"), "RTSP") {
			if port, err := strconv.Atoi(p.text("portNo")); err == nil && port > 0 {
				return port, nil
			}
		}
	}
	return DefaultRTSPPort, nil
}

// AutoIPChannelOffset picks ParseOptions.IPChannelOffset for a device: 32 for
// an NVR/DVR whose IP channels are all numbered 32 or below (then an event for
// channel 33+ can only mean "IP channel N" in the 32+N convention), 0 otherwise
// (cameras, and recorders with more than 32 channels, where 33+ are real).
func AutoIPChannelOffset(d DeviceInfo, chans []InputProxyChannel) int {
	if !d.IsRecorder() || len(chans) == 0 {
		return 0
	}
	for _, c := range chans {
		if c.ID > 32 {
			return 0
		}
	}
	return 32
}
