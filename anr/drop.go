package anr

// DropReason says why a clip left the spool without being uploaded.
type DropReason string

// Drop reasons.
const (
	ReasonBudget  DropReason = "budget"  // evicted: usage above Options.MaxBytes
	ReasonReserve DropReason = "reserve" // evicted: free space below Options.MinFreeBytes
	ReasonLost    DropReason = "lost"    // indexed, but its file was missing or truncated at Open
)

// Class is a clip's upload and eviction class.
type Class string

// Classes. A clip is ClassHigh if any of its event types is intrusion
// (fielddetection) or line crossing (linedetection): those are uploaded first and
// evicted last. Everything else (motion, VMD) is ClassMotion.
const (
	ClassHigh   Class = "high"
	ClassMotion Class = "motion"
)

// Drop reports one dropped clip to Options.OnDrop.
type Drop struct {
	Clip   Clip
	Reason DropReason
	Class  Class
}

// ClassOf returns the class of a set of ISAPI event types.
func ClassOf(eventTypes []string) Class {
	for _, e := range eventTypes {
		if e == "fielddetection" || e == "linedetection" {
			return ClassHigh
		}
	}
	return ClassMotion
}

// uploadsBefore is the upload order: high class first, then oldest Start, then ID.
func uploadsBefore(a, b *Clip) bool {
	ca, cb := ClassOf(a.EventTypes), ClassOf(b.EventTypes)
	if ca != cb {
		return ca == ClassHigh
	}
	return startsBefore(a, b)
}

// evictsBefore is the eviction order: motion first, then oldest Start, then ID.
func evictsBefore(a, b *Clip) bool {
	ca, cb := ClassOf(a.EventTypes), ClassOf(b.EventTypes)
	if ca != cb {
		return ca == ClassMotion
	}
	return startsBefore(a, b)
}

func startsBefore(a, b *Clip) bool {
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	return a.ID < b.ID
}
