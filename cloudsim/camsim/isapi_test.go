package camsim

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deviceInfoXML is what the box reads from deviceInfo; local names only, so any
// namespace parses.
type deviceInfoXML struct {
	XMLName              xml.Name `xml:"DeviceInfo"`
	Namespace            string   `xml:"xmlns,attr"`
	DeviceName           string   `xml:"deviceName"`
	DeviceID             string   `xml:"deviceID"`
	Model                string   `xml:"model"`
	SerialNumber         string   `xml:"serialNumber"`
	MacAddress           string   `xml:"macAddress"`
	FirmwareVersion      string   `xml:"firmwareVersion"`
	FirmwareReleasedDate string   `xml:"firmwareReleasedDate"`
	DeviceType           string   `xml:"deviceType"`
	Manufacturer         *string  `xml:"manufacturer"`
	DigitalChannelNum    int      `xml:"digitalChannelNum"`
}

type streamingChannelListXML struct {
	Channels []struct {
		ID    int `xml:"id"`
		Video struct {
			Codec        string `xml:"videoCodecType"`
			Width        int    `xml:"videoResolutionWidth"`
			Height       int    `xml:"videoResolutionHeight"`
			MaxFrameRate int    `xml:"maxFrameRate"`
			GovLength    int    `xml:"GovLength"`
		} `xml:"Video"`
	} `xml:"StreamingChannel"`
}

type responseStatusXML struct {
	XMLName       xml.Name `xml:"ResponseStatus"`
	RequestURL    string   `xml:"requestURL"`
	StatusCode    int      `xml:"statusCode"`
	StatusString  string   `xml:"statusString"`
	SubStatusCode string   `xml:"subStatusCode"`
}

type userCheckXML struct {
	XMLName      xml.Name `xml:"userCheck"`
	StatusValue  int      `xml:"statusValue"`
	StatusString string   `xml:"statusString"`
}

func TestISAPIDigest(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	sim := startSim(t, Config{Clock: clock, NonceTTL: time.Minute, Channels: []ChannelConfig{{Main: "h264_360p.h264"}}})
	url := sim.ISAPIURL() + "/ISAPI/System/deviceInfo"

	t.Run("challenge", func(t *testing.T) {
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		h := resp.Header.Get("WWW-Authenticate")
		assert.True(t, strings.HasPrefix(h, "Digest "), h)
		p := parseAuthParams(strings.TrimPrefix(h, "Digest "))
		assert.Equal(t, "auth", p["qop"])
		assert.Regexp(t, `^[0-9a-f]{32}$`, p["realm"])
		assert.Regexp(t, `^[0-9a-f]+:[0-9]+$`, p["nonce"])
		assert.Equal(t, "FALSE", p["stale"])
		var uc userCheckXML
		body, _ := io.ReadAll(resp.Body)
		require.NoError(t, xml.Unmarshal(body, &uc))
		assert.Equal(t, 401, uc.StatusValue)
		assert.Equal(t, "Unauthorized", uc.StatusString)
	})
	t.Run("right password, then stale nonce", func(t *testing.T) {
		c := newDigestClient("admin", "Admin12345")
		code, _ := c.getBody(t, url)
		require.Equal(t, http.StatusOK, code)
		clock.Advance(30 * time.Second)
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		c.authorize(req)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "nonce still fresh")

		clock.Advance(2 * time.Minute)
		req, _ = http.NewRequest(http.MethodGet, url, nil)
		c.authorize(req)
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		p := parseAuthParams(strings.TrimPrefix(resp.Header.Get("WWW-Authenticate"), "Digest "))
		assert.Equal(t, "TRUE", p["stale"], "expired nonce with a correct digest is stale")
		c.learn(resp) // re-authenticate once, as the box must
		code, _ = c.getBody(t, url)
		assert.Equal(t, http.StatusOK, code)
	})
	t.Run("wrong password", func(t *testing.T) {
		c := newDigestClient("admin", "wrong")
		resp := c.get(t, t.Context(), url)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		p := parseAuthParams(strings.TrimPrefix(resp.Header.Get("WWW-Authenticate"), "Digest "))
		assert.Equal(t, "FALSE", p["stale"])
	})
	t.Run("forged nonce", func(t *testing.T) {
		c := newDigestClient("admin", "Admin12345")
		c.realm, c.nonce = sim.Config().Realm, "00112233445566778899aabbccddeeff:1"
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		c.authorize(req)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("basic refused on a digest device", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.SetBasicAuth("admin", "Admin12345")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("control API needs no auth", func(t *testing.T) {
		resp, err := http.Get(sim.ISAPIURL() + "/sim/status")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

func TestISAPIBasicOnly(t *testing.T) {
	t.Parallel()
	sim := startSim(t, Config{BasicAuth: true, Channels: []ChannelConfig{{Main: "h264_360p.h264"}}})
	url := sim.ISAPIURL() + "/ISAPI/System/deviceInfo"
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic "))
	for _, tc := range []struct {
		pass string
		code int
	}{{"Admin12345", http.StatusOK}, {"nope", http.StatusUnauthorized}} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.SetBasicAuth("admin", tc.pass)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tc.code, resp.StatusCode, tc.pass)
	}
}

func TestISAPIDocuments(t *testing.T) {
	t.Parallel()
	channels := []ChannelConfig{
		{Main: "h264_1080p.h264", Sub: "h264_360p.h264"},
		{Main: "h265_360p.h265"},
	}
	for _, tc := range []struct {
		name         string
		cfg          Config
		deviceType   string
		manufacturer string // "" = element absent
		modelPrefix  string
		namespace    string
		inputProxy   int // HTTP status
	}{
		{"camera", Config{}, "IPCamera", "", "DS-", "http://www.hikvision.com/ver20/XMLSchema", http.StatusForbidden},
		{"nvr", Config{Mode: ModeNVR}, "NVR", "", "DS-", "http://www.hikvision.com/ver20/XMLSchema", http.StatusOK},
		{"legacy camera", Config{LegacyXML: true}, "IPCamera", "", "DS-", "http://www.hikvision.com/ver10/XMLSchema", http.StatusForbidden},
		{"other manufacturer", Config{Manufacturer: ManufacturerOther}, "IPCamera", "Dahua", "IPC-", "http://www.hikvision.com/ver20/XMLSchema", http.StatusForbidden},
		{"named manufacturer nvr", Config{Mode: ModeNVR, Manufacturer: "Uniview"}, "NVR", "Uniview", "NVR", "http://www.hikvision.com/ver20/XMLSchema", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Channels = channels
			sim := startSim(t, cfg)
			c := newDigestClient("admin", "Admin12345")
			base := sim.ISAPIURL()

			code, body := c.getBody(t, base+"/ISAPI/System/deviceInfo")
			require.Equal(t, http.StatusOK, code)
			var di deviceInfoXML
			require.NoError(t, xml.Unmarshal([]byte(body), &di), body)
			assert.Equal(t, tc.namespace, di.XMLName.Space)
			assert.Equal(t, tc.deviceType, di.DeviceType)
			assert.True(t, strings.HasPrefix(di.Model, tc.modelPrefix), di.Model)
			assert.Regexp(t, `^([0-9a-f]{2}:){5}[0-9a-f]{2}$`, di.MacAddress)
			assert.NotEmpty(t, di.DeviceID)
			assert.NotEmpty(t, di.FirmwareVersion)
			assert.NotEmpty(t, di.FirmwareReleasedDate)
			if tc.manufacturer == "" {
				assert.Nil(t, di.Manufacturer, "Hikvision sends no <manufacturer>")
				assert.True(t, strings.HasPrefix(di.SerialNumber, di.Model), "serial starts with the model: %s", di.SerialNumber)
				assert.Regexp(t, `^DS-[0-9A-Z-]+\d{8}AAWRJ\d{8}$`, di.SerialNumber)
			} else {
				require.NotNil(t, di.Manufacturer)
				assert.Equal(t, tc.manufacturer, *di.Manufacturer)
			}
			if tc.deviceType == "NVR" {
				assert.Equal(t, 2, di.DigitalChannelNum)
			}

			code, body = c.getBody(t, base+"/ISAPI/Streaming/channels")
			require.Equal(t, http.StatusOK, code)
			var list streamingChannelListXML
			require.NoError(t, xml.Unmarshal([]byte(body), &list), body)
			require.Len(t, list.Channels, 4)
			type row struct {
				id            int
				codec         string
				width, height int
			}
			var got []row
			for _, ch := range list.Channels {
				got = append(got, row{ch.ID, ch.Video.Codec, ch.Video.Width, ch.Video.Height})
				assert.Equal(t, 2500, ch.Video.MaxFrameRate)
				assert.Equal(t, 50, ch.Video.GovLength)
			}
			assert.Equal(t, []row{{101, "H.264", 1920, 1080}, {102, "H.264", 640, 360},
				{201, "H.265", 640, 360}, {202, "H.265", 640, 360}}, got)

			code, body = c.getBody(t, base+"/ISAPI/Streaming/channels/102")
			require.Equal(t, http.StatusOK, code)
			assert.Contains(t, body, "<id>102</id>")

			code, body = c.getBody(t, base+"/ISAPI/ContentMgmt/InputProxy/channels")
			require.Equal(t, tc.inputProxy, code, body)
			if code == http.StatusOK {
				var ip struct {
					Channels []struct {
						ID   int    `xml:"id"`
						Name string `xml:"name"`
						IP   string `xml:"sourceInputPortDescriptor>ipAddress"`
					} `xml:"InputProxyChannel"`
				}
				require.NoError(t, xml.Unmarshal([]byte(body), &ip), body)
				require.Len(t, ip.Channels, 2)
				assert.Equal(t, 2, ip.Channels[1].ID)
				assert.NotEmpty(t, ip.Channels[1].IP)
			} else {
				var rs responseStatusXML
				require.NoError(t, xml.Unmarshal([]byte(body), &rs), body)
				assert.Equal(t, statusInvalidOperation, rs.StatusCode)
				assert.Equal(t, "Invalid Operation", rs.StatusString)
				assert.Equal(t, "notSupport", rs.SubStatusCode)
			}

			code, body = c.getBody(t, base+"/ISAPI/Security/adminAccesses")
			require.Equal(t, http.StatusOK, code)
			_, port, _ := strings.Cut(sim.RTSPAddr(), ":")
			assert.Contains(t, body, "<protocol>RTSP</protocol>\n<portNo>"+port+"</portNo>")

			code, body = c.getBody(t, base+"/ISAPI/No/Such/Thing")
			assert.Equal(t, http.StatusNotFound, code)
			var rs responseStatusXML
			require.NoError(t, xml.Unmarshal([]byte(body), &rs), body)
			assert.Equal(t, "/ISAPI/No/Such/Thing", rs.RequestURL)
		})
	}
}
