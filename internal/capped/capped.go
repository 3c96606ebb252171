// Package capped reads whole files that must not exceed a size, as JSON is read before it
// is parsed: the bound is checked while reading, never trusted from a stat.
package capped

import (
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
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}
