// Command spool measures ANR spool enqueue throughput against dd writing the same
// bytes with fsync (dd if=clip of=out bs=1M conv=fsync, one process per clip) on the
// same filesystem, side by side in one run, and prints both and their ratio.
//
//	go run ./bench/spool [-dir /path/on/target/fs] [-clips 50] [-size 2097152] [-rounds 3]
//
// A third column, "raw", does what dd does in-process (create, write 1 MiB at a
// time, fsync, close), so the figure is not flattered by dd's process start-up:
// spool/raw is the honest cost of the spool's extra durability steps.
//
// Rounds alternate dd, raw and spool so drift in the disk (writeback, other load on a
// shared machine) hits both alike. The spool does strictly more work per clip
// (SHA-256, fsync of the file, rename, fsync of the directory, a bbolt commit with
// its own two fsyncs); the target is spool/dd >= 0.8.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/proconnect-oss/boxfw/anr"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/spool:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "", "directory on the filesystem to test (default: a temp dir)")
	clips := flag.Int("clips", 50, "clips per round")
	size := flag.Int("size", 2<<20, "clip size in bytes")
	rounds := flag.Int("rounds", 3, "rounds (each runs dd then spool)")
	flag.Parse()

	root, err := os.MkdirTemp(*dir, "spoolbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	dd, err := exec.LookPath("dd")
	if err != nil {
		return err
	}
	data := make([]byte, *size)
	_, _ = rand.Read(data) // incompressible, like H.264
	clip := filepath.Join(root, "clip.mp4")
	if err := os.WriteFile(clip, data, 0o644); err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)

	var ddTime, rawTime, spTime time.Duration
	for r := range *rounds {
		// dd: same bytes, same source file, fsync per clip.
		out := filepath.Join(root, fmt.Sprintf("dd-%d", r))
		if err := os.Mkdir(out, 0o755); err != nil {
			return err
		}
		start := time.Now()
		for i := range *clips {
			cmd := exec.Command(dd, "if="+clip, "of="+filepath.Join(out, strconv.Itoa(i)+".mp4"),
				"bs=1M", "conv=fsync", "status=none")
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("dd: %v: %s", err, b)
			}
		}
		ddTime += time.Since(start)

		// raw: dd's work without the process start-up.
		rawDir := filepath.Join(root, fmt.Sprintf("raw-%d", r))
		if err := os.Mkdir(rawDir, 0o755); err != nil {
			return err
		}
		start = time.Now()
		for i := range *clips {
			if err := rawCopy(clip, filepath.Join(rawDir, strconv.Itoa(i)+".mp4")); err != nil {
				return err
			}
		}
		rawTime += time.Since(start)

		// spool: Add reading the same file, until durable and indexed.
		sp, err := anr.Open(filepath.Join(root, fmt.Sprintf("spool-%d", r)), anr.Options{}, logger, time.Now)
		if err != nil {
			return err
		}
		start = time.Now()
		for i := range *clips {
			f, err := os.Open(clip)
			if err != nil {
				return err
			}
			now := time.Now()
			_, err = sp.Add(context.Background(), anr.ClipMeta{Channel: i % 8, EventTypes: []string{"VMD"},
				Start: now.Add(-20 * time.Second), End: now}, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		spTime += time.Since(start)
		if err := sp.Close(); err != nil {
			return err
		}
		// Free the space between rounds (untimed).
		_ = os.RemoveAll(out)
		_ = os.RemoveAll(rawDir)
		_ = os.RemoveAll(filepath.Join(root, fmt.Sprintf("spool-%d", r)))
		fmt.Printf("round %d: cumulative dd %s, raw %s, spool %s\n", r, ddTime, rawTime, spTime)
	}
	total := float64(*rounds * *clips * *size)
	ddMBs := total / ddTime.Seconds() / 1e6
	spMBs := total / spTime.Seconds() / 1e6
	rawMBs := total / rawTime.Seconds() / 1e6
	fmt.Printf("filesystem:    %s\n", root)
	fmt.Printf("workload:      %d rounds x %d clips x %d bytes\n", *rounds, *clips, *size)
	fmt.Printf("dd conv=fsync: %8.1f MB/s  (%6.1f clips/s)\n", ddMBs, float64(*rounds**clips)/ddTime.Seconds())
	fmt.Printf("raw in-process:%8.1f MB/s  (%6.1f clips/s)\n", rawMBs, float64(*rounds**clips)/rawTime.Seconds())
	fmt.Printf("spool Add:     %8.1f MB/s  (%6.1f clips/s)\n", spMBs, float64(*rounds**clips)/spTime.Seconds())
	fmt.Printf("ratio spool/dd: %.2f (target >= 0.80)\n", spMBs/ddMBs)
	fmt.Printf("ratio spool/raw: %.2f (cost of rename + dir fsync + index commit)\n", spMBs/rawMBs)
	return nil
}

// rawCopy is dd if=src of=dst bs=1M conv=fsync without the process.
func rawCopy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(out, in, buf); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
