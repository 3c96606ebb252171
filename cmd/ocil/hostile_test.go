package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snapshot hashes every file under dir, so a test can prove nothing changed.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		sum := sha256.Sum256(data)
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s %s\n", rel, hex.EncodeToString(sum[:]))
		return nil
	})
	return b.String()
}

type tarEntry struct {
	name, link string
	typ        byte
	data       string
}

func writeTar(t *testing.T, path string, gz bool, entries ...tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: typ, Mode: 0o644, Size: int64(len(e.data))}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.data))
		}
	}
	tw.Close()
	data := buf.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(data)
		w.Close()
		data = z.Bytes()
	}
	os.WriteFile(path, data, 0o644)
}

// One table of hostile inputs across every parser the command line reaches: references,
// platforms, index.json and manifests, tarballs. Each is fed to a command that would
// write into a victim layout; each must exit with its class (2 syntax, 1 refused input)
// and leave the victim exactly as it was.
func TestHostileInputs(t *testing.T) {
	tmp := t.TempDir()
	victim := filepath.Join(tmp, "victim")
	if code, _, stderr := runCLI(t, "merge", "-q", "-o", victim+":v1", orasFixtures[0], orasFixtures[2]); code != 0 {
		t.Fatal(stderr)
	}
	good := orasFixtures[1]
	layoutHdr := `{"imageLayoutVersion":"1.0.0"}`
	emptyIdx := `{"schemaVersion":2,"manifests":[]}`
	dg := "sha256:0c59c9e6f0b4a4818672123392c966bc2ff641f4d0841da2e59ec2701457c0da"

	// bad JSON documents, each in a layout folder of its own
	badLayout := func(name, indexJSON string, blobs map[string]string) string {
		dir := filepath.Join(tmp, "json-"+name)
		os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
		os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(layoutHdr), 0o644)
		os.WriteFile(filepath.Join(dir, "index.json"), []byte(indexJSON), 0o644)
		for n, d := range blobs {
			os.WriteFile(filepath.Join(dir, "blobs", "sha256", n), []byte(d), 0o644)
		}
		return dir
	}
	ambiguous := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"` + dg + `","size":2},"layers":[],"manifests":[]}`
	ambSum := sha256.Sum256([]byte(ambiguous))
	ambHex := hex.EncodeToString(ambSum[:])
	tarball := func(name string, gz bool, entries ...tarEntry) string {
		p := filepath.Join(tmp, name)
		writeTar(t, p, gz, entries...)
		return p
	}
	base := []tarEntry{{name: "oci-layout", data: layoutHdr}, {name: "index.json", data: emptyIdx}}
	with := func(extra ...tarEntry) []tarEntry { return append(append([]tarEntry{}, base...), extra...) }

	tests := []struct {
		kind, name string
		args       []string
		code       int
		names      string // the message must name this
	}{
		{"reference", "empty tag", []string{"merge", "-o", victim + ":", good}, 2, victim + ":"},
		{"reference", "traversal digest", []string{"merge", "-o", victim + ":t", good + "@sha256:../../etc/passwd"}, 2, "../../etc/passwd"},
		{"reference", "uppercase digest", []string{"tag", victim + "@sha256:" + strings.Repeat("A", 64), "x"}, 2, "AAAA"},
		{"reference", "invalid tag", []string{"tag", victim + ":v1", "a__b"}, 2, "a__b"},
		{"reference", "tag with space", []string{"tag", victim + ":v1", "a b"}, 2, "a b"},
		{"platform", "single word", []string{"merge", "-o", victim + ":t", good + "=arm64"}, 2, "arm64"},
		{"platform", "empty component", []string{"rm", victim + ":v1", "--platform", "linux//v8"}, 2, "linux//v8"},
		{"platform", "wildcard", []string{"copy", victim + ":v1", victim + ":w", "--platform", "linux/*"}, 2, "linux/*"},
		{"platform", "two versions", []string{"rm", victim + ":v1", "--platform", "windows(1)/amd64:2"}, 2, "windows(1)/amd64:2"},
		{"json", "manifests null", []string{"merge", "-o", victim + ":t", badLayout("null", `{"schemaVersion":2,"manifests":null}`, nil)}, 1, "null"},
		{"json", "duplicate key", []string{"merge", "-o", victim + ":t", badLayout("dup", `{"schemaVersion":2,"manifests":[],"manifests":[]}`, nil)}, 1, "duplicate"},
		{"json", "case variant", []string{"merge", "-o", victim + ":t", badLayout("case", `{"schemaVersion":2,"Manifests":[]}`, nil)}, 1, "Manifests"},
		{"json", "schemaVersion string", []string{"merge", "-o", victim + ":t", badLayout("sv", `{"schemaVersion":"2","manifests":[]}`, nil)}, 1, "schemaVersion"},
		{"json", "traversal in index.json", []string{"merge", "-o", victim + ":t", badLayout("trav", `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../x","size":1}]}`, nil)}, 1, "../../x"},
		{"json", "manifest and index at once", []string{"merge", "-o", victim + ":t", badLayout("cve", `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:`+ambHex+`","size":`+fmt.Sprint(len(ambiguous))+`}]}`, map[string]string{ambHex: ambiguous})}, 1, "CVE-2021-41190"},
		{"json", "oversized index.json", []string{"merge", "-o", victim + ":t", badLayout("big", `{"schemaVersion":2,"manifests":[],"annotations":{"a":"`+strings.Repeat("x", 21<<20)+`"}}`, nil)}, 1, "index.json"},
		{"tarball", "dot-dot name", []string{"merge", "-o", victim + ":t", tarball("dotdot.tar", false, with(tarEntry{name: "../evil", data: "x"})...)}, 1, "../evil"},
		{"tarball", "absolute name", []string{"merge", "-o", victim + ":t", tarball("abs.tar", false, with(tarEntry{name: "/etc/passwd", data: "x"})...)}, 1, "/etc/passwd"},
		{"tarball", "symlink blob", []string{"merge", "-o", victim + ":t", tarball("sym.tar", false, with(tarEntry{name: "blobs/sha256/" + strings.Repeat("a", 64), link: "/etc/shadow", typ: tar.TypeSymlink})...)}, 1, "blobs/sha256/"},
		{"tarball", "hard link", []string{"merge", "-o", victim + ":t", tarball("hard.tar", false, with(tarEntry{name: "blobs/sha256/" + strings.Repeat("b", 64), link: "victim.secret", typ: tar.TypeLink})...)}, 1, "blobs/sha256/"},
		{"tarball", "fifo", []string{"merge", "-o", victim + ":t", tarball("fifo.tar", false, with(tarEntry{name: "blobs/sha256/" + strings.Repeat("c", 64), typ: tar.TypeFifo})...)}, 1, "blobs/sha256/"},
		{"tarball", "duplicate index.json", []string{"merge", "-o", victim + ":t", tarball("dupidx.tar", false, with(tarEntry{name: "./index.json", data: emptyIdx})...)}, 1, "index.json"},
		{"tarball", "top-level folder", []string{"merge", "-o", victim + ":t", tarball("top.tar", false, tarEntry{name: "mylayout/oci-layout", data: layoutHdr}, tarEntry{name: "mylayout/index.json", data: emptyIdx})}, 1, "mylayout"},
		{"tarball", "blob not matching its name", []string{"merge", "-o", victim + ":t", tarball("liar.tar.gz", true, with(tarEntry{name: "blobs/sha256/" + strings.Repeat("d", 64), data: "not those bytes"})...)}, 1, strings.Repeat("d", 64)},
		{"tarball", "docker save before 25", []string{"merge", "-o", victim + ":t", tarball("legacy.tar", false, tarEntry{name: "manifest.json", data: "[]"}, tarEntry{name: "abc/layer.tar", data: "x"})}, 1, "legacy.tar"},
		{"tarball", "copy from a hostile tarball", []string{"copy", tarball("dotdot2.tar", false, with(tarEntry{name: "blobs/../../x", data: "x"})...), victim + ":t"}, 1, "blobs/../../x"},
	}
	before := snapshot(t, victim)
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.code, stderr)
			}
			if stdout != "" || !strings.Contains(stderr, tt.names) {
				t.Errorf("stdout %q; stderr %q does not name %q", stdout, stderr, tt.names)
			}
			if after := snapshot(t, victim); after != before {
				t.Errorf("the victim layout changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
	// Nothing was written beside the inputs either (no extraction, no temp files).
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".ocil-tmp-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
