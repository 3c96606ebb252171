// Package lock provides cross-process advisory file locks, used by ocil to guard
// updates to an OCI image layout.
//
// # What is locked
//
// A writer that rewrites a layout's index.json (read it, change it, write it back) holds
// an Exclusive lock on the layout folder itself (AcquireDir) and on
// <layout>/index.json.lock for the whole read-modify-write, so two ocil processes cannot
// lose each other's updates, even when another tool deletes the lock file meanwhile.
// BuildKit locks the same file, with the same kind of lock, when it reads or updates a
// layout's index.json, so ocil and BuildKit working on one layout exclude each other too.
// Readers take no lock. ocil's writers also hold a Shared lock on <layout>/ocil-ingest.lock
// from their first blob to their index.json change, and gc an Exclusive one, so gc never
// sees a blob that a writer has written but not yet referenced; a layout tarball's
// writers hold <tarball>.lock exclusively while they rewrite it. Any number of Shared
// holders may coexist; an Exclusive holder excludes everyone else.
//
// # Semantics
//
// The locks are flock(2) locks (LockFileEx on Windows), taken through
// github.com/gofrs/flock. They are advisory: they only bind processes that take them,
// and do not stop anyone from reading or writing index.json itself.
//
// A lock belongs to an open file, not to a process or goroutine. Every Acquire opens
// its own descriptor, so two Locks on the same path in one process exclude each other
// exactly as if they were in different processes: a process that holds a lock and
// asks for a conflicting one waits for itself until the timeout. There is no upgrade
// from Shared to Exclusive; release and acquire again.
//
// The kernel drops the lock when the descriptor is closed, which happens when the
// holder calls Release or exits for any reason, including SIGKILL or a crash. There is
// therefore no stale lock to clean up and no PID file. The descriptor is
// close-on-exec, so programs started by the holder do not keep the lock alive.
//
// # The lock file
//
// Acquire creates the lock file (mode 0644 before umask) if it is missing; the
// directory that holds it must already exist. Its contents are never read or written.
// It is opened with O_NOFOLLOW: a symbolic link at the path is refused (ErrSymlink),
// so a planted link, dangling or not, never makes Acquire create or lock a file elsewhere.
// This package never deletes the lock file: if it did, a process that opened the old
// file and a process that created a new one could both believe they hold the lock.
// Other tools do delete it (BuildKit removes it after each use), so Acquire checks,
// once it holds the lock, that the path still names the file it locked (os.SameFile on
// the open file and the path), and if not it lets go and locks the file now at the path
// instead.
//
// # Folder locks
//
// AcquireDir and TryAcquireDir lock a folder in place, through a descriptor opened on
// the folder (O_DIRECTORY, O_NOFOLLOW), with the same modes and waiting as Acquire.
// Nothing is created. Unlike a lock file, a folder that holds files cannot be deleted
// from under its holders, so a folder lock cannot be lost that way; ocil locks the
// layout folder and its blobs/ folder beside the lock files for this reason. Windows
// cannot lock a folder: there AcquireDir only checks that the path is a folder and
// returns a lock that holds nothing. NFS cannot either (its flock emulation needs a
// descriptor open for writing): there AcquireDir returns an error wrapping
// errors.ErrUnsupported, and ocil falls back to the lock files alone.
//
// # Waiting
//
// Acquire polls with a short, growing backoff (1ms up to 50ms), so it can honour both
// its context and its timeout. When the timeout elapses the error wraps ErrTimeout and
// names the lock file; on Linux it also names the process(es) holding the lock, found
// in /proc/locks, for example:
//
//	lock /data/layout/index.json.lock: timed out after 5s (held by pid 1234: ocil merge -o out:1 a b)
//
// If the holder cannot be determined (another platform, another PID namespace, a lock
// taken on another NFS client) the parenthesis is left out.
//
// # Network file systems
//
// On NFS, Linux emulates flock with POSIX byte-range locks handled by the NFS lock
// manager; they work across clients only when that service is available and healthy,
// and a lock held by a process on another machine is never shown as the holder. Some
// other network or FUSE file systems accept flock without enforcing it between
// machines. Keep a layout that several hosts write concurrently on storage known to
// honour locks, or coordinate those writers by other means.
package lock
