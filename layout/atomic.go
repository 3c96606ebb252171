package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// TempPrefix starts the name of every temporary file this package makes. A leading dot
// keeps the name outside the digest grammar, so a temp file left by a killed process can
// never be mistaken for a blob; gc removes stale ones.
const TempPrefix = ".ocil-tmp-"

// WriteFileAtomic replaces name with data so that a reader sees the old file or the new
// one, never a part, and the new one survives a crash once this returns. It is how ocil
// writes index.json and its reports.
func WriteFileAtomic(name string, data []byte, perm os.FileMode) error {
	return writeFileAtomic(name, data, perm)
}

// writeFileAtomic replaces name with data so that a reader sees the old file or the new
// one, never a mix, and the new one survives a crash once this returns: temp file in the
// same folder, fsync, rename, fsync of the folder.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(name)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: sync folder: %w", name, err)
	}
	return nil
}

// tempBlob is a temp file in a blob folder. discard removes it unless it was committed;
// it is safe to defer right after creation, whatever happens next.
type tempBlob struct {
	*os.File
	committed bool
}

func newTempBlob(algDir string) (*tempBlob, error) {
	if err := checkBlobDirs(algDir); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(algDir, TempPrefix+"*")
	if err != nil {
		return nil, err
	}
	return &tempBlob{File: f}, nil
}

// commit makes the temp file the blob at final (see commitTemp).
func (t *tempBlob) commit(final, algDir string) error {
	t.committed = true // commitTemp removes the file itself if it fails
	return commitTemp(t.File, final, algDir)
}

func (t *tempBlob) discard() {
	if !t.committed {
		t.Close()
		os.Remove(t.Name())
	}
}

// mkdirBlobDirs makes blobs/ and blobs/<alg>/ where missing, without following a
// symbolic link at either (os.MkdirAll would create folders in a link's target), and
// checks them (see checkBlobDirs).
func mkdirBlobDirs(algDir string) error {
	// blobs/ is checked before blobs/<alg>/ is made: a link at blobs/ would be followed.
	for _, d := range []string{filepath.Dir(algDir), algDir} {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := checkBlobDir(d); err != nil {
			return err
		}
	}
	return nil
}

// checkBlobDirs refuses to write into blobs/<alg>/ when it or blobs/ is not a real folder:
// a symbolic link there could point anywhere, so blob writes never go through one.
func checkBlobDirs(algDir string) error {
	for _, d := range []string{filepath.Dir(algDir), algDir} {
		if err := checkBlobDir(d); err != nil {
			return err
		}
	}
	return nil
}

func checkBlobDir(d string) error {
	fi, err := os.Lstat(d)
	switch {
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; blobs are not written through links", d)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a folder", d)
	}
	return nil
}
