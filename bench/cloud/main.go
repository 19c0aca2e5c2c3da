// Command cloud is the load generator for the cloud's box-facing API. It runs as its
// own process against a cloudsim it starts (or one given with --url), creates a fleet
// of boxes through the public API, then drives heartbeats and health reports the way a
// fleet does: open loop, each request sent at its scheduled time whether or not earlier
// ones returned, so a slow server shows up as latency instead of hiding (no coordinated
// omission). Latency is measured from the scheduled send time.
//
//	go run ./bench/cloud                      # 10,000 boxes, 30 s heartbeats, 60 s run, then a ramp
//	go run ./bench/cloud --boxes 2000 --duration 20s --ramp=false
//
// It prints the p50/p99/max latency and achieved rate at the target rate, and with
// --ramp the highest rate whose p99 stays under --p99 with no errors.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
