// Command uplink-bench drains N clip files to a local MinIO with the uplink package and
// uploads the same files with the AWS CLI to the same MinIO, then prints both
// throughputs and their ratio (uplink/aws; the target is >= 1.0).
//
//	bash bench/uplink/run.sh [-n 200] [-size 1048576] [-concurrency 0] [-rounds 1]
//
// MinIO comes from ~/.cache/boxfw/bin (scripts/testservers.sh) and listens on a free
// 127.0.0.1 port with a temporary data directory. The AWS CLI is /usr/bin/aws (the
// Debian awscli package), not a pyenv shim. The CLI's wall time includes its start-up,
// because that is what a per-batch `aws s3 cp --recursive` costs in practice; the
// uplink's includes its HEAD verification of every object.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/proconnect-oss/boxfw/anr"
	"github.com/proconnect-oss/boxfw/uplink"
)

const (
	accessKey = "benchuser"
	secretKey = "benchsecret123"
)

func main() {
	n := flag.Int("n", 200, "clips")
	size := flag.Int("size", 1<<20, "bytes per clip")
	conc := flag.Int("concurrency", 0, "uplink concurrency (0: the package default)")
	rounds := flag.Int("rounds", 1, "alternate uplink and aws this many times")
	minioBin := flag.String("minio", filepath.Join(os.Getenv("HOME"), ".cache", "boxfw", "bin", "minio"), "minio binary")
	awsBin := flag.String("aws", "/usr/bin/aws", "AWS CLI")
	flag.Parse()
	if err := run(*n, *size, *conc, *rounds, *minioBin, *awsBin); err != nil {
		fmt.Fprintln(os.Stderr, "uplink-bench:", err)
		os.Exit(1)
	}
}

func run(n, size, conc, rounds int, minioBin, awsBin string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tmp, err := os.MkdirTemp("", "uplink-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	endpoint, stop, err := startMinIO(ctx, minioBin, tmp)
	if err != nil {
		return err
	}
	defer stop()

	clipDir := filepath.Join(tmp, "clips")
	clips, err := makeClips(clipDir, n, size)
	if err != nil {
		return err
	}
	client, err := uplink.NewClient(ctx, uplink.ClientConfig{Endpoint: endpoint, AccessKey: accessKey, SecretKey: secretKey})
	if err != nil {
		return err
	}
	total := float64(n * size)
	fmt.Printf("uplink bench: %d clips x %d bytes = %.1f MiB to MinIO at %s\n", n, size, total/(1<<20), endpoint)
	var upBest, awsBest time.Duration
	for r := range rounds {
		bucket := fmt.Sprintf("uplink-%d", r)
		d, err := benchUplink(ctx, client, bucket, clips, conc)
		if err != nil {
			return fmt.Errorf("uplink: %w", err)
		}
		if err := countObjects(ctx, client, bucket, n); err != nil {
			return err
		}
		awsBucket := fmt.Sprintf("aws-%d", r)
		ad, err := benchAWS(ctx, awsBin, endpoint, tmp, clipDir, awsBucket, client)
		if err != nil {
			return fmt.Errorf("aws cli: %w", err)
		}
		if err := countObjects(ctx, client, awsBucket, n); err != nil {
			return err
		}
		fmt.Printf("round %d: uplink %6.2fs %7.1f MiB/s | aws cli %6.2fs %7.1f MiB/s | ratio %.2f\n", r+1,
			d.Seconds(), total/(1<<20)/d.Seconds(), ad.Seconds(), total/(1<<20)/ad.Seconds(), ad.Seconds()/d.Seconds())
		if upBest == 0 || d < upBest {
			upBest = d
		}
		if awsBest == 0 || ad < awsBest {
			awsBest = ad
		}
	}
	fmt.Printf("best: uplink %.1f MiB/s, aws cli %.1f MiB/s, ratio uplink/aws = %.2f (target >= 1.0)\n",
		total/(1<<20)/upBest.Seconds(), total/(1<<20)/awsBest.Seconds(), awsBest.Seconds()/upBest.Seconds())
	return nil
}

func benchUplink(ctx context.Context, client *s3.Client, bucket string, clips []anr.Clip, conc int) (time.Duration, error) {
	q := newQueue(clips)
	u, err := uplink.New(uplink.Options{Client: client, Bucket: bucket, Prefix: "bench", Serial: "BENCH1", Queue: q,
		Concurrency: conc, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return 0, err
	}
	if err := u.EnsureBucket(ctx); err != nil {
		return 0, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- u.Run(rctx) }()
	select {
	case <-q.done:
	case <-time.After(10 * time.Minute):
		return 0, errors.New("timed out")
	}
	d := time.Since(start)
	cancel()
	if err := <-errc; err != nil {
		return 0, err
	}
	if st := u.Stats(); st.Retries > 0 {
		fmt.Printf("  uplink retries: %d (%+v)\n", st.Retries, st.Failures)
	}
	return d, nil
}

func benchAWS(ctx context.Context, awsBin, endpoint, tmp, dir, bucket string, client *s3.Client) (time.Duration, error) {
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		return 0, err
	}
	cfg := filepath.Join(tmp, "aws-config")
	if err := os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n"), 0o600); err != nil {
		return 0, err
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") {
			env = append(env, e)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey, "AWS_CONFIG_FILE="+cfg,
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(tmp, "none"), "AWS_PAGER=")
	cmd := exec.CommandContext(ctx, awsBin, "--endpoint-url", endpoint, "s3", "cp", "--recursive", "--only-show-errors",
		"--content-type", "video/mp4", dir, "s3://"+bucket+"/aws/")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func countObjects(ctx context.Context, client *s3.Client, bucket string, want int) error {
	got := 0
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		got += len(out.Contents)
	}
	if got != want {
		return fmt.Errorf("bucket %s holds %d objects, want %d", bucket, got, want)
	}
	return nil
}

func makeClips(dir string, n, size int) ([]anr.Clip, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	buf := make([]byte, size)
	clips := make([]anr.Clip, n)
	for i := range n {
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		id := fmt.Sprintf("clip%04d", i)
		p := filepath.Join(dir, id+".mp4")
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(buf)
		t := start.Add(time.Duration(i) * 30 * time.Second)
		clips[i] = anr.Clip{ID: id, Channel: 1 + i%8, EventTypes: []string{"VMD"}, Start: t, End: t.Add(20 * time.Second),
			Size: int64(size), SHA256: hex.EncodeToString(sum[:]), Path: p, State: anr.StatePending, Created: t}
	}
	return clips, nil
}

// queue is a minimal in-memory spool for the bench: oldest first, done closes when
// every clip is uploaded.
type queue struct {
	mu      sync.Mutex
	pending []anr.Clip
	left    int
	ready   chan struct{}
	done    chan struct{}
}

func newQueue(clips []anr.Clip) *queue {
	q := &queue{pending: append([]anr.Clip(nil), clips...), left: len(clips), ready: make(chan struct{}), done: make(chan struct{})}
	return q
}

func (q *queue) Next(ctx context.Context) (anr.Clip, error) {
	for {
		q.mu.Lock()
		if len(q.pending) > 0 {
			c := q.pending[0]
			q.pending = q.pending[1:]
			q.mu.Unlock()
			return c, nil
		}
		ready := q.ready
		q.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return anr.Clip{}, ctx.Err()
		}
	}
}

func (q *queue) Uploaded(id, key string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.left--
	if q.left == 0 {
		close(q.done)
	}
	return nil
}

func (q *queue) Release(id string, cause error) error {
	return fmt.Errorf("bench queue: release %s not expected: %w", id, cause)
}

func (q *queue) Multipart(string) (anr.Multipart, bool, error) { return anr.Multipart{}, false, nil }
func (q *queue) SaveMultipart(string, anr.Multipart) error     { return nil }
func (q *queue) ClearMultipart(string) error                   { return nil }

func startMinIO(ctx context.Context, bin, tmp string) (string, func(), error) {
	if _, err := os.Stat(bin); err != nil {
		return "", nil, fmt.Errorf("minio not built (run `bash scripts/testservers.sh`): %w", err)
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	console, err := freePort()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "server", "--quiet", "--address", fmt.Sprintf("127.0.0.1:%d", port),
		"--console-address", fmt.Sprintf("127.0.0.1:%d", console), filepath.Join(tmp, "minio"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+accessKey, "MINIO_ROOT_PASSWORD="+secretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return endpoint, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("minio not ready at %s", endpoint)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
