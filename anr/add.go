package anr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"go.etcd.io/bbolt"
)

// Add stores the clip read from r and returns once it is durable: data fsynced under
// a temporary name, renamed to its final name (which carries the metadata), the
// directory fsynced, and the record committed. Nothing is acknowledged earlier, and
// on any error nothing of this clip is left behind (see doc.go, "Durability").
// It may then evict older clips to honour the budget (see doc.go, "Eviction").
func (s *Spool) Add(ctx context.Context, meta ClipMeta, r io.Reader) (Clip, error) {
	meta, err := meta.normalize()
	if err != nil {
		return Clip{}, err
	}
	if err := s.makeRoom(0); err != nil {
		return Clip{}, err
	}
	id := newID(s.now())
	final := s.clipPath(id, meta)
	size, sum, err := s.writeDurable(ctx, id, r, final)
	if err != nil {
		return Clip{}, err
	}
	return s.index(id, meta, size, sum, final, s.discard)
}

// AddFile is Add for a finished file, which it takes over: on the same filesystem
// the file is hashed and fsynced in place, then renamed into the spool (no copy);
// across filesystems it is copied like Add and the source removed after the commit.
// On error the source is left where it was.
func (s *Spool) AddFile(ctx context.Context, meta ClipMeta, src string) (Clip, error) {
	meta, err := meta.normalize()
	if err != nil {
		return Clip{}, err
	}
	info, err := os.Stat(src)
	if err != nil {
		return Clip{}, fmt.Errorf("anr: add %s: %w", src, err)
	}
	if !info.Mode().IsRegular() {
		return Clip{}, fmt.Errorf("anr: add %s: not a regular file", src)
	}
	if s.opts.MaxBytes > 0 && info.Size() > s.opts.MaxBytes {
		return Clip{}, fmt.Errorf("%w: %s is %d bytes, budget %d", ErrClipTooLarge, src, info.Size(), s.opts.MaxBytes)
	}
	if err := s.makeRoom(info.Size()); err != nil {
		return Clip{}, err
	}
	id := newID(s.now())
	final := s.clipPath(id, meta)
	if !sameDevice(info, s.clipsDir) {
		return s.addCopy(ctx, id, meta, src, final)
	}
	size, sum, err := s.hashAndSync(ctx, src)
	if err != nil {
		return Clip{}, err
	}
	err = s.fs.Rename(src, final)
	if errors.Is(err, syscall.EXDEV) { // e.g. a bind mount of the same device
		return s.addCopy(ctx, id, meta, src, final)
	}
	if err != nil {
		return Clip{}, classify("rename", src, err)
	}
	// Only clips/ is fsynced: if the source's old name survives a power cut too,
	// the caller re-adds a duplicate, which is uploaded twice under two IDs: a cost,
	// never a loss, and not worth a second directory fsync on every clip.
	if err := s.fs.SyncDir(s.clipsDir); err != nil {
		// Not durable, so not accepted: give the file back to the caller.
		if rerr := s.fs.Rename(final, src); rerr != nil {
			s.log.Error("cannot return file after failed dir sync; it will be re-indexed at next Open",
				"path", final, "err", rerr)
		}
		return Clip{}, classify("fsync dir", s.clipsDir, err)
	}
	return s.index(id, meta, size, sum, final, func(path string) {
		if err := s.fs.Rename(path, src); err != nil {
			s.log.Error("cannot return file after failed commit; it will be re-indexed at next Open",
				"path", path, "src", src, "err", err)
		}
	})
}

func (s *Spool) addCopy(ctx context.Context, id string, meta ClipMeta, src, final string) (Clip, error) {
	f, err := os.Open(src)
	if err != nil {
		return Clip{}, fmt.Errorf("anr: add %s: %w", src, err)
	}
	defer f.Close()
	size, sum, err := s.writeDurable(ctx, id, f, final)
	if err != nil {
		return Clip{}, err
	}
	c, err := s.index(id, meta, size, sum, final, s.discard)
	if err != nil {
		return Clip{}, err
	}
	if err := os.Remove(src); err != nil {
		s.log.Warn("clip copied into the spool but its source could not be removed", "src", src, "err", err)
	}
	return c, nil
}

// writeDurable copies r into <id>.mp4.tmp while hashing, fsyncs it and renames it to
// final, then fsyncs the directory. On error the temporary (or final) file is removed.
func (s *Spool) writeDurable(ctx context.Context, id string, r io.Reader, final string) (size int64, sum string, err error) {
	tmp := filepath.Join(s.clipsDir, id+tmpExt)
	f, err := s.fs.Create(tmp)
	if err != nil {
		return 0, "", classify("create", tmp, err)
	}
	defer func() {
		if err != nil {
			if rerr := s.fs.Remove(tmp); rerr != nil && !os.IsNotExist(rerr) {
				s.log.Warn("cannot remove temporary file; removed at next Open", "path", tmp, "err", rerr)
			}
		}
	}()
	p := newHashPipe(s.chunks)
	defer p.close()
	size, err = s.copy(ctx, f, p, r)
	if err == nil {
		if err = f.Sync(); err != nil {
			err = classify("fsync", tmp, err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = classify("close", tmp, cerr)
	}
	if err != nil {
		return 0, "", err
	}
	if err = s.fs.Rename(tmp, final); err != nil {
		return 0, "", classify("rename", tmp, err)
	}
	if err = s.fs.SyncDir(s.clipsDir); err != nil {
		if rerr := s.fs.Remove(final); rerr != nil {
			s.log.Warn("cannot remove unacknowledged clip; re-indexed at next Open", "path", final, "err", rerr)
		}
		return 0, "", classify("fsync dir", s.clipsDir, err)
	}
	return size, p.sum(), nil
}

// copy streams r into dst, hashing on the side (see hashPipe). The caller calls
// p.sum() after its fsync, so the tail of the hashing overlaps the fsync too, and
// p.close() on every path.
func (s *Spool) copy(ctx context.Context, dst io.Writer, p *hashPipe, r io.Reader) (int64, error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("anr: add: %w", err)
		}
		buf := p.buffer()
		k, rerr := io.ReadFull(r, buf)
		if k == 0 {
			p.unused(buf)
		} else {
			n += int64(k)
			if s.opts.MaxBytes > 0 && n > s.opts.MaxBytes {
				p.unused(buf)
				return n, fmt.Errorf("%w: more than %d bytes", ErrClipTooLarge, s.opts.MaxBytes)
			}
			if _, err := dst.Write(buf[:k]); err != nil {
				p.unused(buf)
				return n, classify("write", "clip", err)
			}
			p.hash(buf[:k])
		}
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			return n, nil
		case rerr != nil:
			return n, fmt.Errorf("anr: add: read source: %w", rerr)
		}
	}
}

// hashAndSync reads src to compute its size and checksum and fsyncs it, so that the
// rename into the spool publishes data that is already on disk.
func (s *Spool) hashAndSync(ctx context.Context, src string) (int64, string, error) {
	f, err := s.fs.Open(src)
	if err != nil {
		return 0, "", fmt.Errorf("anr: add %s: %w", src, err)
	}
	defer f.Close()
	p := newHashPipe(s.chunks)
	defer p.close()
	n, err := s.copy(ctx, io.Discard, p, f)
	if err != nil {
		return 0, "", err
	}
	if err := f.Sync(); err != nil {
		return 0, "", classify("fsync", src, err)
	}
	return n, p.sum(), nil
}

// index commits the record of a durable clip file, then enforces the budget. If the
// commit fails, undo disposes of the file (removed for Add, handed back for
// AddFile): the caller is told "not stored" and nothing is left half-stored.
func (s *Spool) index(id string, meta ClipMeta, size int64, sum, path string, undo func(path string)) (Clip, error) {
	c := &Clip{
		ID: id, Channel: meta.Channel, EventTypes: meta.EventTypes, Start: meta.Start, End: meta.End,
		Size: size, SHA256: sum, Path: path, State: StatePending, Created: s.now().UTC(),
	}
	s.mu.Lock()
	err := ErrClosed
	if !s.closed {
		err = s.commit(func(tx *bbolt.Tx, _ counterDelta) error { return putClip(tx, c) })
	}
	if err != nil {
		s.mu.Unlock()
		undo(path)
		return Clip{}, fmt.Errorf("anr: record clip %s: %w", id, err)
	}
	s.live[id] = c
	s.used += size
	s.broadcast()
	drops := s.enforce(id, 0)
	out := c.clone()
	s.mu.Unlock()
	s.report(drops)
	return out, nil
}

// discard removes an unacknowledged clip file. If that fails too, Open re-indexes
// it later: an extra upload, never a loss.
func (s *Spool) discard(path string) {
	if err := s.fs.Remove(path); err != nil && !os.IsNotExist(err) {
		s.log.Warn("cannot remove unacknowledged clip; re-indexed at next Open", "path", path, "err", err)
	}
}

// makeRoom evicts before a write when free space is already short of the reserve
// (plus the incoming size when known), to avoid hitting ENOSPC mid-write.
func (s *Spool) makeRoom(incoming int64) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	var drops []Drop
	if s.opts.MinFreeBytes > 0 {
		drops = s.enforce("", incoming)
	}
	s.mu.Unlock()
	s.report(drops)
	return nil
}

// sameDevice reports whether a rename from info's file into dir can work. When in
// doubt it says yes: the rename then fails with EXDEV and AddFile copies.
func sameDevice(info os.FileInfo, dir string) bool {
	di, err := os.Stat(dir)
	if err != nil {
		return true
	}
	a, ok1 := info.Sys().(*syscall.Stat_t)
	b, ok2 := di.Sys().(*syscall.Stat_t)
	return !ok1 || !ok2 || a.Dev == b.Dev
}
