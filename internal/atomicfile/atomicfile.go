// Package atomicfile is ocil's one way to put a file in place, for index.json, blobs,
// tarballs, pulled files and reports: the bytes go to a temp file beside the final name
// (TempPrefix, outside the digest grammar, so a leftover is never taken for a blob), which
// is fsynced and renamed onto the name, and the folder is synced, so that a reader sees
// the old file or the new one, never a part, and the new one survives a crash once Commit
// returns. Blob writes leave the folder sync to the caller, which syncs the blob folders
// once before index.json can reference them.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// TempPrefix starts the name of every temporary file ocil makes. A leading dot keeps the
// name outside the digest grammar; gc removes stale ones.
const TempPrefix = ".ocil-tmp-"

// File is a temp file on its way to a final name. Discard removes it unless it was
// committed; it is safe to defer right after Create, whatever happens next.
type File struct {
	*os.File
	// NoSync leaves out the fsyncs, for a scratch file whose content is copied elsewhere,
	// and made durable there, before it counts (a tarball output's stage).
	NoSync bool
	root   *os.Root // when made by CreateIn: names are relative to it
	tmp    string
	done   bool
	held   bool // handed over to CommitAll or DiscardAll
}

// Create makes a temp file in dir named TempPrefix+pattern, with pattern's last "*"
// replaced by a random string (os.CreateTemp).
func Create(dir, pattern string) (*File, error) {
	f, err := os.CreateTemp(dir, TempPrefix+pattern)
	if err != nil {
		return nil, err
	}
	return &File{File: f, tmp: f.Name()}, nil
}

// CreateIn makes a temp file in the folder dir of root (relative to it), never leaving
// root: for files written under a folder a user named, through os.Root.
func CreateIn(root *os.Root, dir string) (*File, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, TempPrefix+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &File{File: f, root: root, tmp: tmp}, nil
}

// Commit makes the temp file the file final (in the same folder): mode perm, fsync,
// close, rename; with syncFolder, the folder too. The temp file is removed if a step
// before the rename fails.
func (f *File) Commit(final string, perm os.FileMode, syncFolder bool) error {
	f.done = true
	err := f.Chmod(perm)
	if err == nil && !f.NoSync {
		if err = f.Sync(); err != nil {
			err = fmt.Errorf("sync: %w", err)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = f.rename(final)
	}
	if err != nil {
		f.remove()
		return err
	}
	if syncFolder && !f.NoSync {
		if err := f.syncDir(filepath.Dir(final)); err != nil {
			return fmt.Errorf("sync folder: %w", err)
		}
	}
	return nil
}

// Discard closes and removes the temp file unless it was committed or held. A held file
// belongs to its CommitAll, which may be running on another goroutine: only held is read.
func (f *File) Discard() {
	if f.held {
		return
	}
	if !f.done {
		f.done = true
		f.Close()
		f.remove()
	}
}

// Hold hands the temp file over to a later CommitAll or DiscardAll, which the holder
// must call: Discard leaves it alone from now on.
func (f *File) Hold() { f.held = true }

// Pending is a held temp file and the name CommitAll gives it.
type Pending struct {
	File  *File
	Final string
}

// CommitAll commits the files as Commit would (mode perm, fsync, close, rename; no folder
// sync), but syncs them all, at most jobs at once, before it renames any: no fsync waits
// for another, and no file appears under its final name before every one of them is on
// the disk. If a sync fails, every file is removed and nothing is renamed; if a rename
// fails, the files not yet renamed are removed, and those renamed stay (each whole).
func CommitAll(files []Pending, perm os.FileMode, jobs int) error {
	work := make(chan *File)
	errs := make(chan error, len(files))
	var wg sync.WaitGroup
	for range max(min(jobs, len(files)), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				err := f.Chmod(perm)
				if err == nil && !f.NoSync {
					if err = f.Sync(); err != nil {
						err = fmt.Errorf("sync: %w", err)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", f.Name(), err)
				}
			}
		}()
	}
	for _, p := range files {
		work <- p.File
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		DiscardAll(files)
		return err
	}
	for i, p := range files {
		p.File.done = true
		err := p.File.Close()
		if err == nil {
			err = p.File.rename(p.Final)
		}
		if err != nil {
			p.File.remove()
			DiscardAll(files[i+1:])
			return err
		}
	}
	return nil
}

// DiscardAll closes and removes held files that were not committed.
func DiscardAll(files []Pending) {
	for _, p := range files {
		if !p.File.done {
			p.File.done = true
			p.File.Close()
			p.File.remove()
		}
	}
}

func (f *File) rename(final string) error {
	if f.root != nil {
		return f.root.Rename(f.tmp, final)
	}
	return os.Rename(f.tmp, final)
}

func (f *File) remove() {
	if f.root != nil {
		f.root.Remove(f.tmp)
		return
	}
	os.Remove(f.tmp)
}

func (f *File) syncDir(dir string) error {
	if f.root == nil {
		return SyncDir(dir)
	}
	d, err := f.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return syncOpenDir(d)
}

// WriteFile replaces name with data through a temp file beside it (see the package
// documentation): a reader sees the old file or the new one.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	f, err := Create(filepath.Dir(name), filepath.Base(name)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer f.Discard()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Commit(name, perm, true); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
