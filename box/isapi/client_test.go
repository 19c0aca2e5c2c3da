package isapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proconnect-oss/boxfw/box/media"
)

const cameraDeviceInfo = `<?xml version="1.0" encoding="UTF-8"?>
<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<deviceName>Front Gate</deviceName>
<deviceID>48443836-3437-3331-3434-44a642e1e1e1</deviceID>
<model>DS-2CD2386G2-IU</model>
<serialNumber>DS-2CD2386G2-IU20230101AAWRJ00000001</serialNumber>
<macAddress>44:a6:42:e1:e1:e1</macAddress>
<firmwareVersion>V5.7.3</firmwareVersion>
<firmwareReleasedDate>build 220112</firmwareReleasedDate>
<encoderVersion>V7.3</encoderVersion>
<deviceType>IPCamera</deviceType>
<telecontrolID>88</telecontrolID>
</DeviceInfo>`

const nvrDeviceInfo = `<?xml version="1.0" encoding="UTF-8"?>
<DeviceInfo version="1.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<deviceName>Network Video Recorder</deviceName>
<deviceID>abc</deviceID>
<model>DS-7608NI-K2/8P</model>
<serialNumber>DS-7608NI-K2/8P0820200101CCRRD00000001WCVU</serialNumber>
<macAddress>c0:56:e3:00:00:01</macAddress>
<firmwareVersion>V4.30.085</firmwareVersion>
<firmwareReleasedDate>build 200916</firmwareReleasedDate>
<deviceType>NVR</deviceType>
<analogChannelNum>0</analogChannelNum>
<digitalChannelNum>8</digitalChannelNum>
</DeviceInfo>`

const streamingChannels = `<StreamingChannelList version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<StreamingChannel><id>101</id><channelName>Gate</channelName><enabled>true</enabled>
<Video><enabled>true</enabled><videoInputChannelID>1</videoInputChannelID><videoCodecType>H.265</videoCodecType>
<videoResolutionWidth>3840</videoResolutionWidth><videoResolutionHeight>2160</videoResolutionHeight>
<maxFrameRate>2500</maxFrameRate><GovLength>50</GovLength></Video></StreamingChannel>
<StreamingChannel><id>102</id><channelName>Gate</channelName><enabled>true</enabled>
<Video><videoCodecType>H.264</videoCodecType><videoResolutionWidth>640</videoResolutionWidth>
<videoResolutionHeight>360</videoResolutionHeight><maxFrameRate>1250</maxFrameRate></Video></StreamingChannel>
</StreamingChannelList>`

const inputProxy = `<InputProxyChannelList version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<InputProxyChannel><id>1</id><name>Lobby</name><sourceInputPortDescriptor><proxyProtocol>HIKVISION</proxyProtocol>
<addressingFormatType>ipaddress</addressingFormatType><ipAddress>192.168.254.2</ipAddress><managePortNo>8000</managePortNo>
<srcInputPort>1</srcInputPort><userName>admin</userName><streamType>auto</streamType></sourceInputPortDescriptor></InputProxyChannel>
<InputProxyChannel><id>2</id><name>Yard</name><sourceInputPortDescriptor><proxyProtocol>ONVIF</proxyProtocol>
<ipAddress>192.168.254.3</ipAddress><managePortNo>80</managePortNo><srcInputPort>1</srcInputPort></sourceInputPortDescriptor></InputProxyChannel>
</InputProxyChannelList>`

func newTestClient(t *testing.T, d *fakeDevice, pass string) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{URL: d.srv.URL, Username: "admin", Password: pass,
		HTTPClient: NewHTTPClient(HTTPOptions{}), RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	return c
}

func TestDigestAuth(t *testing.T) {
	for _, tc := range []struct {
		name  string
		qop   string
		basic bool
	}{
		{"qop auth", "auth", false},
		{"legacy no qop", "", false},
		{"basic only", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDevice(t)
			d.qop, d.basic = tc.qop, tc.basic
			d.xml(PathDeviceInfo, cameraDeviceInfo)
			c := newTestClient(t, d, "Admin12345")
			ctx := context.Background()
			for range 3 {
				_, err := c.DeviceInfo(ctx)
				require.NoError(t, err)
			}
			reqs, unauth := d.counts()
			assert.Equal(t, 1, unauth, "one challenge, then the nonce is reused")
			assert.Equal(t, 4, reqs)
			if tc.qop == "auth" {
				assert.Equal(t, []uint32{1, 2, 3}, d.ncs, "nc counts up on the reused nonce")
			}
		})
	}
}

func TestDigestStaleNonce(t *testing.T) {
	d := newFakeDevice(t)
	d.xml(PathDeviceInfo, cameraDeviceInfo)
	c := newTestClient(t, d, "Admin12345")
	ctx := context.Background()
	_, err := c.DeviceInfo(ctx)
	require.NoError(t, err)
	d.expireNonces()
	_, err = c.DeviceInfo(ctx)
	require.NoError(t, err, "re-authenticates once on a stale nonce")
	reqs, unauth := d.counts()
	assert.Equal(t, 2, unauth)
	assert.Equal(t, 4, reqs)
}

func TestDigestWrongPassword(t *testing.T) {
	d := newFakeDevice(t)
	d.xml(PathDeviceInfo, cameraDeviceInfo)
	c := newTestClient(t, d, "wrong")
	_, err := c.DeviceInfo(context.Background())
	require.ErrorIs(t, err, ErrUnauthorized)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 401, se.StatusCode)
	assert.Contains(t, err.Error(), "4 login attempts left")
	reqs, _ := d.counts()
	assert.Equal(t, 2, reqs, "a wrong password costs the device two attempts, not more")

	// With a cached nonce, a wrong password still stops after one re-try.
	_, err = c.DeviceInfo(context.Background())
	require.ErrorIs(t, err, ErrUnauthorized)
	reqs, _ = d.counts()
	assert.Equal(t, 4, reqs)
}

func TestParseChallenges(t *testing.T) {
	h := http.Header{}
	h.Add("WWW-Authenticate", `Digest qop="auth,auth-int", realm="a1b2c3, with comma", nonce="6a6b:1700000000", stale=FALSE, algorithm=MD5`)
	h.Add("WWW-Authenticate", `Basic realm="x"`)
	cs := parseChallenges(h)
	require.Len(t, cs, 2)
	assert.Equal(t, "digest", cs[0].Scheme)
	assert.Equal(t, "a1b2c3, with comma", cs[0].Params["realm"])
	assert.Equal(t, "6a6b:1700000000", cs[0].Params["nonce"])
	assert.Equal(t, "MD5", cs[0].Params["algorithm"])
	st, err := pickChallenge(cs)
	require.NoError(t, err)
	assert.Equal(t, "auth", st.qop)
	assert.False(t, st.basic)

	cs = parseChallengeList(`Basic realm="cam", Digest realm="r", nonce="n", algorithm=SHA-256, Digest realm="r", nonce="m"`)
	require.Len(t, cs, 3)
	st, err = pickChallenge(cs)
	require.NoError(t, err)
	assert.Equal(t, "m", st.nonce, "MD5 preferred")

	_, err = pickChallenge(parseChallengeList(`Bearer realm="x"`))
	assert.ErrorIs(t, err, ErrUnsupportedAuth)
}

func TestDeviceDiscovery(t *testing.T) {
	d := newFakeDevice(t)
	d.xml(PathDeviceInfo, cameraDeviceInfo)
	d.xml(PathStreamingChannels, streamingChannels)
	d.handle(PathInputProxyChannels, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<ResponseStatus><requestURL>/ISAPI/ContentMgmt/InputProxy/channels</requestURL><statusCode>4</statusCode><statusString>Invalid Operation</statusString><subStatusCode>notSupport</subStatusCode></ResponseStatus>`))
	})
	c := newTestClient(t, d, "Admin12345")
	ctx := context.Background()

	di, err := c.DeviceInfo(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Front Gate", di.DeviceName)
	assert.Equal(t, "DS-2CD2386G2-IU", di.Model)
	assert.Equal(t, "DS-2CD2386G2-IU20230101AAWRJ00000001", di.SerialNumber)
	assert.Equal(t, "44:a6:42:e1:e1:e1", di.MACAddress)
	assert.Equal(t, "V5.7.3", di.FirmwareVersion)
	assert.Equal(t, "build 220112", di.FirmwareReleasedDate)
	assert.Equal(t, "IPCamera", di.DeviceType)
	assert.Equal(t, "88", di.Fields["telecontrolID"])
	assert.False(t, di.IsRecorder())

	sc, err := c.StreamingChannels(ctx)
	require.NoError(t, err)
	require.Len(t, sc, 2)
	assert.Equal(t, StreamingChannel{ID: 101, Channel: 1, Stream: 1, Name: "Gate", Enabled: true, CodecName: "H.265",
		Codec: media.CodecH265, Width: 3840, Height: 2160, MaxFrameRate: 25, GOVLength: 50}, sc[0])
	assert.Equal(t, 102, sc[1].ID)
	assert.Equal(t, 2, sc[1].Stream)
	assert.Equal(t, media.CodecH264, sc[1].Codec)
	assert.InDelta(t, 12.5, sc[1].MaxFrameRate, 1e-9)

	_, err = c.InputProxyChannels(ctx)
	require.ErrorIs(t, err, ErrNotNVR)
	require.ErrorIs(t, err, ErrForbidden)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 4, se.StatusCode)
	assert.Equal(t, "notSupport", se.SubStatusCode)

	port, err := c.RTSPPort(ctx)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, DefaultRTSPPort, port)
}

func TestNVRDiscovery(t *testing.T) {
	d := newFakeDevice(t)
	d.xml(PathDeviceInfo, nvrDeviceInfo)
	d.xml(PathInputProxyChannels, inputProxy)
	d.xml(PathAdminAccesses, `<AdminAccessProtocolList><AdminAccessProtocol><id>1</id><enabled>true</enabled><protocol>HTTP</protocol><portNo>80</portNo></AdminAccessProtocol><AdminAccessProtocol><id>4</id><enabled>true</enabled><protocol>RTSP</protocol><portNo>10554</portNo></AdminAccessProtocol></AdminAccessProtocolList>`)
	c := newTestClient(t, d, "Admin12345")
	ctx := context.Background()
	di, err := c.DeviceInfo(ctx)
	require.NoError(t, err)
	assert.True(t, di.IsRecorder())
	assert.Equal(t, "8", di.Fields["digitalChannelNum"])
	chans, err := c.InputProxyChannels(ctx)
	require.NoError(t, err)
	assert.Equal(t, []InputProxyChannel{
		{ID: 1, Name: "Lobby", IPAddress: "192.168.254.2", Port: 8000, Protocol: "HIKVISION", SrcInput: 1},
		{ID: 2, Name: "Yard", IPAddress: "192.168.254.3", Port: 80, Protocol: "ONVIF", SrcInput: 1},
	}, chans)
	port, err := c.RTSPPort(ctx)
	require.NoError(t, err)
	assert.Equal(t, 10554, port)
}

func TestResponseStatusErrors(t *testing.T) {
	d := newFakeDevice(t)
	d.handle("/ISAPI/bad", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<ResponseStatus xmlns="http://www.isapi.org/ver20/XMLSchema"><requestURL>/ISAPI/bad</requestURL><statusCode>6</statusCode><statusString>Invalid XML Content</statusString><subStatusCode>badParameters</subStatusCode><errorCode>1610612737</errorCode><errorMsg>channel</errorMsg></ResponseStatus>`))
	})
	d.xml("/ISAPI/ok-but-not", `<ResponseStatus><statusCode>3</statusCode><statusString>Device Error</statusString><subStatusCode>deviceError</subStatusCode></ResponseStatus>`)
	d.xml("/ISAPI/garbage", `not xml at all`)
	d.xml(PathDeviceInfo, `<html>login</html>`)
	c := newTestClient(t, d, "Admin12345")
	ctx := context.Background()

	_, err := c.Get(ctx, "/ISAPI/bad")
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StatusError{HTTPStatus: 400, URL: "/ISAPI/bad", StatusCode: StatusInvalidXMLContent, StatusString: "Invalid XML Content",
		SubStatusCode: "badParameters", ErrorCode: 1610612737, ErrorMsg: "channel"}, *se)

	_, err = c.Get(ctx, "/ISAPI/ok-but-not")
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StatusDeviceError, se.StatusCode)
	assert.Equal(t, 200, se.HTTPStatus)

	_, err = c.Get(ctx, "/ISAPI/missing")
	assert.ErrorIs(t, err, ErrNotFound)

	_, err = c.DeviceInfo(ctx)
	assert.ErrorIs(t, err, ErrBadResponse)
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(ClientOptions{URL: addr, Username: "admin", Password: "x", RequestTimeout: 2 * time.Second})
	require.NoError(t, err)
	_, err = c.DeviceInfo(context.Background())
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrUnauthorized))
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr)
}

func TestNewClientValidation(t *testing.T) {
	for _, tc := range []struct {
		url  string
		ok   bool
		host string
	}{
		{"http://127.0.0.1:8080", true, "127.0.0.1:8080"},
		{"127.0.0.1:8080", true, "127.0.0.1:8080"},
		{"http://u:p@127.0.0.1/", true, "127.0.0.1"},
		{"", false, ""},
		{"ftp://x", false, ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			c, err := NewClient(ClientOptions{URL: tc.url})
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.host, c.Host())
		})
	}
	c, err := NewClient(ClientOptions{URL: "http://u:p@127.0.0.1/"})
	require.NoError(t, err)
	assert.Equal(t, "u", c.user)
	assert.Equal(t, "p", c.pass)
}

func TestIsHikvision(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    DeviceInfo
		want bool
	}{
		{"camera model", DeviceInfo{Model: "DS-2CD2386G2-IU"}, true},
		{"deepinview", DeviceInfo{Model: "iDS-2CD7146G0-IZS"}, true},
		{"hiwatch", DeviceInfo{Model: "HWI-B121H"}, true},
		{"serial only", DeviceInfo{SerialNumber: "DS-7608NI-K2/8P0820200101CCRRD00000001WCVU"}, true},
		{"namespace only", DeviceInfo{Model: "Custom", Namespace: "http://www.hikvision.com/ver20/XMLSchema"}, true},
		{"isapi.org namespace", DeviceInfo{Model: "X", Namespace: "http://www.isapi.org/ver20/XMLSchema"}, true},
		{"hikvision manufacturer", DeviceInfo{Model: "X", Manufacturer: "Hikvision"}, true},
		{"hilook manufacturer", DeviceInfo{Model: "IPC-B140H", Manufacturer: "HiLook"}, true},
		{"foreign manufacturer wins over model", DeviceInfo{Model: "DS-2CD2386G2-IU", Manufacturer: "Dahua", Namespace: "http://www.hikvision.com/ver20/XMLSchema"}, false},
		{"dahua model no namespace", DeviceInfo{Model: "IPC-HFW2431S"}, false},
		{"empty", DeviceInfo{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := IsHikvision(tc.d)
			assert.Equal(t, tc.want, got, reason)
			assert.NotEmpty(t, reason)
		})
	}
}
