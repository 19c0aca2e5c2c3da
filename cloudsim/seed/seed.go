package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
)

// Spec describes what to create. Zero fields take Demo's values.
type Spec struct {
	CompanyName  string    `json:"company_name"`
	Region       string    `json:"region"`
	AdminEmail   string    `json:"admin_email"`
	ITEmail      string    `json:"it_email"`
	ManagerEmail string    `json:"manager_email"`
	OwnerEmail   string    `json:"owner_email"`
	Password     string    `json:"password"` // for every account
	SiteName     string    `json:"site_name"`
	BoxSerial    string    `json:"box_serial"`
	BoxCode      string    `json:"box_verification_code"`
	Devices      []Device  `json:"devices"`
	Channels     []Channel `json:"channels"`
	PackageStock int       `json:"package_stock"` // 7d-monthly packages bought
	SkipHandover bool      `json:"skip_handover"`
}

// Device is a camera, NVR or DVR to add to the site.
type Device struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Model    string `json:"model"`
	Serial   string `json:"serial,omitempty"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
	RTSPPort int    `json:"rtsp_port"`
	Username string `json:"username"`
	Password string `json:"password"`
	Channels int    `json:"channels"`
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
}

// Channel links a box channel to a device channel; Package "" leaves it unsubscribed.
type Channel struct {
	Channel       int    `json:"channel"`
	Device        string `json:"device"`
	DeviceChannel int    `json:"device_channel"`
	Stream        string `json:"stream,omitempty"`
	Output        string `json:"output_resolution,omitempty"`
	Package       string `json:"package,omitempty"`
}

// Demo is the built-in spec: one 4-channel NVR (the device simulator's defaults on
// 127.0.0.1, ISAPI 8080, RTSP 8554) on box channels 1-4, channels 1-3 with a 7-day
// package and channel 4 without.
func Demo() Spec {
	return Spec{
		CompanyName: "Demo Installers", Region: "eu",
		AdminEmail: "admin@demo.test", ITEmail: "it@demo.test", ManagerEmail: "tech@demo.test", OwnerEmail: "owner@demo.test",
		Password: "demo-password", SiteName: "Demo Shop",
		BoxSerial: "PCB-DEMO-0001", BoxCode: "DEMO01",
		Devices: []Device{{Name: "nvr", Type: "nvr", Model: "DS-7608NI-K2", Address: "127.0.0.1", Port: 8080, RTSPPort: 8554,
			Username: "admin", Password: "Admin12345", Channels: 4, Width: 1920, Height: 1080}},
		Channels: []Channel{
			{Channel: 1, Device: "nvr", DeviceChannel: 1, Package: "7d-monthly"},
			{Channel: 2, Device: "nvr", DeviceChannel: 2, Package: "7d-monthly"},
			{Channel: 3, Device: "nvr", DeviceChannel: 3, Output: "576p", Package: "7d-monthly"},
			{Channel: 4, Device: "nvr", DeviceChannel: 4},
		},
		PackageStock: 10,
	}
}

// Load reads a spec: "demo" for Demo, else a JSON file whose fields override Demo's.
func Load(arg string) (Spec, error) {
	spec := Demo()
	if arg == "demo" {
		return spec, nil
	}
	raw, err := os.ReadFile(arg)
	if err != nil {
		return spec, fmt.Errorf("seed: %w", err)
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		return spec, fmt.Errorf("seed: %s: %w", arg, err)
	}
	return spec, nil
}

// Result is what a demo needs to know afterwards (also written as seed.json).
type Result struct {
	CompanyID        string            `json:"company_id"`
	SiteID           string            `json:"site_id"`
	BoxID            string            `json:"box_id"`
	BoxSerial        string            `json:"box_serial"`
	VerificationCode string            `json:"box_verification_code"`
	Accounts         map[string]string `json:"accounts"` // role -> email
	Password         string            `json:"password"`
	AlreadySeeded    bool              `json:"already_seeded,omitempty"`
}

type client struct {
	h http.Handler
}

func (c client) do(tok, method, path string, body, out any) (int, error) {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return 0, err
		}
	}
	req := httptest.NewRequest(method, path, &buf)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		return rec.Code, fmt.Errorf("%w: %s %s: %d %s", ErrStep, method, path, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			return rec.Code, fmt.Errorf("%w: %s %s: %w", ErrStep, method, path, err)
		}
	}
	return rec.Code, nil
}

func (c client) login(email, password string) (string, error) {
	var out struct{ Token string }
	_, err := c.do("", "POST", "/api/v1/login", map[string]string{"email": email, "password": password}, &out)
	return out.Token, err
}

// Apply creates spec through h (the API's handler).
func Apply(h http.Handler, spec Spec) (Result, error) {
	c := client{h: h}
	v := "/api/v1"
	res := Result{BoxSerial: spec.BoxSerial, VerificationCode: spec.BoxCode, Password: spec.Password,
		Accounts: map[string]string{"installer_admin": spec.AdminEmail, "it_manager": spec.ITEmail, "site_manager": spec.ManagerEmail, "owner": spec.OwnerEmail}}
	var co struct {
		Company struct{ ID string }
	}
	code, err := c.do("", "POST", v+"/companies", map[string]any{"name": spec.CompanyName, "region": spec.Region,
		"admin": map[string]string{"email": spec.AdminEmail, "password": spec.Password, "name": "Demo Admin"}}, &co)
	if code == http.StatusConflict {
		res.AlreadySeeded = true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.CompanyID = co.Company.ID
	admin, err := c.login(spec.AdminEmail, spec.Password)
	if err != nil {
		return res, err
	}
	var mgr struct{ ID string }
	steps := []error{}
	_, err = c.do(admin, "POST", v+"/companies/"+co.Company.ID+"/members", map[string]string{"email": spec.ITEmail, "password": spec.Password, "role": "it_manager"}, nil)
	steps = append(steps, err)
	_, err = c.do(admin, "POST", v+"/companies/"+co.Company.ID+"/members", map[string]string{"email": spec.ManagerEmail, "password": spec.Password, "role": "employee"}, &mgr)
	steps = append(steps, err)
	_, err = c.do("", "POST", v+"/users", map[string]string{"email": spec.OwnerEmail, "password": spec.Password, "region": spec.Region}, nil)
	steps = append(steps, err)
	var site struct{ ID string }
	_, err = c.do(admin, "POST", v+"/sites", map[string]string{"name": spec.SiteName}, &site)
	steps = append(steps, err)
	if err := errors.Join(steps...); err != nil {
		return res, err
	}
	res.SiteID = site.ID
	sp := v + "/sites/" + site.ID
	if _, err := c.do(admin, "PUT", sp+"/manager", map[string]string{"user_id": mgr.ID}, nil); err != nil {
		return res, err
	}
	ids := map[string]string{}
	for _, d := range spec.Devices {
		var out struct{ ID string }
		if _, err := c.do(admin, "POST", sp+"/devices", d, &out); err != nil {
			return res, err
		}
		ids[d.Name] = out.ID
	}
	var box struct{ ID string }
	if _, err := c.do(admin, "POST", sp+"/boxes", map[string]string{"serial": spec.BoxSerial, "verification_code": spec.BoxCode}, &box); err != nil {
		return res, err
	}
	res.BoxID = box.ID
	if spec.PackageStock > 0 {
		if _, err := c.do(admin, "POST", v+"/companies/"+co.Company.ID+"/packages", map[string]any{"package": "7d-monthly", "quantity": spec.PackageStock}, nil); err != nil {
			return res, err
		}
	}
	for _, ch := range spec.Channels {
		id, ok := ids[ch.Device]
		if !ok {
			return res, fmt.Errorf("%w: channel %d names unknown device %q", ErrStep, ch.Channel, ch.Device)
		}
		bp := fmt.Sprintf("%s/boxes/%s/channels/%d", sp, box.ID, ch.Channel)
		link := map[string]any{"device_id": id, "device_channel": ch.DeviceChannel, "stream": ch.Stream, "output_resolution": ch.Output}
		if _, err := c.do(admin, "PUT", bp, link, nil); err != nil {
			return res, err
		}
		if ch.Package != "" {
			if _, err := c.do(admin, "POST", bp+"/package", map[string]string{"package": ch.Package}, nil); err != nil {
				return res, err
			}
		}
	}
	if spec.SkipHandover {
		return res, nil
	}
	owner, err := c.login(spec.OwnerEmail, spec.Password)
	if err != nil {
		return res, err
	}
	for _, s := range []struct {
		tok, path string
		body      any
	}{
		{admin, sp + "/invitation", map[string]string{"email": spec.OwnerEmail}},
		{owner, sp + "/handover", nil},
		{admin, sp + "/authorization/apply", nil},
		{owner, sp + "/authorization/grant", nil},
	} {
		if _, err := c.do(s.tok, "POST", s.path, s.body, nil); err != nil {
			return res, err
		}
	}
	return res, nil
}
