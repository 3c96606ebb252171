package layout

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tarEntry is one entry of a layer ingestTar writes.
type tarEntry struct {
	name string // in the tar; folders end with '/'
	src  string // the regular file whose bytes it holds ("" for a folder or a link)
	dir  bool
	link string // the target of a symbolic link
	mode int64
	size int64 // of src when it was planned
}

// TarEntry is one entry of a layer IngestTar writes: a folder (Dir, Name ending in
// '/'), a regular file (Src, with the Size it had when planned) or a symbolic link (Link).
type TarEntry struct {
	Name string
	Src  string
	Dir  bool
	Link string
	Mode int64
	Size int64
}

// IngestTar writes entries as a compressed tar layer (see ingestTar), for the packages
// that turn files into layers (artifact), and returns the layer and its diff ID.
func (l *Layout) IngestTar(ctx context.Context, mediaType, compression string, entries []TarEntry, mtime time.Time) (ocispec.Descriptor, digest.Digest, error) {
	es := make([]tarEntry, len(entries))
	for i, e := range entries {
		es[i] = tarEntry{name: e.Name, src: e.Src, dir: e.Dir, link: e.Link, mode: e.Mode, size: e.Size}
	}
	return l.ingestTar(ctx, mediaType, compression, es, mtime)
}

// ingestTar writes entries, in the order given, as a compressed tar layer: owner 0:0, no
// user or group name, every time mtime, the header of each entry a function of its
// fields only (so the bytes are the same on every machine). It returns the layer and the
// digest of the uncompressed tar (its diff ID). A file that is no longer a regular file,
// or whose size changed since it was planned, fails the write naming it.
func (l *Layout) ingestTar(ctx context.Context, mediaType, compression string, entries []tarEntry, mtime time.Time) (ocispec.Descriptor, digest.Digest, error) {
	pr, pw := io.Pipe()
	tarHash := sha256.New()
	go func() {
		var zw io.WriteCloser
		switch compression {
		case CompressionZstd:
			// One encoder goroutine and a fixed level: the frames do not depend on the machine.
			enc, err := zstd.NewWriter(pw, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			zw = enc
		default:
			zw, _ = gzip.NewWriterLevel(pw, gzip.DefaultCompression) // header: no name, no time
		}
		tw := tar.NewWriter(io.MultiWriter(zw, tarHash))
		err := func() error {
			for _, e := range entries {
				h := &tar.Header{Name: e.name, ModTime: mtime, Mode: e.mode, Typeflag: tar.TypeReg, Size: e.size}
				switch {
				case e.dir:
					h.Typeflag, h.Size = tar.TypeDir, 0
				case e.link != "" || e.src == "":
					h.Typeflag, h.Size, h.Linkname = tar.TypeSymlink, 0, e.link
				}
				if h.Typeflag != tar.TypeReg {
					if err := tw.WriteHeader(h); err != nil {
						return fmt.Errorf("%s: %w", e.name, err)
					}
					continue
				}
				if err := writeTarFile(tw, h, e.src); err != nil {
					return err
				}
			}
			if err := tw.Close(); err != nil {
				return err
			}
			return zw.Close()
		}()
		pw.CloseWithError(err)
	}()
	d, err := l.Ingest(ctx, mediaType, pr)
	pr.Close()
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	return d, digest.Digest("sha256:" + hex.EncodeToString(tarHash.Sum(nil))), nil
}

// writeTarFile writes h and the bytes of the file at src, which must still be the
// regular file of h.Size bytes it was planned as. It is opened without blocking, so a
// FIFO put in its place fails here instead of hanging.
func writeTarFile(tw *tar.Writer, h *tar.Header, src string) error {
	f, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w: no longer a regular file", src, ErrConflict)
	}
	if fi.Size() != h.Size {
		return fmt.Errorf("%s changed while it was packed", src)
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	n, err := io.Copy(tw, f)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if n != h.Size {
		return fmt.Errorf("%s changed while it was packed", src)
	}
	return nil
}
