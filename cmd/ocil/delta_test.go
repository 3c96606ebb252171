package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The delta tests build a month-one bundle and a month-two bundle from the real fixtures:
// umoci's two tags share their layer, and every oras platform shares meta.json.
const (
	umociLatestDigest  = "sha256:8e495d4c4460d3d29c8a29d774533d812f444933815fbfec98fa3edd227a24bd"
	orasAmd64El9Digest = "sha256:34151e585d62b260ca99db81b2d3fd48afe164b7b507cfceb472b88f350d7c60"
	deltaAnnotation    = "dev.ocil.delta.v1"
)

func deltaV1Sources() []string {
	return []string{
		fixture("umoci-image") + ":latest=registry.example.com/team/app:1",
		fixture("oras-linux-amd64-el8") + "=registry.example.com/team/rpms:1",
	}
}

func deltaV2Sources() []string {
	return []string{
		fixture("umoci-image") + ":arm64=registry.example.com/team/app:2",
		fixture("oras-linux-amd64-el9") + "=registry.example.com/team/rpms:2",
	}
}

// closure lists, from the fixture files alone, the manifest, config and layers of a
// fixture's manifest, and the layers apart.
func closure(t *testing.T, name, manifest string) (all, layers []string) {
	t.Helper()
	var m ocispec.Manifest
	fixtureJSON(t, name, manifest, &m)
	all = []string{manifest, string(m.Config.Digest)}
	for _, l := range m.Layers {
		all = append(all, string(l.Digest))
		layers = append(layers, string(l.Digest))
	}
	return all, layers
}

// tarContents reads a layout tarball: its entry names and their bytes.
func tarContents(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

// treeState describes every name under dir (folders, files and their bytes, links),
// so that a test can prove a layout was left byte for byte as it was.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %d", rel, fi.Mode(), fi.Size())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			fmt.Fprintf(&b, " %s", hex.EncodeToString(sum[:]))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

type deltaRecord struct {
	Bases []struct {
		Name  string `json:"name"`
		Index string `json:"index"`
	} `json:"bases"`
	Blobs []ocispec.Descriptor `json:"blobs"`
}

// TestCopyDelta: copy --base v1.tar writes a tarball that holds only what v1 lacks
// (every document and config, and the new layers), records the left-out layers and the
// base in index.json, and still reads as a layout: ls, cat, validate (a note), but not
// validate --for-push, nor pull of a left-out layer.
func TestCopyDelta(t *testing.T) {
	tmp := t.TempDir()
	v1 := filepath.Join(tmp, "v1.tar")
	if code, _, stderr := runCLI(t, append(append([]string{"copy", "-q"}, deltaV1Sources()...), v1)...); code != 0 {
		t.Fatal(stderr)
	}
	full := filepath.Join(tmp, "v2.tar")
	if code, _, stderr := runCLI(t, append(append([]string{"copy", "-q"}, deltaV2Sources()...), full)...); code != 0 {
		t.Fatal(stderr)
	}
	delta := filepath.Join(tmp, "delta.tar")
	code, stdout, stderr := runCLI(t, append(append([]string{"copy", "--format", "json", "--base", v1}, deltaV2Sources()...), delta)...)
	if code != 0 {
		t.Fatalf("copy --base = %d %s", code, stderr)
	}

	// What v1 holds and what v2 needs, from the fixture files.
	held := map[string]bool{}
	for _, m := range []struct{ name, digest string }{{"umoci-image", umociLatestDigest}, {"oras-linux-amd64-el8", orasAmd64El8Digest}} {
		all, _ := closure(t, m.name, m.digest)
		for _, d := range all {
			held[d] = true
		}
	}
	var wantLeft []string
	needed := map[string]bool{}
	for _, m := range []struct{ name, digest string }{{"umoci-image", umociArm64Digest}, {"oras-linux-amd64-el9", orasAmd64El9Digest}} {
		all, layers := closure(t, m.name, m.digest)
		for _, d := range all {
			needed[d] = true
		}
		for _, l := range layers {
			if held[l] && !slices.Contains(wantLeft, l) {
				wantLeft = append(wantLeft, l)
			}
		}
	}
	if len(wantLeft) != 2 {
		t.Fatalf("the fixtures share %d layers, want 2 (umoci's layer, oras's meta.json): %v", len(wantLeft), wantLeft)
	}

	var results []struct {
		Blobs        int   `json:"blobs"`
		Bytes        int64 `json:"bytes"`
		LeftOut      int   `json:"leftOut"`
		LeftOutBytes int64 `json:"leftOutBytes"`
	}
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	fullTar, deltaTar := tarContents(t, full), tarContents(t, delta)
	var leftOut, copied int
	var leftBytes, copiedBytes int64
	for _, r := range results {
		leftOut += r.LeftOut
		leftBytes += r.LeftOutBytes
		copied += r.Blobs
		copiedBytes += r.Bytes
	}
	var wantLeftBytes, wantCopiedBytes int64
	for d := range needed {
		name := "blobs/sha256/" + strings.TrimPrefix(d, "sha256:")
		if slices.Contains(wantLeft, d) {
			wantLeftBytes += int64(len(fullTar[name]))
			if _, ok := deltaTar[name]; ok {
				t.Errorf("the delta holds %s, which v1 holds", d)
			}
			continue
		}
		wantCopiedBytes += int64(len(fullTar[name]))
		if !bytes.Equal(deltaTar[name], fullTar[name]) || deltaTar[name] == nil {
			t.Errorf("the delta lacks %s, or holds other bytes than the full bundle", d)
		}
	}
	if leftOut != len(wantLeft) || leftBytes != wantLeftBytes || copied != len(needed)-len(wantLeft) || copiedBytes != wantCopiedBytes {
		t.Errorf("copy --base: %d blobs (%d bytes) copied, %d (%d bytes) left out; want %d (%d), %d (%d)",
			copied, copiedBytes, leftOut, leftBytes, len(needed)-len(wantLeft), wantCopiedBytes, len(wantLeft), wantLeftBytes)
	}
	if len(deltaTar) != len(fullTar)-len(wantLeft) {
		t.Errorf("the delta has %d entries, the full bundle %d; want %d fewer", len(deltaTar), len(fullTar), len(wantLeft))
	}

	// The record: the base by name and index.json digest, and the left-out blobs.
	var idx ocispec.Index
	if err := json.Unmarshal(deltaTar["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	var rec deltaRecord
	if err := json.Unmarshal([]byte(idx.Annotations[deltaAnnotation]), &rec); err != nil {
		t.Fatalf("index.json %s annotation: %v", deltaAnnotation, err)
	}
	v1Index := sha256.Sum256(tarContents(t, v1)["index.json"])
	if len(rec.Bases) != 1 || rec.Bases[0].Name != v1 || rec.Bases[0].Index != "sha256:"+hex.EncodeToString(v1Index[:]) {
		t.Errorf("recorded bases %+v, want %s with its index.json digest", rec.Bases, v1)
	}
	var gotLeft []string
	for _, b := range rec.Blobs {
		gotLeft = append(gotLeft, string(b.Digest))
		if int64(len(fullTar["blobs/sha256/"+b.Digest.Encoded()])) != b.Size || b.MediaType == "" {
			t.Errorf("recorded %+v: wrong size or no media type", b)
		}
	}
	slices.Sort(gotLeft)
	slices.Sort(wantLeft)
	if !slices.Equal(gotLeft, wantLeft) {
		t.Errorf("recorded left-out blobs %v, want %v", gotLeft, wantLeft)
	}

	// Readers.
	if code, stdout, stderr := runCLI(t, "ls", "-q", delta); code != 0 || stdout != umociArm64Digest+"\n"+orasAmd64El9Digest+"\n" {
		t.Errorf("ls %s = %d %q %s", delta, code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, "cat", delta+":registry.example.com/team/app:2", "--config"); code != 0 || !strings.Contains(stdout, `"architecture":"arm64"`) {
		t.Errorf("cat --config = %d %q %s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "validate", delta)
	if code != 0 || !strings.Contains(stdout, "delta.base") || strings.Contains(stdout, "blob.missing") || !strings.Contains(stdout, v1) {
		t.Errorf("validate %s = %d\n%s%s", delta, code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "validate", "--for-push", delta)
	if code != 1 || !strings.Contains(stdout, "push.delta") || !strings.Contains(stdout, v1) {
		t.Errorf("validate --for-push %s = %d, want 1 and push.delta naming %s\n%s", delta, code, v1, stdout)
	}
	code, _, stderr = runCLI(t, "cat", delta+"@"+wantLeft[0])
	if code != 1 || !strings.Contains(stderr, "left out of this delta") || !strings.Contains(stderr, v1) {
		t.Errorf("cat of a left-out layer = %d %s, want 1 saying it is left out and naming the base", code, stderr)
	}
	code, _, stderr = runCLI(t, "pull", delta+":registry.example.com/team/rpms:2", "-o", filepath.Join(tmp, "pulled"))
	if code != 1 || !strings.Contains(stderr, "left out of this delta") || !strings.Contains(stderr, v1) {
		t.Errorf("pull of a left-out layer = %d %s, want 1 saying it is left out and naming the base", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(tmp, "pulled", "meta.json")); err == nil {
		t.Error("pull wrote meta.json")
	}
}

// TestCopyDeltaFarSide: on the far side, a site that holds the base takes the delta and
// then validates clean and holds what a full copy holds; a site that lacks the base is
// refused, naming every missing blob, and left byte for byte as it was; folders and
// tarballs alike, merge too.
func TestCopyDeltaFarSide(t *testing.T) {
	tmp := t.TempDir()
	v1 := filepath.Join(tmp, "v1.tar")
	if code, _, stderr := runCLI(t, append(append([]string{"copy", "-q"}, deltaV1Sources()...), v1)...); code != 0 {
		t.Fatal(stderr)
	}
	delta := filepath.Join(tmp, "delta.tar.gz")
	if code, _, stderr := runCLI(t, append(append([]string{"copy", "-q", "--base", v1}, deltaV2Sources()...), delta)...); code != 0 {
		t.Fatal(stderr)
	}
	full := filepath.Join(tmp, "full")
	if code, _, stderr := runCLI(t, append(append([]string{"copy", "-q"}, deltaV2Sources()...), full)...); code != 0 {
		t.Fatal(stderr)
	}
	v2 := []string{delta + ":registry.example.com/team/app:2", delta + ":registry.example.com/team/rpms:2"}
	v1Refs := []string{v1 + ":registry.example.com/team/app:1", v1 + ":registry.example.com/team/rpms:1"}

	for _, name := range []string{"site", "site.tar"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// Without the base: a site that holds only v1's rpms lacks umoci's layer.
			site := filepath.Join(dir, name)
			if code, _, stderr := runCLI(t, "copy", "-q", v1Refs[1], site); code != 0 {
				t.Fatal(stderr)
			}
			before := treeState(t, dir)
			code, _, stderr := runCLI(t, append(append([]string{"copy"}, v2...), site)...)
			_, umociLayers := closure(t, "umoci-image", umociArm64Digest)
			if code != 1 || !strings.Contains(stderr, umociLayers[0]) || !strings.Contains(stderr, "1 blob") || !strings.Contains(stderr, v1) {
				t.Errorf("copy into a site without the base = %d %s; want 1 naming %s and the base", code, stderr, umociLayers[0])
			}
			code, _, stderr = runCLI(t, "merge", "-o", site+":merged", v2[0])
			if code != 1 || !strings.Contains(stderr, umociLayers[0]) {
				t.Errorf("merge into a site without the base = %d %s", code, stderr)
			}
			if after := treeState(t, dir); after != before {
				t.Errorf("a refused delta changed the site:\nbefore:\n%safter:\n%s", before, after)
			}
			// A site that does not exist holds nothing: both blobs are named, nothing made.
			code, _, stderr = runCLI(t, append(append([]string{"copy"}, v2...), filepath.Join(dir, "new-"+name))...)
			_, orasLayers := closure(t, "oras-linux-amd64-el9", orasAmd64El9Digest)
			if code != 1 || !strings.Contains(stderr, "2 blobs") || !strings.Contains(stderr, umociLayers[0]) || !strings.Contains(stderr, orasLayers[1]) {
				t.Errorf("copy into a new site = %d %s", code, stderr)
			}
			if after := treeState(t, dir); after != before {
				t.Errorf("a refused delta made something:\n%s", after)
			}

			// With the base.
			if code, _, stderr := runCLI(t, append(append([]string{"copy", "-q"}, v1Refs[0]), site)...); code != 0 {
				t.Fatal(stderr)
			}
			if code, _, stderr := runCLI(t, append(append([]string{"copy", "-q"}, v2...), site)...); code != 0 {
				t.Fatalf("copy into a site with the base = %d %s", code, stderr)
			}
			// merge takes a delta's entry onto the same site, as copy does.
			if code, _, stderr := runCLI(t, "merge", "-q", "-o", site+":merged", v2[0]); code != 0 {
				t.Errorf("merge into a site with the base = %d %s", code, stderr)
			}
			if code, stdout, stderr := runCLI(t, "validate", site); code != 0 || !strings.Contains(stdout, "0 errors, 0 warnings, 0 notes") {
				t.Errorf("validate %s = %d\n%s%s", site, code, stdout, stderr)
			}
			// The site now holds v2 as a full copy does: a copy of v2 from it equals one
			// from the full bundle, byte for byte.
			again := filepath.Join(dir, "again.tar")
			fromFull := filepath.Join(dir, "from-full.tar")
			for _, c := range [][2]string{{site, again}, {full, fromFull}} {
				code, _, stderr := runCLI(t, "copy", "-q", c[0]+":registry.example.com/team/app:2", c[0]+":registry.example.com/team/rpms:2", c[1])
				if code != 0 {
					t.Fatal(stderr)
				}
			}
			a, _ := os.ReadFile(again)
			b, _ := os.ReadFile(fromFull)
			if !bytes.Equal(a, b) {
				t.Error("v2 copied out of the site differs from v2 copied out of the full copy")
			}
		})
	}
}

// TestCopyDeltaRefused: an unreadable base is named and nothing is written; --base takes
// its value as typed (a ',' is part of the path); --docker cannot make a delta.
func TestCopyDeltaRefused(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "delta.tar")
	missing := filepath.Join(tmp, "no-such-base.tar")
	code, _, stderr := runCLI(t, append(append([]string{"copy", "--base", missing}, deltaV2Sources()...), dst)...)
	if code != 1 || !strings.Contains(stderr, missing) {
		t.Errorf("copy --base %s = %d %s, want 1 naming it", missing, code, stderr)
	}
	notLayout := filepath.Join(tmp, "notes")
	os.MkdirAll(notLayout, 0o755)
	os.WriteFile(filepath.Join(notLayout, "README"), []byte("x"), 0o644)
	code, _, stderr = runCLI(t, append(append([]string{"copy", "--base", notLayout}, deltaV2Sources()...), dst)...)
	if code != 1 || !strings.Contains(stderr, notLayout) {
		t.Errorf("copy --base %s = %d %s, want 1 naming it", notLayout, code, stderr)
	}
	code, _, _ = runCLI(t, append(append([]string{"copy", "--docker", "--platform", "linux/arm64", "--base", fixture("umoci-image")}, deltaV2Sources()[0]), dst)...)
	if code != 2 {
		t.Errorf("copy --docker --base = %d, want 2", code)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Fatalf("a refused copy --base wrote %s", dst)
	}

	// A base whose path holds ',' is one base.
	comma := filepath.Join(tmp, "v1,old")
	if code, _, stderr := runCLI(t, append(append([]string{"copy", "-q"}, deltaV1Sources()...), comma)...); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runCLI(t, "copy", "--base", comma, deltaV2Sources()[0], dst); code != 0 {
		t.Fatalf("copy --base %s = %d %s", comma, code, stderr)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(tarContents(t, dst)["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	var rec deltaRecord
	if err := json.Unmarshal([]byte(idx.Annotations[deltaAnnotation]), &rec); err != nil || len(rec.Bases) != 1 || rec.Bases[0].Name != comma || len(rec.Blobs) != 1 {
		t.Errorf("record %+v (%v), want one base %s and one blob", rec, err, comma)
	}
}
