package camsim_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/proconnect-oss/boxfw/cloudsim/camsim"
)

// A two-channel NVR for an integration test: RTSP URLs for the ingest, the ISAPI base
// URL for discovery and events, knobs for failures.
func Example() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sim, err := camsim.New(camsim.Config{
		Mode: camsim.ModeNVR,
		Channels: []camsim.ChannelConfig{
			{Main: "h264_1080p.h264", Sub: "h264_360p.h264"},
			{Main: "h265_1080p.h265", Sub: "h265_360p.h265"},
		},
		MediaDir: "testdata/media", // relative to the working directory
		Alert: camsim.AlertConfig{
			Quirks: func() *camsim.AlertQuirks {
				q := camsim.NVRQuirks()
				q.ChannelID = "dyn32" // channelID 32+N, dynChannelID N
				return &q
			}(),
		},
	}, logger)
	if err != nil {
		panic(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		panic(err)
	}
	defer sim.Close()

	fmt.Println(sim.StreamURL(2, 1)) // rtsp://admin:Admin12345@127.0.0.1:PORT/Streaming/Channels/201
	fmt.Println(sim.ISAPIURL())      // http://127.0.0.1:PORT (Digest admin / Admin12345)

	_ = sim.Trigger(1, "linedetection", 5*time.Second) // on every open alertStream
	_ = sim.Stall(2, 3*time.Second)                    // channel 2 sends nothing for 3 s
	_ = sim.RestartStream(1)                           // channel 1 readers are dropped
}
