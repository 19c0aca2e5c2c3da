package isapi

import "time"

// Record is the flat, JSON-friendly view of an Event used by `boxd events
// --json` and logs. Raw channel numbers are pointers so that "not sent" and 0
// (the device) stay distinct.
type Record struct {
	Type            string   `json:"type"`  // eventType as sent
	State           string   `json:"state"` // active / inactive
	Channel         int      `json:"channel"`
	ChannelID       *int     `json:"channelID,omitempty"`
	DynChannelID    *int     `json:"dynChannelID,omitempty"`
	Time            string   `json:"time"`                 // device dateTime, raw
	DeviceTime      string   `json:"deviceTime,omitempty"` // best-effort RFC 3339 parse of Time
	Received        string   `json:"received"`             // box clock, RFC 3339
	Heartbeat       bool     `json:"heartbeat"`
	Clip            bool     `json:"clip"` // opens or extends a clip window
	ActivePostCount int      `json:"activePostCount"`
	Description     string   `json:"description,omitempty"`
	ChannelName     string   `json:"channelName,omitempty"`
	TargetType      string   `json:"targetType,omitempty"`
	IPAddress       string   `json:"ipAddress,omitempty"`
	PortNo          int      `json:"portNo,omitempty"`
	Protocol        string   `json:"protocol,omitempty"`
	MACAddress      string   `json:"macAddress,omitempty"`
	SerialNumber    string   `json:"serialNumber,omitempty"`
	Regions         []Region `json:"regions,omitempty"`
}

// Record returns the event's flat view.
func (e Event) Record() Record {
	r := Record{
		Type: e.EventType, State: e.EventState, Channel: e.Channel, Time: e.DateTimeRaw,
		Received: e.Received.Format(time.RFC3339Nano), Heartbeat: IsHeartbeat(e), Clip: IsClipEvent(e.EventType),
		ActivePostCount: e.ActivePostCount, Description: e.EventDescription, ChannelName: e.ChannelName,
		TargetType: e.TargetType, IPAddress: e.IPAddress, PortNo: e.PortNo, Protocol: e.Protocol,
		MACAddress: e.MACAddress, SerialNumber: e.SerialNumber, Regions: e.Regions,
	}
	if e.HasChannelID {
		r.ChannelID = &e.ChannelID
	}
	if e.HasDynChannelID {
		r.DynChannelID = &e.DynChannelID
	}
	if !e.DateTime.IsZero() {
		if e.DateTimeHasZone {
			r.DeviceTime = e.DateTime.Format(time.RFC3339)
		} else {
			r.DeviceTime = e.DateTime.Format("2006-01-02T15:04:05")
		}
	}
	return r
}
