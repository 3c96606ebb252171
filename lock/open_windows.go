//go:build windows

package lock

// Windows has no O_NOFOLLOW or O_DIRECTORY; CreateFile does not follow a symbolic link
// that names a lock file any further than the one level the path names.
const (
	oNoFollow  = 0
	oDirectory = 0
)

// dirLocks says whether AcquireDir locks the folder itself on this platform: LockFileEx
// does not lock folders, so on Windows AcquireDir only checks the folder and returns a
// lock that holds nothing.
const dirLocks = false

// dirLockUnsupported is never asked on Windows, where folders are not locked.
func dirLockUnsupported(error) bool { return false }
