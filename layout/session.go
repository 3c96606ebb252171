package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ocil-dev/ocil/lock"
)

// IngestLockFile coordinates writers with gc: every ocil command that adds blobs or
// entries holds it shared for its whole run (Session); gc holds it exclusive. It is never
// deleted. The blobs/ folder is locked the same way alongside it (see lockIngest).
const IngestLockFile = "ocil-ingest.lock"

// Session marks the start of a write to the layout: blobs written from now until end is
// called will not be taken for garbage by a concurrent GC, even before index.json
// references them. Sessions of several writers run side by side (a shared lock); a GC
// waits for them to end and holds new ones off while it runs, which is short. end is
// safe to call more than once.
func (l *Layout) Session(ctx context.Context) (end func(), err error) {
	if l.dir == "" {
		return nil, fmt.Errorf("write %s: %w", l.path, ErrReadOnly)
	}
	release, err := l.lockIngest(ctx, lock.Shared)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", l.path, err)
	}
	return release, nil
}

// lockIngest takes the ingest lock in mode: the blobs/ folder itself (created if missing;
// a symbolic link is refused), then IngestLockFile. The folder lock is what makes the
// protocol survive a deleted lock file: a writer and a gc that each locked a different
// IngestLockFile still meet on the folder. The file is kept for ocil versions that lock
// only it. Both waits together take at most the lock timeout.
func (l *Layout) lockIngest(ctx context.Context, mode lock.Mode) (release func(), err error) {
	blobs := filepath.Join(l.dir, BlobsDir)
	// A blobs/ that is a symbolic link is neither locked nor written through: the same
	// refusal (ErrUnsafeFile, naming it and its target) readers and gc give.
	if fi, err := os.Lstat(blobs); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(blobs)
		e := &UnsafeFileError{Path: BlobsDir, Link: target, Dir: l.dir}
		if resolved, err := filepath.EvalSymlinks(blobs); err == nil {
			e.Resolved = resolved
			if root, err := filepath.EvalSymlinks(l.dir); err == nil {
				rel, err := filepath.Rel(root, resolved)
				e.Inside = err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
			}
		}
		return nil, e
	}
	if err := os.Mkdir(blobs, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return l.lockPair(ctx, blobs, filepath.Join(l.dir, IngestLockFile), mode)
}

// lockIndex takes the index lock: the layout folder itself, then LockFile (which is what
// buildkit locks), both exclusively, waiting at most the lock timeout in all.
func (l *Layout) lockIndex(ctx context.Context) (release func(), err error) {
	return l.lockPair(ctx, l.dir, filepath.Join(l.dir, LockFile), lock.Exclusive)
}

// lockPair locks the folder dir in place and then the lock file file, in mode. Every
// ocil writer takes them in this order, so two of them cannot wait for each other.
func (l *Layout) lockPair(ctx context.Context, dir, file string, mode lock.Mode) (release func(), err error) {
	start := time.Now()
	dl, err := lock.AcquireDir(ctx, dir, mode, l.lockTimeout)
	if errors.Is(err, errors.ErrUnsupported) {
		// A file system that cannot lock folders (NFS): the lock file alone, as before.
		dl, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	timeout := l.lockTimeout
	if timeout > 0 {
		// What is left of the timeout, but never zero or less, which would mean no limit.
		timeout = max(timeout-time.Since(start), time.Millisecond)
	}
	fl, err := lock.Acquire(ctx, file, mode, timeout)
	if err != nil {
		dl.Release()
		return nil, err
	}
	return func() {
		fl.Release()
		dl.Release()
	}, nil
}
