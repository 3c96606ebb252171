package layout

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ocil-dev/ocil/lock"
)

// IngestLockFile coordinates writers with gc: every ocil command that adds blobs or
// entries holds it shared for its whole run (Session); gc holds it exclusive. It is never
// deleted.
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
	lk, err := lock.Acquire(ctx, filepath.Join(l.dir, IngestLockFile), lock.Shared, l.lockTimeout)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", l.path, err)
	}
	return func() { lk.Release() }, nil
}
