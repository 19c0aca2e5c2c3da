// Command cloudsim runs the installer cloud simulator: the HTTP JSON API (accounts,
// sites, devices, boxes, health, packages, clips), its bbolt store in a data directory,
// the background ticker (health flush, automatic inspection, retention sweep) and,
// unless an external S3 endpoint is given, an embedded S3 endpoint persisted on disk.
//
//	cloudsim --data ./cloudsim-data --seed demo
//
// Every flag has an environment variable (CLOUDSIM_LISTEN, CLOUDSIM_DATA, ...); flags
// win. Everything binds 127.0.0.1 unless told otherwise. SIGINT/SIGTERM shut down
// gracefully: in-flight requests finish, health is flushed, stores are closed.
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
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cloudsim:", err)
		os.Exit(1)
	}
}
