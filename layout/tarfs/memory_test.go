package tarfs

import (
	"archive/tar"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMemoryFlat opens a .tar.gz holding one 512 MiB blob of zeros (a few hundred KiB
// on disk) and checks that the heap stays small while the blob is decompressed, spooled
// and hashed: nothing holds an entry in memory. It is a regression guard with loose
// bounds, not a measurement.
func TestMemoryFlat(t *testing.T) {
	const size = 512 << 20
	zeros := make([]byte, 1<<20)
	h := sha256.New()
	for range size / len(zeros) {
		h.Write(zeros)
	}
	name := "blobs/sha256/" + hex.EncodeToString(h.Sum(nil))

	p := filepath.Join(t.TempDir(), "zeros.tar.gz")
	if err := os.WriteFile(p, gzipOfZeros(t, name, size), 0o644); err != nil {
		t.Fatal(err)
	}
	zeros = nil

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	// Sample the heap while Open runs, to catch a peak that is gone by the end.
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	// Far past the default ratio bound, which TestBombRefusedByRatio covers.
	fsys, err := Open(p, Options{TempDir: t.TempDir(), MaxRatio: 1 << 20})
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	const bound = 32 << 20
	if after.HeapInuse > bound {
		t.Errorf("heap in use after Open: %d MiB", after.HeapInuse>>20)
	}
	if peak > before.HeapInuse+bound {
		t.Errorf("heap in use peaked at %d MiB more than before Open", (peak-before.HeapInuse)>>20)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*bound {
		t.Errorf("Open allocated %d MiB in all", alloc>>20)
	}
	if got, ok := fsys.Size(name); !ok || got != size {
		t.Fatalf("Size = %d, %v", got, ok)
	}
	t.Logf("heap in use: %d MiB before, %d MiB at the peak, %d MiB after; %d MiB allocated",
		before.HeapInuse>>20, peak>>20, after.HeapInuse>>20, (after.TotalAlloc-before.TotalAlloc)>>20)
}

// gzipOfZeros builds a .tar.gz of a small layout plus one entry of size zeros without
// compressing size bytes: deflate data that starts with no history and ends on a byte
// boundary (a sync flush) can be repeated, so one compressed MiB of zeros is written
// size/1MiB times, and the gzip trailer is computed over what it stands for.
func gzipOfZeros(t *testing.T, name string, size int) []byte {
	t.Helper()
	deflate := func(b []byte, final bool) []byte {
		var out bytes.Buffer
		fw, _ := flate.NewWriter(&out, flate.BestSpeed)
		fw.Write(b)
		if final {
			fw.Close()
		} else {
			fw.Flush()
		}
		return out.Bytes()
	}
	head := buildTar(t, layoutEnts()...)
	head = head[:len(head)-1024]
	var hb bytes.Buffer
	tw := tar.NewWriter(&hb)
	tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(size)})
	head = append(head, hb.Bytes()...) // the header only: tw is never closed
	tail := make([]byte, 1024)         // size is a whole number of blocks: no padding
	mib := make([]byte, 1<<20)

	crc := crc32.ChecksumIEEE(head)
	chunk := deflate(mib, false)
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	out = append(out, deflate(head, false)...)
	for range size / len(mib) {
		out = append(out, chunk...)
		crc = crc32.Update(crc, crc32.IEEETable, mib)
	}
	out = append(out, deflate(tail, true)...)
	crc = crc32.Update(crc, crc32.IEEETable, tail)
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, uint32(len(head)+size+len(tail)))
}

// TestPlainSkipsData opens an uncompressed tar holding a 1 GiB blob (a sparse file, so
// the test costs no disk) and checks through /proc/self/io that Open read kilobytes, not
// the blob: listing and resolving in a big tarball costs its headers only.
func TestPlainSkipsData(t *testing.T) {
	const size = 1 << 30
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range layoutEnts() {
		tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.body))})
		tw.Write(e.body)
	}
	name := "blobs/sha256/" + strings.Repeat("0", 64) // not hashed: nothing reads it
	tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size})
	p := filepath.Join(t.TempDir(), "big.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(b.Bytes())
	if _, err := f.WriteAt(make([]byte, 1024), int64(b.Len())+size); err != nil { // end of archive
		t.Fatal(err)
	}
	f.Close()

	before := bytesRead(t)
	fsys, err := Open(p, Options{})
	read := bytesRead(t) - before
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if got, _ := fsys.Size(name); got != size {
		t.Fatalf("Size = %d", got)
	}
	if read > 1<<20 {
		t.Errorf("Open read %d bytes of a %d-byte archive", read, size)
	}
	t.Logf("Open read %d bytes", read)
}

// bytesRead is what this process has read so far, by the kernel's count.
func bytesRead(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io on %s: %v", runtime.GOOS, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}
