package ring

// The ring has no failure modes a caller must handle: a unit it cannot keep is dropped
// and counted by Reason (see Stats), never returned as an error.
