package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"

	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout"
)

// hashBufferSize is the read size while hashing: large enough that reads cost little
// beside the hashing, small enough for several workers.
const hashBufferSize = 1 << 20

// checkBlobs checks every reachable blob: present, of the size every descriptor gives,
// and, unless Options.Fast, hashing to its digest. Blobs are hashed by Options.Jobs
// workers at once, each byte once: indexes and manifests were hashed when they were read.
func (v *validator) checkBlobs(ctx context.Context, names []digest.Digest) {
	var work []*blob
	left := map[digest.Digest]int64{}
	if v.delta != nil {
		for _, d := range v.delta.Blobs {
			left[d.Digest] = d.Size
		}
	}
	var leftOut int
	var leftBytes int64
	for _, b := range v.order {
		if !v.blobInside(b.digest) {
			continue // blob.symlink says why
		}
		size := b.statSize
		if !b.statted {
			p, _ := layout.BlobPath(b.digest)
			fi, err := fs.Stat(v.src.fsys, p)
			switch {
			case errors.Is(err, fs.ErrNotExist) && v.isLeftOut(b, left):
				leftOut++
				leftBytes += left[b.digest]
				continue
			case errors.Is(err, fs.ErrNotExist) && b.external:
				v.add(checkBlobMissingExternal, string(b.digest), "the %s listed at %s is not in the layout; it has urls or is non-distributable, so a registry may fetch it from elsewhere", b.kind, b.where)
				continue
			case errors.Is(err, fs.ErrNotExist):
				v.add(checkBlobMissing, string(b.digest), "the %s listed at %s is not in the layout", b.kind, b.where)
				continue
			case err != nil:
				v.add(checkBlobMissing, string(b.digest), "the %s listed at %s cannot be read: %v", b.kind, b.where, err)
				continue
			case !fi.Mode().IsRegular():
				v.add(checkBlobMissing, string(b.digest), "the %s listed at %s is not a regular file (%s)", b.kind, b.where, fi.Mode().Type())
				continue
			}
			size = fi.Size()
		}
		b.size = size
		for _, c := range b.claims {
			if c.size != size {
				v.add(checkBlobSize, string(b.digest), "the blob has %d bytes; %s says %d", size, c.where, c.size)
			}
		}
		v.checked.Blobs++
		v.checked.Bytes += size
		switch {
		case b.hashed, v.src.hashed, v.opts.Fast:
		case layout.VerifiableDigest(b.digest) != nil:
			// descriptor.algorithm (or push.algorithm) says it cannot be verified
		default:
			work = append(work, b)
		}
	}
	v.reportDelta(leftOut, leftBytes)
	unreferenced := v.unreferencedWork(names)
	hashBlobs(ctx, v.src.fsys, append(work, unreferenced...), v.opts.Jobs, v.opts.Progress)
	for _, b := range v.order {
		switch {
		case !b.hashed:
		case b.readErr != nil:
			v.add(checkBlobDigest, string(b.digest), "cannot be hashed: %v", b.readErr)
		case b.got != b.digest:
			v.add(checkBlobDigest, string(b.digest), "the bytes hash to %s", b.got)
		}
	}
	for _, b := range unreferenced {
		switch {
		case !b.hashed:
		case b.readErr != nil:
			v.add(checkBlobDigest, string(b.digest), "an unreferenced blob that cannot be hashed: %v", b.readErr)
		case b.got != b.digest:
			v.add(checkBlobDigest, string(b.digest), "the bytes of this unreferenced blob hash to %s: a manifest that lists %s later would get the wrong bytes; remove it (ocil gc)", b.got, b.digest)
		}
	}
}

// unreferencedWork returns the blobs under blobs/ that nothing reachable lists and that
// are to be hashed as well: a blob whose bytes do not match its name is wrong even
// before something refers to it. With Options.Fast, or when opening the source already
// checked every blob against its name, there are none.
func (v *validator) unreferencedWork(names []digest.Digest) []*blob {
	if v.opts.Fast || v.src.hashed {
		return nil
	}
	var out []*blob
	for _, d := range names {
		if _, ok := v.blobs[d]; ok || layout.VerifiableDigest(d) != nil || !v.blobInside(d) {
			continue
		}
		p, _ := layout.BlobPath(d)
		fi, err := fs.Stat(v.src.fsys, p)
		if err != nil || !fi.Mode().IsRegular() {
			continue // never opened: a FIFO or device would block or never end
		}
		out = append(out, &blob{digest: d, kind: "unreferenced blob", where: p, size: fi.Size()})
	}
	return out
}

// blobInside tells whether the blob file of d may be read: in a folder, neither it nor
// blobs/ nor its algorithm's folder is a symlink that resolves outside the layout. The
// first time a path is found outside, a blob.symlink error says so.
func (v *validator) blobInside(d digest.Digest) bool {
	p, err := layout.BlobPath(d)
	if err != nil {
		return false
	}
	dir, blobs := blobDirs(p)
	if !v.inside(blobs) || !v.inside(dir) {
		return false
	}
	if _, known := v.outside[p]; !known && v.listed[dir] {
		// checkTree listed dir and checked each link it saw there: p is no link (or
		// is not there), and need not be looked at again.
		return true
	}
	return v.inside(p)
}

// blobDirs are the folders of the blob path p (blobs/<alg>/<encoded>, as BlobPath
// gives it): blobs/<alg> and blobs, as path.Dir gives them, without a copy.
func blobDirs(p string) (dir, blobs string) {
	dir = p[:strings.LastIndexByte(p, '/')]
	return dir, dir[:strings.LastIndexByte(dir, '/')]
}

// knownInside tells, without looking at the files or changing anything, that blobInside
// says yes for d: blobs/ and the algorithm's folder were found inside the layout, and
// checkTree listed that folder with no link at d's path.
func (v *validator) knownInside(d digest.Digest) bool {
	p, err := layout.BlobPath(d)
	if err != nil {
		return false
	}
	dir, blobs := blobDirs(p)
	out1, ok1 := v.outside[blobs]
	out2, ok2 := v.outside[dir]
	_, known := v.outside[p]
	return ok1 && !out1 && ok2 && !out2 && !known && v.listed[dir]
}

// inside tells whether name in a layout folder is not a symlink out of it, reporting
// the first time it is. A tarball holds no symlinks.
func (v *validator) inside(name string) bool {
	if out, ok := v.outside[name]; ok {
		return !out
	}
	target, out := v.src.outside(name)
	v.outside[name] = out
	if out {
		object := name
		if name == layout.BlobsDir || path.Dir(name) == layout.BlobsDir {
			object += "/"
		}
		v.add(checkBlobSymlink, object, "a symlink to %s, outside the layout; ocil reads no blob through it", target)
	}
	return !out
}

// hashBlobs hashes blobs with jobs workers, the largest first (by their size on disk) so
// that the workers end together. Each blob's result goes into its own fields.
func hashBlobs(ctx context.Context, fsys fs.FS, blobs []*blob, jobs int, report func(done, total int64)) {
	if len(blobs) == 0 {
		return
	}
	var total int64
	for _, b := range blobs {
		total += b.size
	}
	progress.Begin("hash", total)
	var done atomic.Int64
	queue := slices.Clone(blobs)
	slices.SortStableFunc(queue, func(a, b *blob) int { return cmp.Compare(b.size, a.size) })
	next := make(chan *blob)
	var wg sync.WaitGroup
	for range min(jobs, len(queue)) {
		wg.Go(func() {
			buf := make([]byte, hashBufferSize)
			for b := range next {
				b.got, b.readErr = hashFile(ctx, fsys, b.digest, buf)
				b.hashed = true
				if report != nil {
					report(done.Add(b.size), total)
				}
			}
		})
	}
feed:
	for _, b := range queue {
		select {
		case next <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
}

// hashFile hashes the whole blob file of d with d's algorithm.
func hashFile(ctx context.Context, fsys fs.FS, d digest.Digest, buf []byte) (digest.Digest, error) {
	p, _ := layout.BlobPath(d)
	f, err := fsys.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := d.Algorithm().Hash()
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		progress.Add(n)
		if err == io.EOF {
			return digest.NewDigest(d.Algorithm(), h), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// checkUnreferenced lists the blobs under blobs/ that nothing reachable from index.json
// lists. It runs only when the whole graph was read: otherwise a blob could be listed by
// a document that could not be read.
func (v *validator) checkUnreferenced(names []digest.Digest) {
	for _, d := range names {
		if _, ok := v.blobs[d]; !ok {
			v.add(checkBlobUnreferenced, string(d), "nothing in index.json reaches it; ocil gc removes it")
		}
	}
}

// isLeftOut tells whether the missing blob b is one the delta record leaves out; a
// record whose size disagrees with a descriptor is a delta.record error.
func (v *validator) isLeftOut(b *blob, left map[digest.Digest]int64) bool {
	size, ok := left[b.digest]
	if !ok {
		return false
	}
	if b.kind == "index" || b.kind == "manifest" || b.kind == "config" {
		v.add(checkDeltaRecord, string(b.digest), "index.json records this %s as left out, but a delta never leaves out indexes, manifests or configs", b.kind)
		return false
	}
	for _, c := range b.claims {
		if c.size != size {
			v.add(checkDeltaRecord, string(b.digest), "index.json records it as left out with %d bytes; %s says %d", size, c.where, c.size)
		}
	}
	return true
}

// reportDelta says what a delta leaves out: a note, or with --for-push an error.
func (v *validator) reportDelta(n int, bytes int64) {
	if v.delta == nil {
		return
	}
	bases := v.delta.BaseNames()
	blobs := func(n int) string {
		if n == 1 {
			return "1 blob"
		}
		return fmt.Sprintf("%d blobs", n)
	}
	switch {
	case n == 0 && v.opts.ForPush:
	case n == 0:
		v.add(checkDeltaBase, layout.IndexFile, "a delta record of %s left out (base %s), all present now", blobs(len(v.delta.Blobs)), bases)
	case v.opts.ForPush:
		v.add(checkPushDelta, layout.IndexFile, "a delta: %s (%d bytes) left out, which need its base %s; copy it onto the base first (ocil copy DELTA SITE)", blobs(n), bytes, bases)
	default:
		v.add(checkDeltaBase, layout.IndexFile, "a delta: %s (%d bytes) left out, as recorded, for its base %s to supply", blobs(n), bytes, bases)
	}
}
