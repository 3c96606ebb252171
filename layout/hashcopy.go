package layout

import (
	"context"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/ctxio"
)

// copyHashing copies src to dst while h hashes the same bytes, on two cores: each chunk
// is hashed in a goroutine while it is written, and the next chunk is read into the
// other buffer meanwhile. It costs about the larger of hashing and writing, not their sum.
func copyHashing(dst io.Writer, src io.Reader, h hash.Hash) (int64, error) {
	b0 := hashBuffers.Get().(*[]byte)
	b1 := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(b0)
	defer hashBuffers.Put(b1)
	bufs := [2][]byte{*b0, *b1}
	var wg sync.WaitGroup
	var total int64
	cur := 0
	for {
		n, rerr := io.ReadFull(src, bufs[cur])
		wg.Wait() // the other buffer's hash is done before this one starts
		if n > 0 {
			chunk := bufs[cur][:n]
			wg.Add(1)
			go func() {
				h.Write(chunk)
				wg.Done()
			}()
			m, werr := dst.Write(chunk)
			total += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				wg.Wait()
				return total, werr
			}
		}
		switch rerr {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			wg.Wait()
			return total, nil
		default:
			wg.Wait()
			return total, rerr
		}
		cur ^= 1
	}
}

// verifiedCopy is the one loop that copies a blob while checking it (WriteBlob, the
// tarball writer, CopyBlob's check of a linked or cloned source): it copies d.Size bytes
// of src to dst, hashing them on a second core when verify is set (copyHashing), then
// reads one more byte to be sure src ends there. A src that is shorter or longer is
// ErrSizeMismatch, bytes that do not hash to d.Digest ErrDigestMismatch (see checkRead).
// Without verify only the size is checked. It stops when ctx ends.
func verifiedCopy(ctx context.Context, dst io.Writer, src io.Reader, d ocispec.Descriptor, verify bool) error {
	lr := io.LimitReader(ctxio.NewReader(ctx, src), d.Size)
	var h hash.Hash
	var n int64
	var err error
	if verify {
		h = d.Digest.Algorithm().Hash()
		n, err = copyHashing(dst, lr, h)
	} else {
		bp := hashBuffers.Get().(*[]byte)
		n, err = io.CopyBuffer(dst, lr, *bp)
		hashBuffers.Put(bp)
	}
	if err != nil {
		return err
	}
	if n == d.Size {
		var one [1]byte
		if m, err := io.ReadFull(src, one[:]); m > 0 {
			n++
		} else if err != nil && err != io.EOF {
			return err
		}
	}
	return checkRead(d, n, h)
}

// checkRead is the verdict on a read of the blob d: n bytes came (d.Size+1 standing for
// more than d.Size), hashed by h (nil when not hashed).
func checkRead(d ocispec.Descriptor, n int64, h hash.Hash) error {
	if n != d.Size {
		return fmt.Errorf("%w: %s, descriptor says %d", ErrSizeMismatch, sizeSeen(n, d.Size), d.Size)
	}
	if h != nil {
		if got := digest.NewDigest(d.Digest.Algorithm(), h); got != d.Digest {
			return fmt.Errorf("%w: the bytes hash to %s", ErrDigestMismatch, got)
		}
	}
	return nil
}
