package tarfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeParts writes data as the split tarball dir/name: parts of size bytes named as
// the writer names them, and the checksum file when sums is set. It returns the path.
func writeParts(t testing.TB, dir, name string, data []byte, size int, sums bool) string {
	t.Helper()
	path := filepath.Join(dir, name)
	n := (len(data) + size - 1) / size
	var lines []SumLine
	for i := 0; i < n; i++ {
		chunk := data[i*size : min((i+1)*size, len(data))]
		part := PartName(path, i+1, n)
		if err := os.WriteFile(part, chunk, 0o644); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, SumLine{Sum: sha256Hex(chunk), Name: filepath.Base(part)})
	}
	if sums {
		if err := os.WriteFile(path+SumSuffix, FormatSums(lines), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestPartNames(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{1, "x.001"}, {9, "x.009"}, {99, "x.099"}, {100, "x.0100"}, {999, "x.0999"}, {1000, "x.01000"}, {MaxParts, "x.09999"}} {
		if got := PartName("x", c.n, c.n); got != c.want {
			t.Errorf("PartName(x, %d, %d) = %s, want %s", c.n, c.n, got, c.want)
		}
		if got := PartName("x", 1, c.n); !strings.HasPrefix(got, "x.0") || len(got) != len(c.want) {
			t.Errorf("PartName(x, 1, %d) = %s: not the width of the last, or not starting with 0", c.n, got)
		}
	}
}

// TestPartsFileReadAt: the parts read as one file whatever the cuts: every window of
// every cut of a buffer into two and three parts reads the bytes of the whole, with
// io.EOF exactly when the window passes the end.
func TestPartsFileReadAt(t *testing.T) {
	whole := randomBytes(97, 3)
	dir := t.TempDir()
	open := func(cuts ...int) *partsFile {
		pf := &partsFile{}
		prev := 0
		for i, c := range append(cuts, len(whole)) {
			p := filepath.Join(dir, fmt.Sprintf("p%d", i))
			if err := os.WriteFile(p, whole[prev:c], 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			pf.files = append(pf.files, f)
			pf.ends = append(pf.ends, int64(c))
			pf.names = append(pf.names, p)
			prev = c
		}
		return pf
	}
	check := func(pf *partsFile, cuts []int) {
		t.Helper()
		defer pf.Close()
		for off := 0; off <= len(whole)+1; off++ {
			for _, l := range []int{0, 1, 2, 13, 50, len(whole)} {
				b := make([]byte, l)
				n, err := pf.ReadAt(b, int64(off))
				want := whole[min(off, len(whole)):min(off+l, len(whole))]
				if n != len(want) || !bytes.Equal(b[:n], want) {
					t.Fatalf("cuts %v: ReadAt(%d bytes at %d) = %d bytes %x, want %x", cuts, l, off, n, b[:n], want)
				}
				if (n < l) != (err == io.EOF) || (err != nil && err != io.EOF) {
					t.Fatalf("cuts %v: ReadAt(%d bytes at %d): %d bytes, err %v", cuts, l, off, n, err)
				}
			}
		}
	}
	for a := 1; a < len(whole); a++ {
		check(open(a), []int{a})
		if a+1 < len(whole) {
			check(open(a, a+1), []int{a, a + 1})
		}
	}
	if _, err := open(40).ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("a negative offset was read")
	}
}

// splitEnts is a layout whose entries end at many offsets: blobs of 0, 1, 511, 512 and
// 513 bytes, so that entry data and headers meet part boundaries everywhere.
func splitEnts() []ent {
	ents := layoutEnts()
	for i, n := range []int{0, 1, 511, 512, 513} {
		b := randomBytes(n, uint64(10+i))
		ents = append(ents, ent{name: "blobs/sha256/" + sha256Hex(b), body: b})
	}
	return ents
}

func checkEnts(t *testing.T, fsys *FS, ents []ent, what string) {
	t.Helper()
	for _, e := range ents {
		got, err := readAll(t, fsys, e.name)
		if err != nil || !bytes.Equal(got, e.body) {
			t.Fatalf("%s: %s: %d bytes, %v", what, e.name, len(got), err)
		}
	}
}

// TestOpenSplitEveryBoundary: a plain tarball cut into parts opens from them and serves
// every file as the whole tarball does, with part boundaries at, and one byte either
// side of, every 512-byte block (headers and data meeting a boundary exactly or one byte
// off), and at offsets spread over the rest. TestPartsFileReadAt covers every cut of the
// reader itself, byte by byte.
func TestOpenSplitEveryBoundary(t *testing.T) {
	ents := splitEnts()
	whole := buildTar(t, ents...)
	var sizes []int
	for b := 512; b < len(whole); b += 512 {
		sizes = append(sizes, b-1, b, b+1)
	}
	for s := 100; s < len(whole); s += 97 {
		sizes = append(sizes, s)
	}
	sizes = append(sizes, len(whole)-1, len(whole), len(whole)+1)
	root := t.TempDir()
	for i, size := range sizes {
		dir := filepath.Join(root, fmt.Sprint(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := writeParts(t, dir, "x.tar", whole, size, size%2 == 0)
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) || !SplitExists(p) {
			t.Fatalf("size %d: SplitExists = false", size)
		}
		fsys, err := Open(p, Options{})
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		checkEnts(t, fsys, ents, fmt.Sprintf("size %d", size))
		if s := fsys.Split(); s == nil || s.Size() != int64(len(whole)) || (s.SumFile != "") != (size%2 == 0) {
			t.Fatalf("size %d: Split() = %+v", size, s)
		}
		fsys.Close()
		os.RemoveAll(dir)
	}
}

// TestOpenSplitSeekable: a seekable .tar.gz or .tar.zst read from its parts is still
// read in place through its seek index, whatever the part size, and reads back.
func TestOpenSplitSeekable(t *testing.T) {
	big := randomBytes(300<<10+5, 7)
	ents := append(splitEnts(), ent{name: "blobs/sha256/" + sha256Hex(big), body: big})
	for _, c := range []string{compressionGzip, compressionZstd} {
		whole := buildSeekable(t, c, nil, ents...)
		for _, size := range []int{1000, 4096, 65536, 100003, len(whole) - 1, len(whole)} {
			t.Run(fmt.Sprintf("%s/%d", c, size), func(t *testing.T) {
				p := writeParts(t, t.TempDir(), "x.tar", whole, size, true)
				fsys, err := Open(p, Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer fsys.Close()
				if !fsys.Seekable() {
					t.Fatal("read whole, not through the seek index")
				}
				checkEnts(t, fsys, ents, c)
				f, err := fsys.Open("blobs/sha256/" + sha256Hex(big))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				b := make([]byte, 1000)
				for _, off := range []int64{0, 100 << 10, int64(len(big)) - 1000} {
					if n, err := f.(io.ReaderAt).ReadAt(b, off); n != len(b) || (err != nil && err != io.EOF) || !bytes.Equal(b, big[off:off+1000]) {
						t.Fatalf("ReadAt(%d): %v", off, err)
					}
				}
				if size < len(whole)/2 && !strings.Contains(fsys.PartsOf("blobs/sha256/"+sha256Hex(big)), " to ") {
					t.Fatalf("PartsOf = %q: the blob spans several parts", fsys.PartsOf("blobs/sha256/"+sha256Hex(big)))
				}
			})
		}
	}
}

// TestSplitErrors: parts that do not make one whole are refused, naming the part, and
// nothing through a link or a FIFO is read.
func TestSplitErrors(t *testing.T) {
	whole := buildTar(t, splitEnts()...)
	size := (len(whole) + 4) / 5
	if (len(whole)+size-1)/size != 5 {
		t.Fatalf("%d bytes in parts of %d are not 5 parts", len(whole), size)
	}
	type setup func(t *testing.T, p string)
	rm := func(n int) setup {
		return func(t *testing.T, p string) { os.Remove(PartName(p, n, 5)) }
	}
	cases := []struct {
		name  string
		sums  bool
		edit  setup
		class error
		want  string
	}{
		{"missing listed part", true, rm(3), ErrCorrupt, "x.tar.003: corrupt archive: missing (listed in "},
		{"missing last listed part", true, rm(5), ErrCorrupt, "x.tar.005: corrupt archive: missing (listed in "},
		{"gap without sums", false, rm(2), ErrCorrupt, "x.tar.002: corrupt archive: missing ("},
		{"unlisted part", true, func(t *testing.T, p string) { os.WriteFile(p+".006", []byte("x"), 0o644) }, ErrCorrupt, "x.tar.006: corrupt archive: not listed in "},
		{"part of another width", true, func(t *testing.T, p string) { os.WriteFile(p+".0001", []byte("x"), 0o644) }, ErrCorrupt, "x.tar.0001: corrupt archive: not listed in "},
		{"two widths without sums", false, func(t *testing.T, p string) { os.Rename(p+".005", p+".0005") }, ErrCorrupt, "parts of two sets"},
		{"part cut short", true, func(t *testing.T, p string) { os.Truncate(p+".002", 999) }, ErrCorrupt, "x.tar.002: corrupt archive: 999 bytes where "},
		{"last part too long", false, func(t *testing.T, p string) { os.WriteFile(p+".005", make([]byte, size+1), 0o644) }, ErrCorrupt, "x.tar.005: corrupt archive: " + fmt.Sprint(size+1) + " bytes, more than"},
		{"last part cut at an entry boundary", false, func(t *testing.T, p string) {
			last := PartName(p, 5, 5)
			fi, _ := os.Stat(last)
			os.Truncate(last, fi.Size()-1024) // the end-of-archive blocks
		}, ErrCorrupt, "x.tar.005: corrupt archive: the tar does not end with its two zero blocks"},
		{"empty part", false, func(t *testing.T, p string) { os.Truncate(p+".005", 0) }, ErrCorrupt, "x.tar.005: corrupt archive: empty"},
		{"symlink part", true, func(t *testing.T, p string) {
			os.Rename(p+".002", p+".real")
			os.Symlink(filepath.Base(p)+".real", p+".002")
		}, ErrHostile, "x.tar.002: hostile archive: a symbolic link"},
		{"FIFO part", false, func(t *testing.T, p string) {
			os.Remove(p + ".004")
			if err := mkfifo(p + ".004"); err != nil {
				t.Skip(err)
			}
		}, ErrHostile, "x.tar.004: hostile archive: a FIFO"},
		{"symlink sum file", true, func(t *testing.T, p string) {
			os.Rename(p+SumSuffix, p+".sums")
			os.Symlink(filepath.Base(p)+".sums", p+SumSuffix)
		}, ErrHostile, "x.tar.sha256: hostile archive: a symbolic link"},
		{"sum file out of order", true, func(t *testing.T, p string) {
			b, _ := os.ReadFile(p + SumSuffix)
			l := strings.SplitAfter(string(b), "\n")
			l[0], l[1] = l[1], l[0]
			os.WriteFile(p+SumSuffix, []byte(strings.Join(l, "")), 0o644)
		}, ErrCorrupt, `line 1 names "x.tar.002" where part 1 (x.tar.001) belongs`},
		{"sum file with CRLF", true, func(t *testing.T, p string) {
			b, _ := os.ReadFile(p + SumSuffix)
			os.WriteFile(p+SumSuffix, bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), 0o644)
		}, ErrCorrupt, "line 1: carriage return"},
		{"damaged part", true, func(t *testing.T, p string) {
			b, _ := os.ReadFile(p + ".001")
			b[1024+10] ^= 0xff // the name in the second header
			os.WriteFile(p+".001", b, 0o644)
		}, ErrCorrupt, "x.tar.001: corrupt archive: sha256 mismatch: "},
		{"only the sum file", true, func(t *testing.T, p string) {
			for i := 1; i <= 5; i++ {
				os.Remove(PartName(p, i, 5))
			}
		}, ErrCorrupt, "x.tar.001: corrupt archive: missing (listed in "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeParts(t, t.TempDir(), "x.tar", whole, size, c.sums)
			c.edit(t, p)
			fsys, err := Open(p, Options{})
			if err == nil {
				fsys.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, c.class) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want %v and %q", err, c.class, c.want)
			}
		})
	}
}

// TestSplitVerify: Verify names each part whose bytes do not hash to its listed sum, and
// nothing else; a damaged byte inside a blob's data is not seen by Open (the layout
// package's verified read finds it) but is by Verify.
func TestSplitVerify(t *testing.T) {
	whole := buildTar(t, splitEnts()...)
	p := writeParts(t, t.TempDir(), "x.tar", whole, 1000, true)
	fsys, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if errs := fsys.Split().Verify(context.Background()); len(errs) != 0 {
		t.Fatal(errs)
	}
	fsys.Close()
	for _, n := range []int{2, 4} {
		b, _ := os.ReadFile(PartName(p, n, 5))
		b[len(b)-1] ^= 1
		os.WriteFile(PartName(p, n, 5), b, 0o644)
	}
	s, err := FindSplit(p)
	if err != nil {
		t.Fatal(err)
	}
	errs := s.Verify(context.Background())
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "x.tar.002: ") || !strings.Contains(errs[1].Error(), "x.tar.004: ") || !errors.Is(errs[0], ErrCorrupt) {
		t.Fatalf("Verify = %v", errs)
	}
}

// TestSplitWholeWins: when the whole tarball is there, it is read, and its parts are not.
func TestSplitWholeWins(t *testing.T) {
	dir := t.TempDir()
	p := writeParts(t, dir, "x.tar", []byte("not a tarball at all, and cut short"), 10, true)
	if !SplitExists(p) {
		t.Fatal("SplitExists = false")
	}
	if err := os.WriteFile(p, buildTar(t, layoutEnts()...), 0o644); err != nil {
		t.Fatal(err)
	}
	if SplitExists(p) {
		t.Fatal("SplitExists = true beside the whole tarball")
	}
	fsys, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if fsys.Split() != nil {
		t.Fatal("read from its parts")
	}
	// Parts of a name that is not a tarball's count with their checksum file only.
	data := writeParts(t, dir, "data", []byte("0123456789"), 4, false)
	if SplitExists(data) {
		t.Fatal("data.001 makes data a split tarball")
	}
	// A checksum file counts when it lists parts; one that says something else (empty,
	// or sha256sum of a file named data) is the user's.
	h := strings.Repeat("ab", 32)
	for _, other := range []string{"", h + "  data\n", "not a checksum file\n"} {
		if os.WriteFile(data+SumSuffix, []byte(other), 0o644); SplitExists(data) {
			t.Fatalf("data.sha256 holding %q makes data a split tarball", other)
		}
	}
	if os.WriteFile(data+SumSuffix, []byte(h+"  data.001\n"), 0o644); !SplitExists(data) {
		t.Fatal("data.sha256 listing data.001 does not make data a split tarball")
	}
}

func TestParseSums(t *testing.T) {
	h := strings.Repeat("ab", 32)
	good := []struct {
		in   string
		want []SumLine
	}{
		{h + "  x.tar.001\n", []SumLine{{h, "x.tar.001"}}},
		{h + " *x.tar.001\n" + strings.ToUpper(h) + "  x.tar.002", []SumLine{{h, "x.tar.001"}, {h, "x.tar.002"}}},
		{h + "  name with  spaces\n", []SumLine{{h, "name with  spaces"}}},
	}
	for _, g := range good {
		got, err := ParseSums([]byte(g.in))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(g.want) {
			t.Errorf("ParseSums(%q) = %v, %v; want %v", g.in, got, err, g.want)
		}
	}
	for _, in := range []string{
		"", "\n", h + "  x\n\n", h + " x\n", h + "\tx\n", h + "  \n", h[:63] + "  x\n", h + "a  x\n",
		strings.Repeat("zz", 32) + "  x\n", "\\" + h + "  x\\\\y\n", h + "  x\r\n",
		strings.Repeat(h+"  x\n", MaxParts+1),
	} {
		if got, err := ParseSums([]byte(in)); err == nil {
			t.Errorf("ParseSums(%.80q) = %v, want an error", in, got)
		}
	}
}

// FuzzParseSums: whatever ParseSums accepts is lines of a lowercase sum and a name
// without a newline or carriage return, which FormatSums writes back into a file that
// parses to the same lines.
func FuzzParseSums(f *testing.F) {
	h := strings.Repeat("0f", 32)
	for _, s := range []string{
		h + "  x.tar.001\n", h + " *x.tar.001\n" + h + "  x.tar.002", h + "  x\r\n", "\\" + h + "  a\\nb\n",
		h + "  x\n\n", "", strings.ToUpper(h) + "  y\n", h + "   three spaces\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := ParseSums(data)
		if err != nil {
			return
		}
		if len(lines) == 0 || len(lines) > MaxParts {
			t.Fatalf("%d lines", len(lines))
		}
		for _, l := range lines {
			if len(l.Sum) != 64 || strings.ToLower(l.Sum) != l.Sum || l.Name == "" || strings.ContainsAny(l.Name, "\r\n") {
				t.Fatalf("line %+v", l)
			}
		}
		again, err := ParseSums(FormatSums(lines))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(lines) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, lines)
		}
	})
}
