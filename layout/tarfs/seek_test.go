package tarfs

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// buildSeekable writes ents (regular files) as a seekable archive; edit, when set, may
// change the seek index before it is written.
func buildSeekable(t testing.TB, compression string, edit func(*seekIndex), ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	sw, err := NewSeekableWriter(&b, compression)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Size: int64(len(e.body)), Mode: 0o644, Linkname: e.link}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := sw.WriteEntry(hdr, func(w io.Writer) error {
			if typ != tar.TypeReg {
				return nil
			}
			_, err := w.Write(e.body)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(&sw.index)
	}
	if err := sw.Close(tar.Header{Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	r.Read(b)
	return b
}

func readAll(t testing.TB, fsys fs.FS, name string) ([]byte, error) {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// TestSeekableRoundTrip: an archive from SeekableWriter is read in place through its
// index, and every file reads back (whole, by ReadAt and after Seek) as written.
func TestSeekableRoundTrip(t *testing.T) {
	big := randomBytes(3<<20+17, 1)
	ents := append(layoutEnts(), ent{name: "blobs/sha256/" + sha256Hex(big), body: big}, blob("world"))
	for _, c := range []string{compressionGzip, compressionZstd} {
		t.Run(c, func(t *testing.T) {
			p := writeFile(t, "x.tar", buildSeekable(t, c, nil, ents...))
			fsys, err := Open(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if !fsys.Seekable() || fsys.Compression() != c {
				t.Fatalf("Seekable() = %v, Compression() = %s", fsys.Seekable(), fsys.Compression())
			}
			if got := len(fsys.Entries()); got != len(ents) {
				t.Fatalf("%d entries, want %d (the index entry is left out)", got, len(ents))
			}
			for _, e := range ents {
				got, err := readAll(t, fsys, e.name)
				if err != nil || !bytes.Equal(got, e.body) {
					t.Fatalf("%s: %d bytes, %v", e.name, len(got), err)
				}
			}
			f, err := fsys.Open("blobs/sha256/" + sha256Hex(big))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ra := f.(io.ReaderAt)
			for _, off := range []int64{2 << 20, 5, 1 << 20, int64(len(big)) - 10} {
				p := make([]byte, 100)
				n, err := ra.ReadAt(p, off)
				want := big[off:min(off+100, int64(len(big)))]
				if !bytes.Equal(p[:n], want) || (n < 100) != (err == io.EOF) {
					t.Fatalf("ReadAt(%d): %d bytes, %v", off, n, err)
				}
			}
			if _, err := f.(io.Seeker).Seek(-7, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			tail, err := io.ReadAll(f)
			if err != nil || !bytes.Equal(tail, big[len(big)-7:]) {
				t.Fatalf("after Seek: %q, %v", tail, err)
			}
		})
	}
}

// TestSeekableStandardTools: the seekable stream is one ordinary gzip or zstd stream
// holding one ordinary tar: the standard decompressors read every entry, the index
// entry last, and the full decompressing pass of Open reads it too.
func TestSeekableStandardTools(t *testing.T) {
	ents := layoutEnts()
	for _, c := range []string{compressionGzip, compressionZstd} {
		t.Run(c, func(t *testing.T) {
			b := buildSeekable(t, c, nil, ents...)
			var dec io.Reader
			if c == compressionGzip {
				z, err := stdgzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				dec = z
			} else {
				z, err := zstd.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				defer z.Close()
				dec = z
			}
			tr := tar.NewReader(dec)
			var names []string
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, h.Name)
			}
			if rest, err := io.ReadAll(dec); err != nil || len(rest) != 0 {
				t.Fatalf("after the tar: %d bytes, %v", len(rest), err)
			}
			if len(names) != len(ents)+1 || names[len(names)-1] != SeekIndexName {
				t.Fatalf("entries %q", names)
			}
			// Without its footer the archive is an ordinary one, decompressed whole.
			foot := FooterSizeZstd
			if c == compressionGzip {
				foot = FooterSizeGzip
			}
			p := writeFile(t, "x.tar", b[:len(b)-foot])
			fsys, err := Open(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if fsys.Seekable() {
				t.Fatal("read in place without a footer")
			}
			if got, err := readAll(t, fsys, ents[2].name); err != nil || string(got) != "hello" {
				t.Fatalf("%q, %v", got, err)
			}
		})
	}
}

// TestSeekableReadsOnePiece: reading a small file decompresses its own piece only. The
// big blob's piece is damaged; ls-like access and the small blob still read, the big one
// fails.
func TestSeekableReadsOnePiece(t *testing.T) {
	big := randomBytes(1<<20, 2)
	bigName := "blobs/sha256/" + sha256Hex(big)
	ents := append(layoutEnts(), ent{name: bigName, body: big})
	for _, c := range []string{compressionGzip, compressionZstd} {
		t.Run(c, func(t *testing.T) {
			var bigPiece seekRecord
			b := buildSeekable(t, c, func(ix *seekIndex) {
				for _, r := range ix.Entries {
					if r.Name == bigName {
						bigPiece = r
					}
				}
			}, ents...)
			mid := bigPiece.Offset + bigPiece.Length/2
			for i := mid; i < mid+64; i++ {
				b[i] ^= 0x5a
			}
			fsys, err := Open(writeFile(t, "x.tar", b), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if !fsys.Seekable() {
				t.Fatal("not read in place")
			}
			for _, e := range layoutEnts() {
				if got, err := readAll(t, fsys, e.name); err != nil || !bytes.Equal(got, e.body) {
					t.Fatalf("%s: %q, %v", e.name, got, err)
				}
			}
			if _, err := readAll(t, fsys, bigName); err == nil {
				t.Fatal("the damaged piece read without an error")
			}
		})
	}
}

// TestSeekableHostileIndex: an index that breaks a rule is not used (the archive is
// then decompressed whole, by the rules of any other archive); an index that is well
// formed but lies about a piece never gets bytes trusted: the read fails.
func TestSeekableHostileIndex(t *testing.T) {
	ents := append(layoutEnts(), blob("world"))
	hello, world := ents[2].name, ents[3].name
	for _, c := range []string{compressionGzip, compressionZstd} {
		unused := map[string]func(*seekIndex){
			"dot dot":        func(ix *seekIndex) { ix.Entries[2].Name = "../" + ix.Entries[2].Name },
			"absolute":       func(ix *seekIndex) { ix.Entries[2].Name = "/" + ix.Entries[2].Name },
			"not a layout":   func(ix *seekIndex) { ix.Entries[2].Name = "etc/passwd" },
			"duplicate":      func(ix *seekIndex) { ix.Entries[3].Name = ix.Entries[2].Name },
			"overlap":        func(ix *seekIndex) { ix.Entries[3].Offset-- },
			"past the index": func(ix *seekIndex) { ix.Entries[3].Length += 1 << 20 },
			"gap":            func(ix *seekIndex) { ix.Entries = ix.Entries[:3] },
			"negative":       func(ix *seekIndex) { ix.Entries[2].Size = -1 },
			"huge":           func(ix *seekIndex) { ix.Entries[2].Size = 1 << 62 },
			"version":        func(ix *seekIndex) { ix.Version = 2 },
			"no layout file": func(ix *seekIndex) { ix.Entries[0].Name = "blobs/sha256/" + sha256Hex([]byte("x")) },
		}
		for name, edit := range unused {
			t.Run(c+"/"+name, func(t *testing.T) {
				fsys, err := Open(writeFile(t, "x.tar", buildSeekable(t, c, edit, ents...)), Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer fsys.Close()
				if fsys.Seekable() {
					t.Fatal("the index was used")
				}
				for _, e := range ents {
					if got, err := readAll(t, fsys, e.name); err != nil || !bytes.Equal(got, e.body) {
						t.Fatalf("%s: %q, %v", e.name, got, err)
					}
				}
			})
		}
		lies := map[string]func(*seekIndex){
			"names swapped": func(ix *seekIndex) { ix.Entries[2].Name, ix.Entries[3].Name = world, hello },
			"size":          func(ix *seekIndex) { ix.Entries[2].Size = 4 },
		}
		for name, edit := range lies {
			t.Run(c+"/"+name, func(t *testing.T) {
				fsys, err := Open(writeFile(t, "x.tar", buildSeekable(t, c, edit, ents...)), Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer fsys.Close()
				if !fsys.Seekable() {
					t.Fatal("not read in place")
				}
				if got, err := readAll(t, fsys, hello); !errors.Is(err, ErrHostile) {
					t.Fatalf("read %q, %v; want ErrHostile", got, err)
				}
			})
		}
		t.Run(c+"/symlink piece", func(t *testing.T) {
			link := ent{name: "blobs/sha256/" + sha256Hex(nil), typ: tar.TypeSymlink, link: "/etc/passwd"}
			fsys, err := Open(writeFile(t, "x.tar", buildSeekable(t, c, nil, append(layoutEnts(), link)...)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if got, err := readAll(t, fsys, link.name); !errors.Is(err, ErrHostile) {
				t.Fatalf("read %q, %v; want ErrHostile", got, err)
			}
		})
		t.Run(c+"/wrong bytes", func(t *testing.T) {
			bad := ent{name: "blobs/sha256/" + sha256Hex([]byte("good")), body: []byte("evil")}
			fsys, err := Open(writeFile(t, "x.tar", buildSeekable(t, c, nil, append(layoutEnts(), bad)...)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if got, err := readAll(t, fsys, bad.name); !errors.Is(err, ErrHostile) {
				t.Fatalf("read %q, %v; want ErrHostile", got, err)
			}
		})
	}
}

// TestSeekableBomb: the decompression bounds hold for a seekable archive: an index whose
// sizes add up past the bound is not used, and the whole pass then refuses the archive.
func TestSeekableBomb(t *testing.T) {
	zeros := make([]byte, 12<<20)
	bomb := ent{name: "blobs/sha256/" + sha256Hex(zeros), body: zeros}
	for _, c := range []string{compressionGzip, compressionZstd} {
		t.Run(c, func(t *testing.T) {
			p := writeFile(t, "x.tar", buildSeekable(t, c, nil, append(layoutEnts(), bomb)...))
			_, err := Open(p, Options{MaxUncompressed: 8 << 20})
			if !errors.Is(err, ErrHostile) {
				t.Fatalf("Open: %v; want ErrHostile", err)
			}
			// Within the bound it reads, in place.
			fsys, err := Open(p, Options{MaxUncompressed: 16 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if !fsys.Seekable() {
				t.Fatal("not read in place")
			}
		})
	}
}

// TestSeekableOpenTouchesIndexOnly: Open reads the footer and the index, not the pieces:
// with every piece but the index's zeroed, Open still succeeds in place.
func TestSeekableOpenTouchesIndexOnly(t *testing.T) {
	b := buildSeekable(t, compressionGzip, nil, layoutEnts()...)
	off, _, ok := parseFooter(bytes.NewReader(b), int64(len(b)), compressionGzip)
	if !ok {
		t.Fatal("no footer")
	}
	for i := range b[:off] {
		b[i] = 0
	}
	b[0], b[1] = 0x1f, 0x8b // still sniffed as gzip
	fsys, err := Open(writeFile(t, "x.tar", b), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if !fsys.Seekable() || len(fsys.Entries()) != 3 {
		t.Fatalf("Seekable %v, entries %q", fsys.Seekable(), fsys.Entries())
	}
	if _, err := readAll(t, fsys, "index.json"); err == nil {
		t.Fatal("a zeroed piece read")
	}
}
