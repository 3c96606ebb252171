// Package capped reads whole files that must not exceed a size, as JSON is read before it
// is parsed: the bound is checked while reading, never trusted from a stat.
package capped

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// ErrTooLarge: a file over the bound (layout.ErrTooLarge is the same value).
var ErrTooLarge = errors.New("too large")

// ReadFile reads the whole file name of fsys, which must not exceed limit bytes
// (ErrTooLarge); at most limit+1 bytes are read.
func ReadFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Sized from the file (the bound is still checked while reading), so a large
	// index.json is read into one buffer, not grown into one by doubling: ReadFrom
	// grows the buffer whenever less than bytes.MinRead is free, which the end of the
	// file must therefore find.
	var buf bytes.Buffer
	if fi, err := f.Stat(); err == nil && fi.Size() >= 0 && fi.Size() <= limit {
		buf.Grow(int(fi.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}
