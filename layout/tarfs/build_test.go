package tarfs

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// ent is one entry of an archive a test builds.
type ent struct {
	name string
	typ  byte // tar.TypeReg when zero
	body []byte
	link string
	pax  map[string]string
}

func reg(name string, body string) ent { return ent{name: name, body: []byte(body)} }
func dirEnt(name string) ent           { return ent{name: name, typ: tar.TypeDir} }

// blob is a regular entry named after the sha256 of its body.
func blob(body string) ent {
	return ent{name: "blobs/sha256/" + sha256Hex([]byte(body)), body: []byte(body)}
}

func sha512Hex(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

const (
	ociLayout = `{"imageLayoutVersion":"1.0.0"}`
	emptyIdx  = `{"schemaVersion":2,"manifests":[]}`
)

// layoutEnts is a small valid layout.
func layoutEnts() []ent {
	return []ent{reg("oci-layout", ociLayout), reg("index.json", emptyIdx), blob("hello")}
}

// buildTar writes ents with archive/tar.
func buildTar(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{
			Name: e.name, Typeflag: typ, Linkname: e.link, Mode: 0o644,
			Size: int64(len(e.body)), ModTime: time.Unix(1700000000, 0), PAXRecords: e.pax,
		}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if typ == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: typ, PAXRecords: e.pax}
		}
		if typ == tar.TypeChar || typ == tar.TypeBlock {
			h.Devmajor, h.Devminor = 1, 3
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("write header %q: %v", e.name, err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawHeader is a 512-byte tar header block written by hand, for what archive/tar will not
// write. gnu selects the GNU magic instead of ustar.
func rawHeader(name string, typ byte, size int64, gnu bool) []byte {
	h := make([]byte, 512)
	copy(h[0:100], name)
	copy(h[100:108], "0000644\x00")
	copy(h[108:116], "0000000\x00")
	copy(h[116:124], "0000000\x00")
	copy(h[124:136], fmt.Sprintf("%011o\x00", size))
	copy(h[136:148], fmt.Sprintf("%011o\x00", 1700000000))
	h[156] = typ
	if gnu {
		copy(h[257:265], "ustar  \x00")
	} else {
		copy(h[257:265], "ustar\x0000")
	}
	return h
}

// checksum fills in a header block's checksum field.
func checksum(h []byte) []byte {
	copy(h[148:156], "        ")
	var sum int64
	for _, c := range h {
		sum += int64(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

// padded pads data to whole blocks.
func padded(data []byte) []byte {
	if r := len(data) % 512; r != 0 {
		data = append(data, make([]byte, 512-r)...)
	}
	return data
}

// paxRecord formats one PAX record, NUL bytes and all.
func paxRecord(k, v string) string {
	rec := " " + k + "=" + v + "\n"
	size := len(rec) + len(strconv.Itoa(len(rec)))
	out := strconv.Itoa(size) + rec
	if len(out) != size {
		out = strconv.Itoa(len(out)) + rec
	}
	return out
}

// paxHeader is a PAX extended header carrying records, written by hand.
func paxHeader(records string) []byte {
	return append(checksum(rawHeader("PaxHeaders/x", tar.TypeXHeader, int64(len(records)), false)), padded([]byte(records))...)
}

// endOfArchive is the two zero blocks that end a tar archive.
var endOfArchive = make([]byte, 1024)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := stdgzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// writeFile writes b into a fresh folder of its own and returns the path.
func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// emptyDir fails the test unless dir holds nothing.
func emptyDir(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s holds %s", dir, e.Name())
	}
}
