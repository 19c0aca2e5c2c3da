// Command demo runs the whole ProConnect system end to end on loopback: the device
// simulator (a 4-channel NVR, H.264 and H.265, 1080p and 1440p), cloudsim with its
// embedded S3 and a seeded installer company, site, box and storage packages
// (channel 4 deliberately without), and boxd registered to that site. It triggers
// motion, line-crossing and intrusion events, cuts the uplink for part of the run
// (clips wait in the ANR spool) and restores it, then verifies every object's
// checksum and the cloud's clip index, prints a per-channel table and
//
//	summary: events=N clips=N uploaded=N pending=N evicted=N lost=N
//
// It exits 0 only if nothing was lost. DEMO_SECONDS sets the length (default 90),
// DEMO_DIR keeps the working files somewhere chosen.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	seconds := 90
	if v := os.Getenv("DEMO_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 30 {
			fmt.Fprintf(os.Stderr, "demo: DEMO_SECONDS=%q: want a whole number of seconds >= 30\n", v)
			os.Exit(2)
		}
		seconds = n
	}
	d, err := newDemo(time.Duration(seconds) * time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
	code := d.run(ctx)
	os.Exit(code)
}
