package uplink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/proconnect-oss/boxfw/anr"
)

// multipart uploads a large clip part by part, saving the upload's state in the queue
// before each step can be lost, so a later attempt (even after a restart) continues the
// same UploadId.
func (u *Uploader) multipart(ctx context.Context, c anr.Clip, key string, f *os.File) (Result, error) {
	q := u.o.Queue
	if q == nil {
		return Result{}, fmt.Errorf("%w: multipart needs a Queue for its state", ErrInvalidOptions)
	}
	// Metadata says sha256 = the spool's digest; for multipart no request carries the
	// whole-file hash, so check the file against it before the claim is made.
	if err := hashFile(f, c); err != nil {
		return Result{}, err
	}
	res := Result{Key: key, Size: c.Size, Multipart: true}
	m, found, err := q.Multipart(c.ID)
	if err != nil {
		return Result{}, fmt.Errorf("uplink: load multipart state of %s: %w", c.ID, err)
	}
	if found && (m.Key != key || m.UploadID == "" || m.PartSize < MinPartSize) {
		// Saved for another key (a conflict suffix, a changed prefix): not ours to continue.
		u.abort(ctx, m.Key, m.UploadID)
		if err := q.ClearMultipart(c.ID); err != nil {
			return Result{}, fmt.Errorf("uplink: clear multipart state of %s: %w", c.ID, err)
		}
		found = false
	}
	if found {
		m, err = u.reconcile(ctx, c, m)
		switch {
		case isNoSuchUpload(err):
			// Completed by an attempt whose success we never recorded, or aborted (expired,
			// AbortStale). The HEAD below tells which; otherwise start over.
			u.log.Warn("saved multipart upload is gone, starting over", "clip", c.ID, "key", key, "upload_id", m.UploadID)
			u.count(func(s *Stats) { s.Restarted++ })
			if err := q.ClearMultipart(c.ID); err != nil {
				return Result{}, fmt.Errorf("uplink: clear multipart state of %s: %w", c.ID, err)
			}
			found = false
		case err != nil:
			return Result{}, err
		default:
			res.Resumed = true
			u.count(func(s *Stats) { s.Resumed++ })
			u.log.Info("resuming multipart upload", "clip", c.ID, "key", key, "upload_id", m.UploadID, "parts_done", len(m.Parts))
		}
	}
	if !found {
		same, exists, err := u.present(ctx, c, key)
		switch {
		case err != nil:
			return Result{}, err
		case exists && same:
			res.AlreadyPresent = true
			return res, nil
		case exists:
			return Result{}, fmt.Errorf("%w: %s", ErrConflict, key)
		}
		if m, err = u.create(ctx, c, key); err != nil {
			return Result{}, err
		}
	}
	if err := u.uploadParts(ctx, c, f, &m); err != nil {
		return Result{}, err
	}
	if err := u.complete(ctx, c, m); err != nil {
		return Result{}, err
	}
	if err := u.verify(ctx, c, key, ErrVerify); err != nil {
		return Result{}, err
	}
	if err := q.ClearMultipart(c.ID); err != nil {
		// The object is confirmed; stale state only costs a HEAD on a later attempt.
		u.log.Warn("clear multipart state", "clip", c.ID, "err", err)
	}
	return res, nil
}

func (u *Uploader) create(ctx context.Context, c anr.Clip, key string) (anr.Multipart, error) {
	rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(0))
	defer cancel()
	out, err := u.o.Client.CreateMultipartUpload(rctx, &s3.CreateMultipartUploadInput{
		Bucket: &u.o.Bucket, Key: &key, ContentType: aws.String("video/mp4"), Metadata: metadata(c),
	})
	if err != nil {
		return anr.Multipart{}, fmt.Errorf("uplink: create multipart %s: %w", key, err)
	}
	m := anr.Multipart{Key: key, UploadID: aws.ToString(out.UploadId), PartSize: u.partSize(c.Size),
		Parts: []anr.Part{}, Started: u.o.Clock.Now().UTC()}
	// Durable before any part is sent: an UploadId we lose is storage we pay for and
	// can only find again with AbortStale.
	if err := u.o.Queue.SaveMultipart(c.ID, m); err != nil {
		u.abort(ctx, key, m.UploadID)
		return anr.Multipart{}, fmt.Errorf("uplink: save multipart state of %s: %w", c.ID, err)
	}
	return m, nil
}

// partSize keeps to the configured size unless the clip would need more parts than S3
// allows.
func (u *Uploader) partSize(size int64) int64 {
	ps := u.o.PartSize
	for (size+ps-1)/ps > maxParts {
		ps *= 2
	}
	return ps
}

// reconcile replaces the saved part list by the server's (the truth: a part may have
// landed after the last save, or the save may have landed and not the part), keeping
// only parts of the expected size.
func (u *Uploader) reconcile(ctx context.Context, c anr.Clip, m anr.Multipart) (anr.Multipart, error) {
	var parts []anr.Part
	p := s3.NewListPartsPaginator(u.o.Client, &s3.ListPartsInput{Bucket: &u.o.Bucket, Key: &m.Key, UploadId: &m.UploadID})
	for p.HasMorePages() {
		rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(0))
		out, err := p.NextPage(rctx)
		cancel()
		if err != nil {
			return m, fmt.Errorf("uplink: list parts %s: %w", m.Key, err)
		}
		for _, sp := range out.Parts {
			n := aws.ToInt32(sp.PartNumber)
			size := aws.ToInt64(sp.Size)
			if want := expectedPartSize(c.Size, m.PartSize, n); want != size {
				u.log.Warn("server part has unexpected size, re-uploading", "clip", c.ID, "part", n, "size", size, "want", want)
				continue
			}
			parts = append(parts, anr.Part{Number: n, ETag: aws.ToString(sp.ETag), Size: size})
		}
	}
	m.Parts = parts
	if err := u.o.Queue.SaveMultipart(c.ID, m); err != nil {
		return m, fmt.Errorf("uplink: save multipart state of %s: %w", c.ID, err)
	}
	return m, nil
}

// expectedPartSize is part n's size (1-based) in a file of size bytes, or -1 if the
// file has no such part.
func expectedPartSize(size, partSize int64, n int32) int64 {
	off := int64(n-1) * partSize
	if n < 1 || off >= size {
		return -1
	}
	return min(partSize, size-off)
}

func (u *Uploader) uploadParts(ctx context.Context, c anr.Clip, f *os.File, m *anr.Multipart) error {
	done := map[int32]bool{}
	for _, p := range m.Parts {
		done[p.Number] = true
	}
	total := int32((c.Size + m.PartSize - 1) / m.PartSize)
	for n := int32(1); n <= total; n++ {
		if done[n] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		size := expectedPartSize(c.Size, m.PartSize, n)
		sec := io.NewSectionReader(f, int64(n-1)*m.PartSize, size)
		// Hash the part ourselves so the SDK does not read it through the bandwidth cap
		// and the throughput meter a second time.
		h := sha256.New()
		if _, err := io.Copy(h, sec); err != nil {
			return fmt.Errorf("%w: clip %s part %d: %w", ErrClipUnreadable, c.ID, n, err)
		}
		if _, err := sec.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("%w: clip %s part %d: %w", ErrClipUnreadable, c.ID, n, err)
		}
		rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(size))
		out, err := u.o.Client.UploadPart(rctx, &s3.UploadPartInput{
			Bucket: &u.o.Bucket, Key: &m.Key, UploadId: &m.UploadID, PartNumber: aws.Int32(n),
			Body: u.body(rctx, sec), ContentLength: aws.Int64(size),
		}, withPayloadHash(hex.EncodeToString(h.Sum(nil))))
		cancel()
		if err != nil {
			return fmt.Errorf("uplink: upload part %d of %s: %w", n, m.Key, err)
		}
		m.Parts = append(m.Parts, anr.Part{Number: n, ETag: aws.ToString(out.ETag), Size: size})
		if err := u.o.Queue.SaveMultipart(c.ID, *m); err != nil {
			return fmt.Errorf("uplink: save multipart state of %s: %w", c.ID, err)
		}
	}
	return nil
}

func (u *Uploader) complete(ctx context.Context, c anr.Clip, m anr.Multipart) error {
	parts := slices.Clone(m.Parts)
	slices.SortFunc(parts, func(a, b anr.Part) int { return int(a.Number - b.Number) })
	cp := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		cp[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(p.ETag)}
	}
	// Completing assembles the object server-side, which takes time for big files.
	rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(c.Size/8))
	defer cancel()
	_, err := u.o.Client.CompleteMultipartUpload(rctx, &s3.CompleteMultipartUploadInput{
		Bucket: &u.o.Bucket, Key: &m.Key, UploadId: &m.UploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cp},
		// Create only, like the single PUT: an object that appeared under the key while
		// this upload was in progress is never replaced.
		IfNoneMatch: aws.String("*"),
	})
	if err == nil {
		return nil
	}
	if isPreconditionFailed(err) {
		u.abort(ctx, m.Key, m.UploadID)
		if cerr := u.o.Queue.ClearMultipart(c.ID); cerr != nil {
			u.log.Warn("clear multipart state", "clip", c.ID, "err", cerr)
		}
		return u.verify(ctx, c, m.Key, ErrConflict) // same content: done
	}
	if isNoSuchUpload(err) {
		// An earlier Complete may have succeeded without us hearing back.
		if same, found, herr := u.present(ctx, c, m.Key); herr == nil && found && same {
			return nil
		}
	}
	if cls := errorCode(err); cls == "InvalidPart" || cls == "InvalidPartOrder" || isNoSuchUpload(err) {
		// The saved part list cannot be completed: start over on the next attempt.
		u.abort(ctx, m.Key, m.UploadID)
		if cerr := u.o.Queue.ClearMultipart(c.ID); cerr != nil {
			u.log.Warn("clear multipart state", "clip", c.ID, "err", cerr)
		}
	}
	return fmt.Errorf("uplink: complete multipart %s: %w", m.Key, err)
}

// abort is best effort: AbortStale catches what it misses.
func (u *Uploader) abort(ctx context.Context, key, uploadID string) {
	if key == "" || uploadID == "" {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(0))
	defer cancel()
	if _, err := u.o.Client.AbortMultipartUpload(rctx, &s3.AbortMultipartUploadInput{
		Bucket: &u.o.Bucket, Key: &key, UploadId: &uploadID}); err != nil && !isNoSuchUpload(err) {
		u.log.Warn("abort multipart upload", "key", key, "upload_id", uploadID, "err", err)
	}
}

func hashFile(f *os.File, c anr.Clip) error {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, c.Size)); err != nil {
		return fmt.Errorf("%w: clip %s: %w", ErrClipUnreadable, c.ID, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !equalFoldHex(got, c.SHA256) {
		return fmt.Errorf("%w: clip %s: file sha256 %s, spool recorded %s", ErrClipUnreadable, c.ID, got, c.SHA256)
	}
	return nil
}

func equalFoldHex(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// AbortStale aborts this box's multipart uploads (under "<prefix>/<serial>/") that
// started more than olderThan ago and that inUse does not claim (pass a func that
// looks the key and UploadId up in the spool's pending clips; nil claims none). It
// returns how many it aborted.
func (u *Uploader) AbortStale(ctx context.Context, olderThan time.Duration, inUse func(key, uploadID string) bool) (int, error) {
	prefix := boxPrefix(u.o.Prefix, u.o.Serial)
	cutoff := u.o.Clock.Now().Add(-olderThan)
	// No Prefix in the request: MinIO treats it as an exact object name and lists
	// nothing for a folder-like prefix. Uploads in progress are few, so filtering here
	// costs little on AWS too.
	in := &s3.ListMultipartUploadsInput{Bucket: &u.o.Bucket}
	aborted := 0
	for {
		rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(0))
		out, err := u.o.Client.ListMultipartUploads(rctx, in)
		cancel()
		if err != nil {
			return aborted, fmt.Errorf("uplink: list multipart uploads: %w", err)
		}
		for _, up := range out.Uploads {
			key, id := aws.ToString(up.Key), aws.ToString(up.UploadId)
			if !strings.HasPrefix(key, prefix) || up.Initiated == nil || !up.Initiated.Before(cutoff) ||
				(inUse != nil && inUse(key, id)) {
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, u.requestTimeout(0))
			_, err := u.o.Client.AbortMultipartUpload(rctx, &s3.AbortMultipartUploadInput{Bucket: &u.o.Bucket, Key: &key, UploadId: &id})
			cancel()
			if err != nil && !isNoSuchUpload(err) {
				return aborted, fmt.Errorf("uplink: abort %s %s: %w", key, id, err)
			}
			u.log.Info("aborted stale multipart upload", "key", key, "upload_id", id, "initiated", *up.Initiated)
			aborted++
		}
		if !aws.ToBool(out.IsTruncated) {
			return aborted, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}
