package layout

import (
	"fmt"
	"io"
	"os"

	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// WithStdin sets what Open reads for the path "-" (os.Stdin when unset).
func WithStdin(r io.Reader) Option { return func(l *Layout) { l.stdin = r } }

// openStdin reads a layout tarball from r (os.Stdin when nil) through tarfs.OpenReader:
// the stream is checked whole and spooled to a temp file, within the bounds of a
// compressed tarball. A terminal is refused rather than waited on.
func openStdin(r io.Reader) (*tarfs.FS, error) {
	if r == nil {
		r = os.Stdin
	}
	if progress.IsTerminal(r) {
		return nil, fmt.Errorf("open layout -: %w: standard input is a terminal; pipe a layout tarball into it (ocil copy SRC - | ocil copy - DST)", ErrNotFound)
	}
	return tarfs.OpenReader("standard input", r, tarfs.Options{MaxJSONSize: MaxIndexSize})
}
