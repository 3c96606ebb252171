package layout

import (
	"hash"
	"io"
	"sync"
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
