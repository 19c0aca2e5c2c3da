package main

import (
	"context"
	"fmt"
	"time"

	"github.com/proconnect-oss/boxfw/box/status"
)

type snapshot = status.Snapshot

var eventTypes = []string{"VMD", "linedetection", "fielddetection"}

// scenario triggers events across the channels, cuts the uplink in the middle of
// the run, restores it, and waits for the spool to drain.
func (d *demo) scenario(ctx context.Context) (snapshot, error) {
	t0 := time.Now()
	at := func(frac float64) time.Time { return t0.Add(time.Duration(frac * float64(d.length))) }
	eventsUntil, cutAt, restoreAt := at(0.65), at(0.25), at(0.5)
	n := 12
	gap := eventsUntil.Sub(t0) / time.Duration(n)
	nextEvent, nextProgress := t0, t0
	cut, restored := false, false
	i := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(at(1)) {
		select {
		case <-ctx.Done():
			return snapshot{}, ctx.Err()
		case <-tick.C:
		}
		now := time.Now()
		if i < n && !now.Before(nextEvent) {
			ch, typ := i%channels+1, eventTypes[i%len(eventTypes)]
			if err := d.trigger(ch, typ); err != nil {
				return snapshot{}, err
			}
			note := ""
			if ch == unsubChan {
				note = " (no storage package: counted, never uploaded)"
			}
			d.say("event: %s on channel %d%s", typ, ch, note)
			i++
			nextEvent = nextEvent.Add(gap)
		}
		if !cut && !now.Before(cutAt) {
			d.proxy.SetCut(true)
			cut = true
			d.say("uplink CUT: clips now wait in the ANR spool")
		}
		if cut && !restored && !now.Before(restoreAt) {
			d.proxy.SetCut(false)
			restored = true
			d.say("uplink RESTORED: the spool drains")
		}
		if !now.Before(nextProgress) {
			d.progress()
			nextProgress = nextProgress.Add(5 * time.Second)
		}
	}
	d.say("events done; waiting for the last clips to be cut and uploaded")
	deadline := time.Now().Add(3 * time.Minute)
	stable := 0
	var last snapshot
	for {
		s, err := d.status()
		if err == nil {
			made, uploaded := subscribedTotals(s)
			if s.ClipsInProgress == 0 && s.Spool.Pending == 0 && s.Spool.Uploading == 0 && made == uploaded &&
				made == subscribedTotalsOf(last) {
				stable++
			} else {
				stable = 0
			}
			last = s
			if stable >= 10 { // 2 s without change: every window closed and drained
				d.progress()
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			d.progress()
			return last, fmt.Errorf("clips were not all cut and uploaded within 3 minutes after the events")
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func subscribedTotals(s snapshot) (made, uploaded int64) {
	for _, ch := range s.Channels {
		made += ch.ClipsMade
		uploaded += ch.Uploaded
	}
	return made, uploaded
}

func subscribedTotalsOf(s snapshot) int64 {
	made, _ := subscribedTotals(s)
	return made
}

func (d *demo) progress() {
	s, err := d.status()
	if err != nil {
		d.say("status unavailable: %v", err)
		return
	}
	made, uploaded := subscribedTotals(s)
	d.say("uplink=%-8s spool pending=%d (%s, oldest %.0fs) | clips made=%d uploaded=%d | cloud=%s",
		s.Uplink.State, s.Spool.Pending, human(s.Spool.PendingBytes), s.Spool.OldestPendingAge, made, uploaded, s.Cloud.State)
}

func human(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
