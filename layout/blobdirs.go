package layout

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// blobDirs serves the blob reads of one open layout folder. Each blobs/<alg>/ folder is
// opened once, after folderFS.lstat has checked that neither blobs nor blobs/<alg> is a
// link; a blob is then opened by name relative to that folder, without following a link,
// and kept only when it is a regular file. That is one system call where checking every
// component of blobs/<alg>/<encoded> takes four, which is what reading the 100,000
// manifests of a layout of 100,000 tags spends most of its time on. Anything else (a
// link, a missing blob, a FIFO, another system) goes the checked way, which also gives
// the errors.
type blobDirs struct {
	mu     sync.Mutex
	dirs   map[string]*os.File // by algorithm; nil for one that is not a plain folder
	closed bool
}

// open opens blobs/<alg>/<encoded> when it is a regular file reached without a link, or
// returns nil.
func (b *blobDirs) open(f folderFS, name string) *os.File {
	d, enc := b.dir(f, name)
	if d == nil {
		return nil
	}
	return openRegularAt(d, enc, filepath.Join(f.dir, filepath.FromSlash(name)))
}

// stat describes blobs/<alg>/<encoded> when it is a regular file reached without a link,
// or returns nil.
func (b *blobDirs) stat(f folderFS, name string) fs.FileInfo {
	d, enc := b.dir(f, name)
	if d == nil {
		return nil
	}
	return statRegularAt(d, enc)
}

// dir returns the open folder of the blob name and the blob's name in it, or nil.
func (b *blobDirs) dir(f folderFS, name string) (*os.File, string) {
	rest, ok := strings.CutPrefix(name, BlobsDir+"/")
	if !ok {
		return nil, ""
	}
	alg, enc, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(enc, "/") || enc == "" || enc == "." || enc == ".." {
		return nil, ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ""
	}
	d, seen := b.dirs[alg]
	if !seen {
		if fi, linked, err := f.lstat(BlobsDir + "/" + alg); err == nil && !linked && fi.IsDir() {
			d = openDirNoFollow(f.dir, BlobsDir+"/"+alg, fi)
		}
		if b.dirs == nil {
			b.dirs = map[string]*os.File{}
		}
		b.dirs[alg] = d
	}
	return d, enc
}

// Close closes the folders.
func (b *blobDirs) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, d := range b.dirs {
		if d != nil {
			d.Close()
		}
	}
	b.dirs = nil
	return nil
}
