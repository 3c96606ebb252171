//go:build linux

package layout

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEarlyWritebackBehind: writeback is started chunk by chunk, each chunk only once a
// whole further chunk has been written after it, so never on pages still being filled;
// every byte but the last two chunks' is handed over.
func TestEarlyWritebackBehind(t *testing.T) {
	type span struct{ off, n, written int64 }
	var got []span
	var w *earlyWriteback
	orig := startWriteback
	startWriteback = func(f *os.File, off, n int64) { got = append(got, span{off, n, w.written}) }
	t.Cleanup(func() { startWriteback = orig })

	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w = newEarlyWriteback(f)
	buf := make([]byte, 1<<20)
	total := int64(5*writebackChunk + writebackChunk/2)
	for done := int64(0); done < total; done += int64(len(buf)) {
		if _, err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	// One big write hands over every chunk it completes, still one behind.
	if _, err := w.Write(make([]byte, 3*writebackChunk)); err != nil {
		t.Fatal(err)
	}
	var next int64
	for _, s := range got {
		if s.off != next || s.n != writebackChunk {
			t.Fatalf("writeback of [%d, +%d), want [%d, +%d): %v", s.off, s.n, next, writebackChunk, got)
		}
		if s.off+s.n > s.written-writebackChunk {
			t.Fatalf("writeback of [%d, +%d) with only %d bytes written: within a chunk of the write", s.off, s.n, s.written)
		}
		next += s.n
	}
	if w.written-next >= 2*writebackChunk || w.written-next < writebackChunk {
		t.Fatalf("%d bytes written, writeback started on %d", w.written, next)
	}
}
