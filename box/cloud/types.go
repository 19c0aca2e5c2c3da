package cloud

import "time"

// Registration is the answer to Register.
type Registration struct {
	BoxID  string `json:"box_id"`
	SiteID string `json:"site_id"`
	Token  string `json:"token"`
}

// HeartbeatRequest tells the cloud the box is alive and which config it runs.
type HeartbeatRequest struct {
	AppliedConfigVersion int    `json:"applied_config_version"`
	Firmware             string `json:"firmware,omitempty"`
	UptimeSeconds        int64  `json:"uptime_s,omitempty"`
}

// HeartbeatResponse carries what the cloud wants from the box.
type HeartbeatResponse struct {
	ServerTime    time.Time `json:"server_time"`
	ConfigVersion int       `json:"config_version"`
	// ConfigChanged: fetch Channels and apply them (no restart needed).
	ConfigChanged bool `json:"config_changed"`
	// InspectionID: send a health report carrying this ID now.
	InspectionID     string `json:"inspection_id,omitempty"`
	HeartbeatSeconds int    `json:"heartbeat_s"`
}

// HealthReport is the box's report about itself and its linked cameras.
type HealthReport struct {
	InspectionID string         `json:"inspection_id,omitempty"`
	Box          BoxHealth      `json:"box"`
	Cameras      []CameraHealth `json:"cameras,omitempty"`
	Devices      []DeviceHealth `json:"devices,omitempty"`
}

// BoxHealth is the box's own state. Network and Uplink are "ok", "poor" or "down".
type BoxHealth struct {
	Network  string     `json:"network"`
	Disk     DiskHealth `json:"disk"`
	Spool    Spool      `json:"spool"`
	Uplink   string     `json:"uplink"`
	Firmware string     `json:"firmware"`
}

// DiskHealth is the ANR disk. Status "ok", "none", "error" or "full"; SMART "ok",
// "warning" or "fail".
type DiskHealth struct {
	Status       string   `json:"status"`
	SMART        string   `json:"smart,omitempty"`
	UsagePercent *float64 `json:"usage_percent,omitempty"`
	Overwritten  *bool    `json:"overwritten,omitempty"`
}

// Spool counts the ANR spool; Lost must stay 0.
type Spool struct {
	Clips   int   `json:"clips"`
	Bytes   int64 `json:"bytes"`
	Evicted int64 `json:"evicted"`
	Lost    int64 `json:"lost"`
}

// CameraHealth is one linked camera or NVR channel. Stream is "ok" or "down".
type CameraHealth struct {
	DeviceID      string `json:"device_id"`
	DeviceChannel int    `json:"device_channel,omitempty"`
	Online        bool   `json:"online"`
	Stream        string `json:"stream"`
	VideoLoss     bool   `json:"video_loss"`
	Tamper        bool   `json:"tamper"`
	DiskError     bool   `json:"disk_error"`
}

// DeviceHealth relays another device of the site (panel, doorbell, ...).
type DeviceHealth struct {
	DeviceID     string   `json:"device_id"`
	Online       bool     `json:"online"`
	Network      string   `json:"network,omitempty"`
	Storage      string   `json:"storage,omitempty"`
	SMART        string   `json:"smart,omitempty"`
	HDDUsage     *float64 `json:"hdd_usage_percent,omitempty"`
	LowBattery   *bool    `json:"low_battery,omitempty"`
	NetworkType  string   `json:"network_type,omitempty"`
	BatteryLevel *int     `json:"battery_level,omitempty"`
	SDCard       string   `json:"sd_card,omitempty"`
}

// ChannelList is the box's remote configuration.
type ChannelList struct {
	BoxID         string    `json:"box_id"`
	ConfigVersion int       `json:"config_version"`
	Channels      []Channel `json:"channels"`
}

// Channel is one linked box channel with the device to pull from.
type Channel struct {
	Channel       int     `json:"channel"`
	DeviceID      string  `json:"device_id"`
	DeviceType    string  `json:"device_type"`
	DeviceChannel int     `json:"device_channel"`
	Model         string  `json:"model"`
	Address       string  `json:"address"`
	Port          int     `json:"port"`
	RTSPPort      int     `json:"rtsp_port"`
	Username      string  `json:"username"`
	Password      string  `json:"password"`
	Stream        string  `json:"stream"`
	Output        string  `json:"output_resolution"`
	Width         int     `json:"width,omitempty"`
	Height        int     `json:"height,omitempty"`
	Package       Package `json:"package"`
}

// Package is a channel's storage package state; upload only while Active.
type Package struct {
	Active        bool       `json:"active"`
	Package       string     `json:"package,omitempty"`
	RetentionDays int        `json:"retention_days,omitempty"`
	Start         *time.Time `json:"start,omitempty"`
	End           *time.Time `json:"end,omitempty"`
}

// Clip registers an uploaded clip. EventTypes are ISAPI names: VMD, linedetection,
// fielddetection. SHA256 is lowercase hex.
type Clip struct {
	ObjectKey  string    `json:"object_key"`
	Channel    int       `json:"channel"`
	EventTypes []string  `json:"event_types"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
}

// ClipRecord is the cloud's index entry for a clip.
type ClipRecord struct {
	Clip
	ID     string `json:"id"`
	BoxID  string `json:"box_id"`
	SiteID string `json:"site_id"`
}

// Storage is where to upload: everything goes under Prefix in Bucket.
type Storage struct {
	Endpoint  string `json:"endpoint"`
	Region    string `json:"region"`
	Bucket    string `json:"bucket"`
	Prefix    string `json:"prefix"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}
