// Package ctxio stops long reads when their context ends, and counts what they read
// on the progress bar of the running command (internal/progress).
package ctxio

import (
	"context"
	"io"

	"github.com/ocil-dev/ocil/internal/progress"
)

// NewReader returns a reader of r whose every Read fails with ctx's error once ctx ends.
func NewReader(ctx context.Context, r io.Reader) io.Reader { return reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	progress.Add(n) // every blob copy, hash and write reads through here
	return n, err
}
