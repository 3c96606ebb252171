package layout

import (
	"context"
	"sync"

	"github.com/ocil-dev/ocil/internal/atomicfile"
)

// syncBatch gathers the blobs that a Transfer into a layout folder writes: each is written
// to its temp file and held there, unsynced and unnamed, and the batch then syncs them all
// in parallel before renaming any onto its digest name (atomicfile.CommitAll). No fsync
// waits for the one before it, and a blob's name never shows bytes that are not on the
// disk: a crash leaves temp files (which gc removes), never a partial blob under its
// digest. index.json, which UpdateIndex writes only after the folders' sync, references
// nothing before its batch is flushed. A batch holds at most syncBatchMax open files;
// one more flushes it.
type syncBatch struct {
	l       *Layout
	mu      sync.Mutex
	pending []atomicfile.Pending
	// testHook, when set, runs before each blob is held (tests: fail after N blobs).
	testHook func(n int) error
}

// syncBatchMax bounds the files a batch keeps open.
const syncBatchMax = 256

// syncJobs is how many fsyncs a batch runs at once: they mostly wait for the disk, which
// takes several together in one journal commit.
const syncJobs = 16

type syncBatchKey struct{}

// withSyncBatch makes the blob writes into l under ctx join b (see commitBlob).
func withSyncBatch(ctx context.Context, b *syncBatch) context.Context {
	return context.WithValue(ctx, syncBatchKey{}, b)
}

// batchFor is the batch of ctx that collects the blob writes of l, or nil.
func batchFor(ctx context.Context, l *Layout) *syncBatch {
	b, _ := ctx.Value(syncBatchKey{}).(*syncBatch)
	if b == nil || b.l != l {
		return nil
	}
	return b
}

// hold takes the temp file f, to be committed as final when the batch is flushed.
func (b *syncBatch) hold(f *atomicfile.File, final string) error {
	b.mu.Lock()
	if b.testHook != nil {
		if err := b.testHook(len(b.pending)); err != nil {
			b.mu.Unlock()
			return err
		}
	}
	f.Hold()
	b.pending = append(b.pending, atomicfile.Pending{File: f, Final: final})
	var full []atomicfile.Pending
	if len(b.pending) >= syncBatchMax {
		full, b.pending = b.pending, nil
	}
	b.mu.Unlock()
	if full != nil {
		return atomicfile.CommitAll(full, 0o444, syncJobs)
	}
	return nil
}

// flush syncs and renames every held blob.
func (b *syncBatch) flush() error {
	b.mu.Lock()
	p := b.pending
	b.pending = nil
	b.mu.Unlock()
	return atomicfile.CommitAll(p, 0o444, syncJobs)
}

// discard removes every held blob.
func (b *syncBatch) discard() {
	b.mu.Lock()
	p := b.pending
	b.pending = nil
	b.mu.Unlock()
	atomicfile.DiscardAll(p)
}
