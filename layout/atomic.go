package layout

import (
	"github.com/ocil-dev/ocil/internal/atomicfile"
)

// TempPrefix starts the name of every temporary file ocil makes. A leading dot keeps the
// name outside the digest grammar, so a temp file left by a killed process can never be
// mistaken for a blob; gc removes stale ones.
const TempPrefix = atomicfile.TempPrefix

// newTempBlob makes a temp file in a blob folder, blobs/<alg>/.
func newTempBlob(algDir string) (*atomicfile.File, error) { return atomicfile.Create(algDir, "*") }

// commitBlob makes the temp file f the blob at final: mode 0444, fsync, rename. It is the
// tail of every blob write (WriteBlob, Ingest, CopyBlob). The rename is made durable by
// UpdateIndex, which syncs the blob folders once before index.json can reference the
// blob (see syncBlobDirs): one folder sync per change of index.json instead of one per blob.
func commitBlob(f *atomicfile.File, final string) error { return f.Commit(final, 0o444, false) }
