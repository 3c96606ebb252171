package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// ErrTimeout is wrapped by the error Acquire returns when its timeout elapses before the
// lock could be taken. Test for it with errors.Is.
var ErrTimeout = errors.New("lock timed out")

// Mode selects the kind of lock.
type Mode int

const (
	// Shared may be held by any number of processes at once, but not while an
	// Exclusive lock is held.
	Shared Mode = iota
	// Exclusive is held by one process at a time, and not while any Shared lock is held.
	Exclusive
)

// String returns "shared" or "exclusive".
func (m Mode) String() string {
	switch m {
	case Shared:
		return "shared"
	case Exclusive:
		return "exclusive"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// Polling backoff used by Acquire while the lock is busy.
const (
	minBackoff = time.Millisecond
	maxBackoff = 50 * time.Millisecond
)

// maxReplaced bounds how many times one attempt follows a lock file that was replaced
// between opening and locking it, so that a tool that keeps replacing the file cannot
// make an attempt spin forever.
const maxReplaced = 16

// lockFilePerm is the permission of a lock file Acquire creates (before umask).
const lockFilePerm fs.FileMode = 0o644

// testHookLocked, if set, runs after the flock on a freshly opened lock file succeeded
// and before the path is checked against the locked file.
var testHookLocked func()

// Lock is a held lock. Release it when done; the zero value is not usable.
type Lock struct {
	path string
	mode Mode

	mu sync.Mutex
	fl *flock.Flock // nil once released
}

// Acquire blocks until the lock on path is held in mode, ctx is done, or timeout
// elapses; a timeout <= 0 means no limit beyond ctx.
//
// The lock file is created if missing; its parent directory must exist. A symbolic link
// at path is never followed: it gives an error wrapping ErrSymlink. If the file is
// deleted or replaced while Acquire waits, it locks the file that path names when the
// lock is finally granted. It never deletes the lock file.
//
// On timeout the error wraps ErrTimeout; when ctx is done first it wraps ctx.Err().
// Both name the lock file and, where it can be found, the process holding it.
func Acquire(ctx context.Context, path string, mode Mode, timeout time.Duration) (*Lock, error) {
	return acquire(ctx, path, false, mode, timeout)
}

// AcquireDir is Acquire on the folder dir itself rather than on a lock file: nothing is
// created, and since a folder that holds files cannot be deleted, nobody can take the lock
// away by deleting a file. dir must be a folder, not a symbolic link to one. On Windows,
// which cannot lock a folder, it only checks dir and returns a lock that holds nothing.
// A file system that cannot flock a folder (NFS, where flock is emulated with POSIX
// locks) gives an error wrapping errors.ErrUnsupported.
func AcquireDir(ctx context.Context, dir string, mode Mode, timeout time.Duration) (*Lock, error) {
	return acquire(ctx, dir, true, mode, timeout)
}

func acquire(ctx context.Context, path string, dir bool, mode Mode, timeout time.Duration) (*Lock, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	backoff := minBackoff
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, contextError(path, err)
		}
		l, ok, err := attempt(path, dir, mode)
		if err != nil {
			return nil, err
		}
		if ok {
			return l, nil
		}

		wait := backoff
		if !deadline.IsZero() {
			remaining := time.Until(deadline)
			if remaining <= 0 {
				return nil, &timeoutError{path: path, after: timeout, holder: describeHolder(path)}
			}
			wait = min(wait, remaining)
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, contextError(path, ctx.Err())
		case <-timer.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// TryAcquire makes one attempt to take the lock on path without waiting. It returns
// (nil, false, nil) when the lock is held elsewhere in a conflicting mode.
func TryAcquire(path string, mode Mode) (*Lock, bool, error) {
	return attempt(path, false, mode)
}

// TryAcquireDir is TryAcquire on the folder dir itself (see AcquireDir).
func TryAcquireDir(dir string, mode Mode) (*Lock, bool, error) {
	return attempt(dir, true, mode)
}

// Release unlocks and closes the lock file. It never removes the file. Calling it
// again, or on a nil *Lock, does nothing and returns nil.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fl == nil {
		return nil
	}
	fl := l.fl
	l.fl = nil
	if err := fl.Unlock(); err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}

// Path returns the lock file's path as given to Acquire or TryAcquire.
func (l *Lock) Path() string { return l.path }

// Mode returns the mode the lock is held in.
func (l *Lock) Mode() Mode { return l.mode }

// attempt opens path (a lock file, or with dir a folder) and tries once to lock it in
// mode without blocking. It never follows a symbolic link at path. When the flock
// succeeds but path no longer names the locked file, it lets go and tries the file now
// at path.
func attempt(path string, dir bool, mode Mode) (*Lock, bool, error) {
	if mode != Shared && mode != Exclusive {
		return nil, false, fmt.Errorf("lock %s: invalid mode %d", path, int(mode))
	}
	flag := os.O_CREATE | os.O_RDONLY | oNoFollow
	if dir {
		flag = os.O_RDONLY | oNoFollow | oDirectory
		if !dirLocks {
			if err := checkDir(path); err != nil {
				return nil, false, err
			}
			return &Lock{path: path, mode: mode}, true, nil
		}
	}
	for range maxReplaced {
		fl := flock.New(path, flock.SetPermissions(lockFilePerm), flock.SetFlag(flag))
		var ok bool
		var err error
		if mode == Exclusive {
			ok, err = fl.TryLock()
		} else {
			ok, err = fl.TryRLock()
		}
		if err != nil {
			if lerr := checkNotSymlink(path); lerr != nil {
				return nil, false, lerr
			}
			if dir && dirLockUnsupported(err) {
				return nil, false, fmt.Errorf("lock %s: %w: the file system cannot lock a folder (%v)", path, errors.ErrUnsupported, err)
			}
			return nil, false, pathError("lock", path, err)
		}
		if !ok {
			return nil, false, nil
		}
		if testHookLocked != nil {
			testHookLocked()
		}
		same, err := stillAtPath(fl, path)
		if err != nil {
			_ = fl.Unlock()
			return nil, false, err
		}
		if same {
			return &Lock{path: path, mode: mode, fl: fl}, true, nil
		}
		if err := fl.Unlock(); err != nil {
			return nil, false, pathError("unlock", path, err)
		}
	}
	// The file was replaced under us every time: treat it as busy.
	return nil, false, nil
}

// stillAtPath reports whether path still names the file fl holds open and locked.
// A missing path means the file was deleted, which is reported as false.
func stillAtPath(fl *flock.Flock, path string) (bool, error) {
	held, err := fl.Stat()
	if err != nil {
		return false, pathError("lock", path, err)
	}
	cur, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, pathError("lock", path, err)
	}
	return os.SameFile(held, cur), nil
}

// ErrSymlink is wrapped by the error Acquire and AcquireDir return when the lock file or
// folder is a symbolic link: a lock never follows one, so a planted link cannot make a
// lock create or lock a file elsewhere.
var ErrSymlink = errors.New("is a symbolic link")

// checkNotSymlink returns an error wrapping ErrSymlink when path is a symbolic link.
func checkNotSymlink(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("lock %s: %w; a lock does not follow links", path, ErrSymlink)
	}
	return nil
}

// checkDir checks that path is a folder and not a symbolic link.
func checkDir(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return pathError("lock", path, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("lock %s: %w; a lock does not follow links", path, ErrSymlink)
	case !fi.IsDir():
		return fmt.Errorf("lock %s: not a folder", path)
	}
	return nil
}

// pathError formats err as "verb path: cause", dropping the path that an *fs.PathError
// would repeat.
func pathError(verb, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return fmt.Errorf("%s %s: %s: %w", verb, path, pe.Op, pe.Err)
	}
	return fmt.Errorf("%s %s: %w", verb, path, err)
}

// contextError reports that ctx ended while waiting for the lock on path.
func contextError(path string, err error) error {
	return fmt.Errorf("lock %s: %w%s", path, err, holderSuffix(describeHolder(path)))
}

// timeoutError is returned by Acquire when its timeout elapses.
type timeoutError struct {
	path   string
	after  time.Duration
	holder string // "held by pid ...", or empty when unknown
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("lock %s: timed out after %s%s", e.path, e.after, holderSuffix(e.holder))
}

func (e *timeoutError) Unwrap() error { return ErrTimeout }

func holderSuffix(holder string) string {
	if holder == "" {
		return ""
	}
	return " (" + holder + ")"
}
