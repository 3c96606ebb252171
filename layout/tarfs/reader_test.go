package tarfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// onlyReader hides every method but Read, as a pipe has no other.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestOpenReaderCorpus: a stream is held to every rule a file is. Each archive of the
// corpus gives the same verdict through OpenReader as through Open, and the files of an
// accepted one read back with the same bytes.
func TestOpenReaderCorpus(t *testing.T) {
	for _, tc := range corpus() {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.make(t)
			p := filepath.Join(t.TempDir(), "x.tar")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			opts := tc.opts
			opts.TempDir = tmp
			want, werr := Open(p, opts)
			got, gerr := OpenReader("standard input", onlyReader{bytes.NewReader(b)}, opts)
			switch {
			case werr != nil:
				// A stream is always spooled, as a compressed file is; for a plain file the
				// only difference allowed is the bound on what is spooled.
				class := tc.want
				if !errors.Is(gerr, class) && !(errors.Is(gerr, ErrHostile) && opts.MaxUncompressed > 0) {
					t.Fatalf("OpenReader = %v, Open = %v", gerr, werr)
				}
				if !strings.HasPrefix(gerr.Error(), "open tarball standard input: ") {
					t.Errorf("message %q does not name the stream", gerr)
				}
				if got != nil {
					t.Error("OpenReader returned an FS with its error")
				}
			case gerr != nil:
				t.Fatalf("OpenReader = %v, Open accepted it", gerr)
			default:
				if a, b := want.Entries(), got.Entries(); strings.Join(a, "\n") != strings.Join(b, "\n") {
					t.Errorf("entries %v, Open says %v", b, a)
				}
				for _, name := range want.Entries() {
					x, _ := fs.ReadFile(want, name)
					y, err := fs.ReadFile(got, name)
					if err != nil || !bytes.Equal(x, y) {
						t.Errorf("%s: %v, bytes differ: %v", name, err, !bytes.Equal(x, y))
					}
				}
				want.Close()
				if err := got.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if want != nil {
				want.Close()
			}
			emptyDir(t, tmp)
		})
	}
}

// TestOpenReaderBound: an uncompressed stream is bounded as a compressed one is, since all
// of it goes to the temp file.
func TestOpenReaderBound(t *testing.T) {
	b := buildTar(t, withLayout(blob(string(make([]byte, 64<<10))))...)
	tmp := t.TempDir()
	_, err := OpenReader("standard input", onlyReader{bytes.NewReader(b)}, Options{MaxUncompressed: 32 << 10, TempDir: tmp})
	if !errors.Is(err, ErrHostile) || !strings.Contains(err.Error(), "more than 32768 bytes") {
		t.Fatalf("OpenReader = %v, want the bound named", err)
	}
	emptyDir(t, tmp)
	if _, err := OpenReader("standard input", onlyReader{bytes.NewReader(nil)}, Options{TempDir: tmp}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "empty stream") {
		t.Fatalf("OpenReader(empty) = %v", err)
	}
}
