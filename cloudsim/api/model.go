package api

import (
	"strings"
	"time"
)

// Role is an account's role. Site Manager is not a role: it is an Employee (or IT
// Manager) assigned to one site.
type Role string

// Roles.
const (
	RoleAdmin    Role = "installer_admin"
	RoleIT       Role = "it_manager"
	RoleEmployee Role = "employee"
	RoleEndUser  Role = "end_user"
)

func (r Role) installer() bool { return r == RoleAdmin || r == RoleIT || r == RoleEmployee }

// Company is an installer company.
type Company struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Region  string    `json:"region"`
	Created time.Time `json:"created"`
}

// User is an installer account or an end user.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CompanyID string    `json:"company_id,omitempty"`
	Region    string    `json:"region"`
	Created   time.Time `json:"created"`
	PassHash  []byte    `json:"pass_hash,omitempty"`
}

// public hides the password hash.
func (u User) public() User { u.PassHash = nil; return u }

// Site authorization states.
const (
	AuthNone    = "none"
	AuthPending = "pending"
	AuthGranted = "granted"
)

// Site is a customer site.
type Site struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Region    string `json:"region"`
	CompanyID string `json:"company_id"`
	// FormerCompanyIDs are previous installers after a change of installer; the site
	// stays in their list (read-only) until they delete it.
	FormerCompanyIDs []string   `json:"former_company_ids,omitempty"`
	ManagerID        string     `json:"manager_id,omitempty"`
	InvitedOwnerID   string     `json:"invited_owner_id,omitempty"`
	OwnerID          string     `json:"owner_id,omitempty"`
	HandedOverAt     *time.Time `json:"handed_over_at,omitempty"`
	Authorization    string     `json:"authorization"`
	LastInspected    *time.Time `json:"last_inspected,omitempty"`
	Created          time.Time  `json:"created"`
}

func (s *Site) handedOver() bool   { return s.OwnerID != "" }
func (s *Site) ownerInvited() bool { return s.InvitedOwnerID != "" || s.OwnerID != "" }

// DeviceType is a device class; health fields differ per class (see healthFields).
type DeviceType string

// Device types.
const (
	TypeBox      DeviceType = "box"
	TypeCamera   DeviceType = "camera"
	TypeNVR      DeviceType = "nvr"
	TypeDVR      DeviceType = "dvr"
	TypePanel    DeviceType = "security_panel"
	TypeAccess   DeviceType = "access_control"
	TypeIntercom DeviceType = "video_intercom"
	TypeDoorbell DeviceType = "doorbell"
)

func (t DeviceType) valid() bool {
	switch t {
	case TypeBox, TypeCamera, TypeNVR, TypeDVR, TypePanel, TypeAccess, TypeIntercom, TypeDoorbell:
		return true
	}
	return false
}

func (t DeviceType) encoding() bool {
	return t == TypeBox || t == TypeCamera || t == TypeNVR || t == TypeDVR
}

// Device is anything added to a site, boxes included.
type Device struct {
	ID     string     `json:"id"`
	SiteID string     `json:"site_id"`
	Type   DeviceType `json:"type"`
	Name   string     `json:"name,omitempty"`
	Model  string     `json:"model"`
	// Exactly one of Serial or Address identifies how the device was added.
	Serial  string `json:"serial,omitempty"`
	Address string `json:"address,omitempty"`
	// Port is the ISAPI (HTTP) port, default 80; RTSPPort defaults to 554.
	Port     int    `json:"port,omitempty"`
	RTSPPort int    `json:"rtsp_port,omitempty"`
	Username string `json:"username,omitempty"`
	// Password is kept because the box needs it to pull RTSP; it is never listed to
	// installers, only served to the site's own box.
	Password string `json:"password,omitempty"`
	// Channels is the number of video channels (NVR/DVR IP channels; 1 for a camera).
	Channels int `json:"channels,omitempty"`
	// Width and Height are the declared main-stream resolution, used by admission.
	Width   int       `json:"width,omitempty"`
	Height  int       `json:"height,omitempty"`
	AddedBy string    `json:"added_by"`
	Created time.Time `json:"created"`

	Box *BoxState `json:"box,omitempty"`
}

// BoxState is the box-only part of a device.
type BoxState struct {
	VerifyHash []byte `json:"verify_hash,omitempty"`
	TokenHash  string `json:"token_hash,omitempty"`
	Registered bool   `json:"registered"`
	// ConfigVersion increments on every channel-link change; the box reports the
	// version it applied in its heartbeat.
	ConfigVersion  int          `json:"config_version"`
	AppliedVersion int          `json:"applied_version"`
	Links          map[int]Link `json:"links,omitempty"`
	// PendingInspection is a manual inspection the box has not answered yet.
	PendingInspection string `json:"pending_inspection,omitempty"`
}

// Link connects one box channel (1..8) to a device channel of the same site.
type Link struct {
	DeviceID      string `json:"device_id"`
	DeviceChannel int    `json:"device_channel"`
	Stream        string `json:"stream"`
	Output        string `json:"output_resolution"`
	Width         int    `json:"width,omitempty"`
	Height        int    `json:"height,omitempty"`
}

// publicDevice strips secrets before a device leaves the server for a person.
func publicDevice(d Device) Device {
	d.Password = ""
	if d.Box != nil {
		b := *d.Box
		b.VerifyHash, b.TokenHash = nil, ""
		d.Box = &b
	}
	return d
}

// Linkage is an event linkage rule between two devices of one site.
type Linkage struct {
	ID       string    `json:"id"`
	SiteID   string    `json:"site_id"`
	SourceID string    `json:"source_device_id"`
	TargetID string    `json:"target_device_id"`
	Event    string    `json:"event"`
	Action   string    `json:"action"`
	Created  time.Time `json:"created"`
}

// supportedModelPrefixes is the model allowlist: Hikvision (DS-), HiLook (IPC-, NVR-,
// DVR-, THC-, PTZ-) and the EZVIZ lines that speak ISAPI/Hik-Connect (CS-C6, CS-C3,
// CS-H8, CS-DB1, CS-X5). Prefix match, case-insensitive.
func supportedModel(model string) bool {
	m := strings.ToUpper(strings.TrimSpace(model))
	for _, p := range []string{"DS-", "IPC-", "NVR-", "DVR-", "THC-", "PTZ-", "CS-C6", "CS-C3", "CS-H8", "CS-DB1", "CS-X5"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}
