package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ocil-dev/ocil/internal/atomicfile"
)

// TempPrefix starts the name of every temporary file ocil makes. A leading dot keeps the
// name outside the digest grammar, so a temp file left by a killed process can never be
// mistaken for a blob; gc removes stale ones.
const TempPrefix = atomicfile.TempPrefix

// newTempBlob makes a temp file in a blob folder, blobs/<alg>/, once blobs/ and it are
// checked to be real folders (see checkBlobDirs).
func newTempBlob(algDir string) (*atomicfile.File, error) {
	if err := checkBlobDirs(algDir); err != nil {
		return nil, err
	}
	return atomicfile.Create(algDir, "*")
}

// commitBlob makes the temp file f the blob at final: mode 0444, fsync, rename. It is the
// tail of every blob write (WriteBlob, Ingest, CopyBlob). The rename is made durable by
// UpdateIndex, which syncs the blob folders once before index.json can reference the
// blob (see syncBlobDirs): one folder sync per change of index.json instead of one per blob.
// In a tarball output's stage (scratch) nothing is synced: the tarball is.
//
// Inside a Transfer into a folder the blob is held instead, and synced and renamed with
// the Transfer's other blobs at its end (see syncBatch).
func commitBlob(ctx context.Context, l *Layout, f *atomicfile.File, final string) error {
	f.NoSync = l.scratch
	if b := batchFor(ctx, l); b != nil && !l.scratch {
		return b.hold(f, final)
	}
	return f.Commit(final, 0o444, false)
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
