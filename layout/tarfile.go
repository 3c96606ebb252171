package layout

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// kernelCopyMin is the smallest blob worth a kernel copy and a hashing goroutine of its
// own; smaller ones are copied through the writer's buffer.
const kernelCopyMin = 1 << 20

// maxPendingHashes bounds the blobs whose hash may still run behind the copy.
const maxPendingHashes = 64

// fileTarWriter writes a plain tar straight into a file, at offsets it keeps: headers and
// small entries through a buffer, blob bodies with copy_file_range from the source file
// (kernelCopyBlob), each hashed in the tarball as it lands, on the other cores, while the
// next blob is copied. Its bytes are those of archive/tar's writer for the same entries
// (the headers are made by it). Close waits for every hash and reports the first mismatch;
// the caller then discards the file.
type fileTarWriter struct {
	ctx     context.Context
	f       *os.File
	off     int64 // bytes of f written; buf follows
	buf     bytes.Buffer
	wb      writebackBehind
	pending []pendingHash
	noCopy  bool // the kernel refused a copy from a source: do not try again
}

type pendingHash struct {
	h    *copiedHash
	what string
}

func newFileTarWriter(ctx context.Context, f *os.File) *fileTarWriter {
	return &fileTarWriter{ctx: ctx, f: f, wb: writebackBehind{f: f}}
}

// header appends the header block(s) archive/tar writes for hdr.
func (w *fileTarWriter) header(hdr *tar.Header) error {
	tw := tar.NewWriter(&w.buf)
	return tw.WriteHeader(hdr) // written at once; tw is dropped without Close
}

// pad ends an entry of size bytes with zeros up to the next 512-byte block.
func (w *fileTarWriter) pad(size int64) {
	var zero [512]byte
	w.buf.Write(zero[:(512-size%512)%512])
}

// Write appends p after what is written (io.Writer, for entries copied through user space).
func (w *fileTarWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if w.buf.Len() >= 1<<20 {
		if err := w.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *fileTarWriter) flush() error {
	if w.buf.Len() == 0 {
		return nil
	}
	n, err := w.f.WriteAt(w.buf.Bytes(), w.off)
	w.off += int64(n)
	w.buf.Reset()
	w.wb.advance(w.off)
	return err
}

// WriteEntry writes hdr and the bytes data writes, which must be exactly hdr.Size.
func (w *fileTarWriter) WriteEntry(hdr *tar.Header, data func(w io.Writer) error) error {
	if err := w.header(hdr); err != nil {
		return err
	}
	cw := &countingWriter{w: w}
	if err := data(cw); err != nil {
		return err
	}
	if cw.n != hdr.Size {
		return fmt.Errorf("%s: %d bytes written, the header says %d", hdr.Name, cw.n, hdr.Size)
	}
	w.pad(hdr.Size)
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeBlob writes the entry hdr holding the blob d of src: copied by the kernel when
// src's file allows it and the blob is large enough (hashed behind the copy, the verdict
// coming from Close), else through copyBlobTo.
func (w *fileTarWriter) writeBlob(hdr *tar.Header, src *Layout, d ocispec.Descriptor, verify bool) error {
	ctx := w.ctx
	if w.noCopy || d.Size < kernelCopyMin {
		return w.WriteEntry(hdr, func(out io.Writer) error { return src.copyBlobTo(ctx, out, d, verify) })
	}
	f, p, err := src.openBlobForCopy(d)
	if err != nil {
		return err
	}
	defer f.Close()
	sf, soff, whole, ok := sourceExtent(f)
	if !ok {
		return w.WriteEntry(hdr, func(out io.Writer) error {
			if err := verifiedCopy(ctx, out, f, d, verify); err != nil {
				return fmt.Errorf("blob %s in %s: %w", d.Digest, src.blobWhere(p), err)
			}
			return nil
		})
	}
	if err := w.header(hdr); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	h, err := kernelCopyBlob(ctx, w.f, w.off, sf, soff, d, verify, &w.wb)
	if errors.Is(err, errNoKernelCopy) {
		w.noCopy = true
		n := d.Size
		if whole {
			n++ // one byte more shows a file longer than its blob; an extent of a tarball goes on with the archive
		}
		err = verifiedCopy(ctx, &countingWriter{w: w}, io.NewSectionReader(sf, soff, n), d, verify)
		if err == nil {
			w.pad(d.Size)
			return nil
		}
	}
	if err == nil && whole {
		err = checkSourceEnd(sf, soff, d)
	}
	if err != nil {
		if h != nil {
			h.wait()
		}
		return fmt.Errorf("blob %s in %s: %w", d.Digest, src.blobWhere(p), err)
	}
	w.off += d.Size
	w.pad(d.Size)
	if h != nil {
		w.pending = append(w.pending, pendingHash{h, fmt.Sprintf("blob %s in %s", d.Digest, src.blobWhere(p))})
		if len(w.pending) > maxPendingHashes {
			if err := w.waitHashes(len(w.pending) - maxPendingHashes); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitHashes waits for the n oldest pending hashes.
func (w *fileTarWriter) waitHashes(n int) error {
	var first error
	for _, p := range w.pending[:n] {
		if err := p.h.wait(); err != nil && first == nil {
			first = fmt.Errorf("%s: %w", p.what, err)
		}
	}
	w.pending = w.pending[n:]
	return first
}

// Close writes the end of the archive (two zero blocks, as archive/tar does) and waits
// for every hash.
func (w *fileTarWriter) Close(tar.Header) error {
	var zero [1024]byte
	w.buf.Write(zero[:])
	err := w.flush()
	if herr := w.waitHashes(len(w.pending)); herr != nil {
		err = herr
	}
	return err
}

// abort stops what still runs: the hashes of blobs copied so far, whose verdict no longer
// matters. The context of the write is already done or the write failed.
func (w *fileTarWriter) abort() {
	for _, p := range w.pending {
		p.h.wait()
	}
	w.pending = nil
}
