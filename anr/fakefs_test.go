package anr

import (
	"path/filepath"
	"strings"
	"sync"
)

// faultFS wraps the real filesystem, records the durable steps in order and can
// fail any of them: the hand-written fake the durability tests drive.
type faultFS struct {
	osFS
	mu  sync.Mutex
	ops []string
	// fail returns the error to inject for op ("create", "write", "sync",
	// "close", "rename", "syncdir", "remove", "open") on path, or nil.
	fail func(op, path string) error
	// onSyncDir runs before a directory fsync (to inspect the index mid-Add).
	onSyncDir func(dir string)
	free      func() (int64, error)
}

func (f *faultFS) record(op, path string) error {
	f.mu.Lock()
	f.ops = append(f.ops, op+" "+filepath.Base(path))
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		return fail(op, path)
	}
	return nil
}

func (f *faultFS) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

func (f *faultFS) Create(path string) (file, error) {
	if err := f.record("create", path); err != nil {
		return nil, err
	}
	fl, err := f.osFS.Create(path)
	if err != nil {
		return nil, err
	}
	return &faultFile{file: fl, fs: f, path: path}, nil
}

func (f *faultFS) Open(path string) (file, error) {
	if err := f.record("open", path); err != nil {
		return nil, err
	}
	fl, err := f.osFS.Open(path)
	if err != nil {
		return nil, err
	}
	return &faultFile{file: fl, fs: f, path: path}, nil
}

func (f *faultFS) Rename(o, n string) error {
	if err := f.record("rename", o); err != nil {
		return err
	}
	return f.osFS.Rename(o, n)
}

func (f *faultFS) Remove(path string) error {
	if err := f.record("remove", path); err != nil {
		return err
	}
	return f.osFS.Remove(path)
}

func (f *faultFS) SyncDir(dir string) error {
	if f.onSyncDir != nil {
		f.onSyncDir(dir)
	}
	if err := f.record("syncdir", dir); err != nil {
		return err
	}
	return f.osFS.SyncDir(dir)
}

func (f *faultFS) FreeBytes(dir string) (int64, error) {
	if f.free != nil {
		return f.free()
	}
	return f.osFS.FreeBytes(dir)
}

type faultFile struct {
	file
	fs    *faultFS
	path  string
	wrote bool
}

func (f *faultFile) Write(p []byte) (int, error) {
	if !f.wrote { // record the first write only: the order matters, not the count
		f.wrote = true
		if err := f.fs.record("write", f.path); err != nil {
			return 0, err
		}
	} else if f.fs.fail != nil {
		if err := f.fs.fail("write", f.path); err != nil {
			return 0, err
		}
	}
	return f.file.Write(p)
}

func (f *faultFile) Sync() error {
	if err := f.fs.record("sync", f.path); err != nil {
		return err
	}
	return f.file.Sync()
}

func (f *faultFile) Close() error {
	if err := f.fs.record("close", f.path); err != nil {
		_ = f.file.Close()
		return err
	}
	return f.file.Close()
}

// opNames strips file names that vary (IDs) to make op sequences comparable.
func opNames(ops []string) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		name, path, _ := strings.Cut(o, " ")
		switch {
		case strings.HasSuffix(path, tmpExt):
			path = "<tmp>"
		case strings.HasSuffix(path, clipExt):
			path = "<clip>"
		}
		out[i] = name + " " + path
	}
	return out
}
