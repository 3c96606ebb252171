package tarfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// archiveCase is one archive of the corpus: how to make it, and what Open must say.
type archiveCase struct {
	name    string
	file    string // the archive's file name; "x.tar" when empty
	make    func(t *testing.T) []byte
	opts    Options
	want    error    // nil: Open succeeds
	mention []string // what the error message must name (the entry, as a rule)
}

func plain(ents ...ent) func(t *testing.T) []byte {
	return func(t *testing.T) []byte { return buildTar(t, ents...) }
}

func gzipped(ents ...ent) func(t *testing.T) []byte {
	return func(t *testing.T) []byte { return gzipBytes(t, buildTar(t, ents...)) }
}

func zstded(ents ...ent) func(t *testing.T) []byte {
	return func(t *testing.T) []byte { return zstdBytes(t, buildTar(t, ents...)) }
}

// withLayout puts extra entries after a valid layout's.
func withLayout(extra ...ent) []ent { return append(layoutEnts(), extra...) }

// raw makes an archive from hand-written blocks, after a valid layout's entries.
func raw(blocks ...[]byte) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		b := buildTar(t, layoutEnts()...)
		b = b[:len(b)-1024] // drop the end-of-archive blocks archive/tar wrote
		for _, blk := range blocks {
			b = append(b, blk...)
		}
		return append(b, endOfArchive...)
	}
}

// A docker save archive (before Docker 25) of one image with one layer, whose
// <id>/layer.tar is the entry the case adds (a link to the layer file, or nothing).
const (
	savedLayer = "layer bytes, as docker save stores an uncompressed layer"
	savedID    = "5555555555555555555555555555555555555555555555555555555555555555"
)

var (
	savedLayerHex   = sha256Hex([]byte(savedLayer))
	savedConfigJSON = `{"architecture":"arm64","os":"linux","variant":"v8","rootfs":{"type":"layers","diff_ids":["sha256:` + savedLayerHex + `"]}}`
	savedConfigName = sha256Hex([]byte(savedConfigJSON)) + ".json"
	savedManifest   = `[{"Config":"` + savedConfigName + `","RepoTags":["registry.example.com/team/app:7"],"Layers":["` + savedID + `/layer.tar"]}]`
)

func savedEnts(layer ...ent) []ent {
	return append([]ent{reg(savedLayerHex+".tar", savedLayer), reg(savedConfigName, savedConfigJSON), dirEnt(savedID + "/"), reg(savedID+"/VERSION", "1.0")},
		append(layer, reg("manifest.json", savedManifest), reg("repositories", "{}"))...)
}

var (
	helloHex = sha256Hex([]byte("hello"))
	zeros8M  = make([]byte, 8<<20)
)

func corpus() []archiveCase {
	return []archiveCase{
		// F 57, 59, 63: what must read.
		{name: "dot-slash names", make: plain(dirEnt("./"), reg("./oci-layout", ociLayout), reg("./index.json", emptyIdx), dirEnt("./blobs/"), dirEnt("./blobs/sha256/"), blob("hello"))},
		{name: "gzip named x.tar", make: gzipped(layoutEnts()...)},
		{name: "zstd named x.tar", make: zstded(layoutEnts()...)},
		{name: "tar.gz", file: "x.tar.gz", make: gzipped(layoutEnts()...)},
		{name: "docker save 25", make: plain(withLayout(reg("manifest.json", `[{"Config":"blobs/sha256/`+helloHex+`"}]`), reg("repositories", "{}"))...)},
		{name: "ingest folder", make: plain(withLayout(dirEnt("ingest/"), reg("ingest/partial", "x"), dirEnt("ingest/deep/"))...)},
		{name: "global pax comment", make: plain(append([]ent{{typ: tar.TypeXGlobalHeader, pax: map[string]string{"comment": "git archive"}}}, layoutEnts()...)...)},
		{name: "unknown algorithm", make: plain(withLayout(reg("blobs/blake3/"+helloHex, "not hashed"))...)},
		{name: "blobs before the rest", make: plain(blob("a"), blob("b"), reg("index.json", emptyIdx), reg("oci-layout", ociLayout))},

		// F 60: names.
		{name: "dot-dot", make: plain(withLayout(reg("../evil", "x"))...), want: ErrHostile, mention: []string{`entry "../evil"`, `".."`}},
		{name: "absolute", make: plain(withLayout(reg("/etc/passwd", "x"))...), want: ErrHostile, mention: []string{`entry "/etc/passwd"`, "absolute"}},
		{name: "dot-dot under blobs", make: plain(withLayout(reg("blobs/../../x", "x"))...), want: ErrHostile, mention: []string{`entry "blobs/../../x"`}},
		{name: "dot-dot that cleans away", make: plain(withLayout(reg("blobs/../manifest.json", "x"))...), want: ErrHostile, mention: []string{`entry "blobs/../manifest.json"`}},
		{name: "backslashes", make: plain(withLayout(reg(`blobs\sha256\`+helloHex, "x"))...), want: ErrHostile, mention: []string{`entry "blobs\\sha256\\`, "backslash"}},
		{name: "drive letter", make: plain(withLayout(reg("C:x", "x"))...), want: ErrHostile, mention: []string{`entry "C:x"`}},
		{name: "not utf-8", make: plain(withLayout(reg("\xff\xfe", "x"))...), want: ErrHostile, mention: []string{`entry "\xff\xfe"`, "UTF-8"}},
		{name: "windows device", make: plain(withLayout(reg("CON.txt", "x"))...), want: ErrHostile, mention: []string{`entry "CON.txt"`}},
		{name: "long component", make: plain(withLayout(reg("ingest/"+strings.Repeat("a", 256), "x"))...), want: ErrHostile, mention: []string{"255 bytes"}},
		// A NUL cannot reach a name: archive/tar refuses the PAX record carrying it, so the
		// header is malformed, and the error points at where it is.
		{name: "NUL in a PAX path", make: raw(paxHeader(paxRecord("path", "blobs/sha256/a\x00/../../../etc/passwd")), checksum(rawHeader("x", tar.TypeReg, 0, false))), want: ErrCorrupt, mention: []string{`entry "blobs/sha256/` + helloHex + `" or the header after it`}},
		{name: "file named after the root", make: plain(withLayout(reg(".", "x"))...), want: ErrHostile, mention: []string{`entry "."`}},

		// Names under blobs/ and the layout files.
		{name: "algorithm in capitals", make: plain(withLayout(reg("blobs/SHA256/"+helloHex, "x"))...), want: ErrHostile, mention: []string{`entry "blobs/SHA256/`}},
		{name: "sha256 not hex", make: plain(withLayout(reg("blobs/sha256/xyz", "x"))...), want: ErrHostile, mention: []string{`entry "blobs/sha256/xyz"`, "64 lowercase hex"}},
		{name: "too deep", make: plain(withLayout(reg("blobs/sha256/a/b", "x"))...), want: ErrHostile, mention: []string{`entry "blobs/sha256/a/b"`}},
		{name: "encoded with a dot", make: plain(withLayout(reg("blobs/other/a.tmp", "x"))...), want: ErrHostile, mention: []string{`entry "blobs/other/a.tmp"`}},
		{name: "index.json folder", make: plain(reg("oci-layout", ociLayout), dirEnt("index.json/")), want: ErrHostile, mention: []string{`entry "index.json/"`}},
		{name: "blobs file", make: plain(withLayout(reg("blobs2", "x"), reg("blobs", "x"))...), want: ErrHostile, mention: []string{`entry "blobs"`}},
		{name: "blob folder", make: plain(withLayout(dirEnt("blobs/sha256/" + sha256Hex([]byte("x")) + "/"))...), want: ErrHostile, mention: []string{`entry "blobs/sha256/`}},
		{name: "file in algorithm slot", make: plain(withLayout(reg("blobs/sha512", "x"))...), want: ErrHostile, mention: []string{`entry "blobs/sha512"`}},

		// F 61: types.
		{name: "absolute symlink", make: plain(withLayout(ent{name: "blobs/sha256/" + sha256Hex([]byte("s")), typ: tar.TypeSymlink, link: "/etc/shadow"})...), want: ErrHostile, mention: []string{`entry "blobs/sha256/`, "symlink", "/etc/shadow"}},
		{name: "relative symlink chain", make: plain(withLayout(ent{name: "ingest/sub", typ: tar.TypeSymlink, link: "."}, ent{name: "ingest/sub/parent", typ: tar.TypeSymlink, link: ".."}, reg("ingest/sub/parent/escaped", "x"))...), want: ErrHostile, mention: []string{`entry "ingest/sub"`, "symlink"}},
		{name: "hard link", make: plain(withLayout(ent{name: "blobs/sha256/" + sha256Hex([]byte("h")), typ: tar.TypeLink, link: "victim.secret"})...), want: ErrHostile, mention: []string{"hard link", "victim.secret"}},
		{name: "char device", make: plain(withLayout(ent{name: "tty", typ: tar.TypeChar})...), want: ErrHostile, mention: []string{`entry "tty"`, "character device"}},
		{name: "block device", make: plain(withLayout(ent{name: "sda", typ: tar.TypeBlock})...), want: ErrHostile, mention: []string{`entry "sda"`, "block device"}},
		{name: "fifo", make: plain(withLayout(ent{name: "pipe", typ: tar.TypeFifo})...), want: ErrHostile, mention: []string{`entry "pipe"`, "FIFO"}},
		{name: "old GNU sparse", make: raw(oldGNUSparse("blobs/sha256/" + helloHex + "0")), want: ErrHostile, mention: []string{"sparse"}},
		{name: "PAX GNU sparse", make: raw(paxGNUSparse()...), want: ErrHostile, mention: []string{`entry "blobs/sha256/`, "sparse"}},
		{name: "contiguous file", make: plain(withLayout(ent{name: "c", typ: tar.TypeCont})...), want: ErrHostile, mention: []string{`entry "c"`}},
		{name: "global header renames", make: plain(append([]ent{{typ: tar.TypeXGlobalHeader, pax: map[string]string{"path": "../evil"}}}, layoutEnts()...)...), want: ErrHostile, mention: []string{"global PAX header", `"path"`}},

		// F 62: duplicates.
		{name: "index.json twice", make: plain(withLayout(reg("./index.json", `{"schemaVersion":2,"manifests":[{}]}`))...), want: ErrHostile, mention: []string{`entry "./index.json"`, `the first is "index.json"`}},
		{name: "blob twice", make: plain(withLayout(blob("hello"))...), want: ErrHostile, mention: []string{`entry "blobs/sha256/` + helloHex + `"`, "second entry"}},
		{name: "folder twice", make: plain(withLayout(dirEnt("blobs/"), dirEnt("./blobs"))...), want: ErrHostile, mention: []string{`entry "./blobs"`}},
		{name: "file then folder", make: plain(withLayout(reg("extra", "x"), reg("extra/inside", "y"))...), want: ErrHostile, mention: []string{`entry "extra/inside"`}},
		{name: "folder then file", make: plain(withLayout(reg("ingest/x", "y"), reg("ingest", "x"))...), want: ErrHostile, mention: []string{`entry "ingest"`}},

		// F 58, 64: not a layout.
		{name: "top-level folder", make: plain(dirEnt("mylayout/"), reg("mylayout/oci-layout", ociLayout), reg("mylayout/index.json", emptyIdx), reg("mylayout/blobs/sha256/"+helloHex, "hello")), want: ErrNotLayout, mention: []string{`entry "mylayout/index.json"`, `folder "mylayout/"`, "tar -C mylayout -cf x.tar ."}},
		// docker save before Docker 25: manifest.json, in-archive links for shared layers.
		{name: "docker save before 25", make: plain(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "../" + savedLayerHex + ".tar"})...)},
		{name: "docker save gzipped", make: gzipped(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "../" + savedLayerHex + ".tar"})...)},
		{name: "docker save link out of the archive", make: plain(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "../../" + savedLayerHex + ".tar"})...), want: ErrHostile, mention: []string{`entry "` + savedID + `/layer.tar"`, "leads out of the archive"}},
		{name: "docker save absolute link", make: plain(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "/etc/passwd"})...), want: ErrHostile, mention: []string{`entry "` + savedID + `/layer.tar"`, `"/etc/passwd"`}},
		{name: "docker save link to a link", make: plain(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "other.tar"}, ent{name: savedID + "/other.tar", typ: tar.TypeSymlink, link: "../" + savedLayerHex + ".tar"})...), want: ErrHostile, mention: []string{`entry "` + savedID + `/layer.tar"`, "not a regular file of the archive"}},
		{name: "docker save link to a folder", make: plain(savedEnts(dirEnt("d/"), ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "../d"})...), want: ErrHostile, mention: []string{`entry "` + savedID + `/layer.tar"`, "not a regular file"}},
		{name: "docker save link to nothing", make: plain(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "../missing.tar"})...), want: ErrHostile, mention: []string{`entry "` + savedID + `/layer.tar"`, `"../missing.tar"`}},
		{name: "docker save link to itself", make: plain(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "layer.tar"})...), want: ErrHostile, mention: []string{`entry "` + savedID + `/layer.tar"`}},
		{name: "docker save unused bad link", make: plain(append(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeSymlink, link: "../" + savedLayerHex + ".tar"}), ent{name: "spare", typ: tar.TypeSymlink, link: "/etc/shadow"})...), want: ErrHostile, mention: []string{`entry "spare"`, "/etc/shadow"}},
		{name: "docker save hard link", make: plain(savedEnts(ent{name: savedID + "/layer.tar", typ: tar.TypeLink, link: savedLayerHex + ".tar"})...), want: ErrHostile, mention: []string{`entry "` + savedID + `/layer.tar"`, "hard link"}},
		{name: "docker save layer missing", make: plain(savedEnts()...), want: ErrCorrupt, mention: []string{"manifest.json", `layer 1 of image 1 (registry.example.com/team/app:7) "` + savedID + `/layer.tar" is not in the archive`}},
		{name: "docker save diff IDs short", make: plain(reg("manifest.json", savedManifest), reg(savedConfigName, `{"rootfs":{"diff_ids":[]}}`), reg(savedLayerHex+".tar", savedLayer), reg(savedID+"/layer.tar", savedLayer)), want: ErrCorrupt, mention: []string{`entry "` + savedConfigName + `"`, "0 diff IDs for its 1 layers"}},
		{name: "docker save no image", make: plain(reg("manifest.json", "[]"), reg("repositories", "{}")), want: ErrNotLayout, mention: []string{"manifest.json", "no image"}},
		{name: "docker save not JSON", make: plain(reg("manifest.json", "{"), reg("repositories", "{}")), want: ErrCorrupt, mention: []string{"manifest.json", "not a docker save manifest"}},
		{name: "docker save config out of the archive", make: plain(reg("manifest.json", `[{"Config":"../x.json","Layers":[]}]`)), want: ErrHostile, mention: []string{"manifest.json", `"../x.json"`}},
		{name: "symlink before a layout's index.json", make: plain(ent{name: "ingest/x", typ: tar.TypeSymlink, link: "../index.json"}, reg("oci-layout", ociLayout), reg("index.json", emptyIdx)), want: ErrHostile, mention: []string{`entry "ingest/x"`, "symlink"}},
		{name: "no oci-layout", make: plain(reg("index.json", emptyIdx), blob("hello")), want: ErrNotLayout, mention: []string{"no oci-layout at the archive root"}},
		{name: "no index.json", make: plain(reg("oci-layout", ociLayout), blob("hello")), want: ErrNotLayout, mention: []string{"no index.json at the archive root"}},
		{name: "only folders", make: plain(dirEnt("blobs/")), want: ErrNotLayout},

		// F 65: bounds.
		{name: "index.json of 50 MiB", make: plain(reg("oci-layout", ociLayout), ent{name: "index.json", body: bytes.Repeat([]byte(" "), 50<<20+1)}), want: ErrHostile, mention: []string{`entry "index.json"`, "52428801 bytes"}},
		{name: "oci-layout over the cap", opts: Options{MaxJSONSize: 10}, make: plain(layoutEnts()...), want: ErrHostile, mention: []string{`entry "oci-layout"`}},
		{name: "gigantic PAX header", make: raw(paxHeader(paxRecord("comment", strings.Repeat("a", 2<<20))), checksum(rawHeader("x", tar.TypeReg, 0, false))), want: ErrHostile, mention: []string{`entry "blobs/sha256/` + helloHex + `" or the header after it`, "too long"}},
		{name: "too many entries", opts: Options{MaxEntries: 3}, make: plain(withLayout(reg("manifest.json", "[]"))...), want: ErrHostile, mention: []string{`entry "manifest.json"`, "more than 3 entries"}},
		{name: "gzip bomb in a blob", opts: Options{MaxUncompressed: 1 << 20}, make: gzipped(withLayout(ent{name: "blobs/sha256/" + sha256Hex(zeros8M), body: zeros8M})...), want: ErrHostile, mention: []string{`entry "blobs/sha256/` + sha256Hex(zeros8M) + `"`, "more than 1048576 bytes"}},
		{name: "gzip bomb in an extra", opts: Options{MaxUncompressed: 1 << 20}, make: gzipped(withLayout(ent{name: "padding", body: zeros8M})...), want: ErrHostile, mention: []string{`entry "padding"`, "more than 1048576 bytes"}},
		{name: "zstd bomb", opts: Options{MaxUncompressed: 1 << 20}, make: zstded(withLayout(ent{name: "padding", body: zeros8M})...), want: ErrHostile, mention: []string{`entry "padding"`}},
		{name: "zstd window of 128 MiB", make: zstdWindow(27)},
		{name: "zstd window over 128 MiB", make: zstdWindow(28), want: ErrHostile, mention: []string{"window over 128 MiB"}},
		{name: "bomb after the end of the tar", opts: Options{MaxUncompressed: 1 << 20}, make: func(t *testing.T) []byte {
			return gzipBytes(t, append(buildTar(t, layoutEnts()...), zeros8M...))
		}, want: ErrHostile, mention: []string{"after the end of the tar stream"}},

		// F 66: blob content in a compressed archive.
		{name: "gzip blob mismatch", make: gzipped(withLayout(ent{name: "blobs/sha256/" + sha256Hex([]byte("claimed")), body: []byte("actual")})...), want: ErrHostile, mention: []string{`entry "blobs/sha256/` + sha256Hex([]byte("claimed")) + `"`, "sha256:" + sha256Hex([]byte("actual"))}},
		{name: "zstd sha512 mismatch", make: zstded(withLayout(ent{name: "blobs/sha512/" + sha512Hex([]byte("claimed")), body: []byte("actual")})...), want: ErrHostile, mention: []string{`entry "blobs/sha512/`}},
		{name: "gzip blob mismatch with ./", make: gzipped(withLayout(ent{name: "./blobs/sha256/" + sha256Hex([]byte("claimed")), body: []byte("actual")})...), want: ErrHostile, mention: []string{`entry "./blobs/sha256/`}},

		// F 59: corruption.
		{name: "truncated gzip", make: func(t *testing.T) []byte {
			b := gzipBytes(t, buildTar(t, withLayout(blob(strings.Repeat("payload ", 4096)))...))
			return b[:len(b)/2]
		}, want: ErrCorrupt},
		{name: "gzip missing its trailer", make: func(t *testing.T) []byte {
			b := gzipBytes(t, buildTar(t, layoutEnts()...))
			return b[:len(b)-4]
		}, want: ErrCorrupt, mention: []string{"after the end of the tar stream"}},
		{name: "gzip with trailing garbage", make: func(t *testing.T) []byte {
			return append(gzipBytes(t, buildTar(t, layoutEnts()...)), "garbage!!!!!"...)
		}, want: ErrCorrupt},
		{name: "gzip bad header", make: func(t *testing.T) []byte { return []byte{0x1f, 0x8b, 0x09, 0, 0, 0} }, want: ErrCorrupt, mention: []string{"gzip"}},
		{name: "truncated zstd", make: func(t *testing.T) []byte {
			b := zstdBytes(t, buildTar(t, withLayout(blob(strings.Repeat("payload ", 4096)))...))
			return b[:len(b)-10]
		}, want: ErrCorrupt},
		{name: "truncated tar in a blob", make: func(t *testing.T) []byte {
			b := buildTar(t, withLayout(blob(strings.Repeat("x", 3000)))...)
			return b[:len(b)-1024-1024] // the last blob's data is cut
		}, want: ErrCorrupt, mention: []string{`entry "blobs/sha256/` + sha256Hex([]byte(strings.Repeat("x", 3000))) + `"`, "truncated"}},
		{name: "truncated tar in a header", make: func(t *testing.T) []byte {
			b := buildTar(t, layoutEnts()...)
			return b[:512*4+100]
		}, want: ErrCorrupt},
		{name: "bad header checksum", make: func(t *testing.T) []byte {
			b := buildTar(t, layoutEnts()...)
			b[512*2+10] ^= 0xff // inside index.json's header
			return b
		}, want: ErrCorrupt, mention: []string{`entry "oci-layout" or the header after it`}},
		{name: "garbage", make: func(t *testing.T) []byte { return bytes.Repeat([]byte("not a tarball "), 100) }, want: ErrCorrupt, mention: []string{"not a tar archive"}},
		{name: "empty file", make: func(t *testing.T) []byte { return nil }, want: ErrCorrupt, mention: []string{"empty"}},
		{name: "xz", make: func(t *testing.T) []byte { return []byte("\xfd7zXZ\x00rest") }, want: ErrCorrupt, mention: []string{"xz"}},
		{name: "bzip2", make: func(t *testing.T) []byte { return []byte("BZh91AY&SY") }, want: ErrCorrupt, mention: []string{"bzip2"}},
	}
}

// zstdWindow is a zstd frame written by hand that declares a window of 2^log bytes and
// holds a small layout's tar as one raw block.
func zstdWindow(log byte) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		tarball := buildTar(t, layoutEnts()...)
		frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, (log - 10) << 3}
		h := len(tarball)<<3 | 1 // a raw block, the last
		frame = append(frame, byte(h), byte(h>>8), byte(h>>16))
		return append(frame, tarball...)
	}
}

// oldGNUSparse is an entry in the old GNU sparse format: a GNU header of type 'S' with
// one data fragment.
func oldGNUSparse(name string) []byte {
	h := rawHeader(name, tar.TypeGNUSparse, 512, true)
	copy(h[386:398], fmt.Sprintf("%011o\x00", 0))    // sparse[0].offset
	copy(h[398:410], fmt.Sprintf("%011o\x00", 512))  // sparse[0].numbytes
	copy(h[483:495], fmt.Sprintf("%011o\x00", 1024)) // realsize
	return append(checksum(h), make([]byte, 512)...)
}

// paxGNUSparse is an entry in GNU's PAX sparse format 1.0, whose data starts with the
// sparse map.
func paxGNUSparse() [][]byte {
	recs := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
		paxRecord("GNU.sparse.name", "blobs/sha256/"+sha256Hex([]byte("sparse"))) + paxRecord("GNU.sparse.realsize", "1024")
	data := padded([]byte("1\n0\n512\n"))
	data = append(data, make([]byte, 512)...)
	return [][]byte{paxHeader(recs), checksum(rawHeader("GNUSparseFile.0/x", tar.TypeReg, int64(len(data)), false)), data}
}

// TestCorpus opens every archive of the corpus (SPEC-NOTES F 57-66) and checks the error
// class, that the message names the archive and the entry, and that nothing is written
// anywhere but the temp folder, which is empty again once the FS is closed.
func TestCorpus(t *testing.T) {
	for _, tc := range corpus() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := tc.file
			if file == "" {
				file = "x.tar"
			}
			p := filepath.Join(dir, file)
			if err := os.WriteFile(p, tc.make(t), 0o644); err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			opts := tc.opts
			opts.TempDir = tmp
			fsys, err := Open(p, opts)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Open = %v", err)
				}
				for _, name := range fsys.Entries() {
					if _, err := fs.ReadFile(fsys, name); err != nil {
						t.Error(err)
					}
				}
				if err := fsys.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open = %v, want %v", err, tc.want)
				}
				for _, other := range []error{ErrHostile, ErrNotLayout, ErrCorrupt} {
					if other != tc.want && errors.Is(err, other) {
						t.Errorf("Open = %v, which is also %v", err, other)
					}
				}
				msg := err.Error()
				t.Log(msg)
				if !strings.HasPrefix(msg, "open tarball "+p+": ") {
					t.Errorf("message %q does not start with the archive", msg)
				}
				for _, m := range tc.mention {
					if !strings.Contains(msg, m) {
						t.Errorf("message %q does not mention %q", msg, m)
					}
				}
				if fsys != nil {
					t.Error("Open returned an FS with its error")
				}
			}
			emptyDir(t, tmp)
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("the archive's folder holds %d files", len(ents))
			}
		})
	}
}
