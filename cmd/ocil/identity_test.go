package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout/platform"
)

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("ocil %s: exit %d\n%s", shellJoin(args), code, stderr)
	}
	return strings.TrimSpace(stdout)
}

// nestedChildren reads the nested index that tag names in dir's index.json.
func nestedChildren(t *testing.T, dir, tag string) (ocispec.Descriptor, []ocispec.Descriptor) {
	t.Helper()
	for _, e := range readIndexJSON(t, dir).Manifests {
		if e.Annotations[ocispec.AnnotationRefName] == tag {
			return e, readBlobJSON(t, dir, e.Digest.Encoded()).Manifests
		}
	}
	t.Fatalf("%s has no tag %q", dir, tag)
	return ocispec.Descriptor{}, nil
}

func platforms(ds []ocispec.Descriptor) string {
	var out []string
	for _, d := range ds {
		out = append(out, fmtPlatform(d.Platform))
	}
	return strings.Join(out, " ")
}

// checkBothPlatforms checks that resolve, cat, pull and tag find each platform of ref,
// whose manifest for both is want.
func checkBothPlatforms(t *testing.T, ref, want string) {
	t.Helper()
	dir := ref[:strings.LastIndexByte(ref, ':')]
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if got := mustCLI(t, "resolve", ref, "--platform", p); got != want {
			t.Fatalf("resolve %s --platform %s = %s, want %s", ref, p, got, want)
		}
		var desc ocispec.Descriptor
		if err := json.Unmarshal([]byte(mustCLI(t, "resolve", ref, "--platform", p, "--format", "json")), &desc); err != nil || fmtPlatform(desc.Platform) != p {
			t.Fatalf("resolve --format json --platform %s: %+v, %v", p, desc.Platform, err)
		}
		raw := mustCLI(t, "cat", ref, "--platform", p)
		if !strings.Contains(raw, `"layers"`) {
			t.Fatalf("cat --platform %s printed %s", p, raw)
		}
		out := filepath.Join(t.TempDir(), "pulled")
		mustCLI(t, "pull", ref, "--platform", p, "-o", out)
		if b, err := os.ReadFile(filepath.Join(out, "tool.sh")); err != nil || string(b) != "echo hi\n" {
			t.Fatalf("pull --platform %s: %q, %v", p, b, err)
		}
		tag := strings.ReplaceAll(p, "/", "-")
		mustCLI(t, "tag", ref, "--platform", p, tag)
		for _, e := range readIndexJSON(t, dir).Manifests {
			if e.Annotations[ocispec.AnnotationRefName] == tag && (string(e.Digest) != want || fmtPlatform(e.Platform) != p) {
				t.Fatalf("tag --platform %s wrote %s %s", p, e.Digest, fmtPlatform(e.Platform))
			}
		}
	}
	code, stdout, stderr := runCLI(t, "ls", ref)
	if code != 0 || strings.Count(stdout, want) != 2 || strings.Contains(stdout, "listed above") ||
		!strings.Contains(stdout, "linux/amd64") || !strings.Contains(stdout, "linux/arm64") {
		t.Fatalf("ls %s: exit %d\n%s%s", ref, code, stdout, stderr)
	}
}

// Issue 10 §1: an identical file added for two platforms is one manifest listed twice;
// neither listing is dropped.
func TestIdenticalFileForTwoPlatforms(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	tool := filepath.Join(tmp, "tool.sh")
	os.WriteFile(tool, []byte("echo hi\n"), 0o755)
	s1, s2, out := filepath.Join(tmp, "s1"), filepath.Join(tmp, "s2"), filepath.Join(tmp, "out")

	// Two adds into separate layouts, then merge.
	d1 := mustCLI(t, "add", s1, "--platform", "linux/amd64", tool)
	d2 := mustCLI(t, "add", s2, "--platform", "linux/arm64", tool)
	if d1 != d2 {
		t.Fatalf("identical files gave %s and %s", d1, d2)
	}
	mustCLI(t, "merge", "-q", "-o", out+":v1", s1, s2)
	if _, cs := nestedChildren(t, out, "v1"); platforms(cs) != "linux/amd64 linux/arm64" {
		t.Fatalf("merged children: %s", platforms(cs))
	}
	checkBothPlatforms(t, out+":v1", d1)

	// Two adds into one tag.
	one := filepath.Join(tmp, "one")
	mustCLI(t, "add", one+":t", "--platform", "linux/amd64", tool)
	mustCLI(t, "add", one+":t", "--platform", "linux/arm64", tool)
	if _, cs := nestedChildren(t, one, "t"); platforms(cs) != "linux/amd64 linux/arm64" {
		t.Fatalf("children after two adds: %s", platforms(cs))
	}
	checkBothPlatforms(t, one+":t", d1)
	// validate sees two platforms, not a duplicate.
	for _, dir := range []string{one, out} {
		if code, stdout, stderr := runCLI(t, "validate", dir); code != 0 || !strings.Contains(stdout+stderr, " 0 errors") || strings.Contains(stdout+stderr, "platform.duplicate") {
			t.Fatalf("validate %s: exit %d\n%s%s", dir, code, stdout, stderr)
		}
	}

	// rm of one platform keeps the other listing of the same manifest.
	mustCLI(t, "rm", one+":t", "--platform", "linux/arm64")
	if _, cs := nestedChildren(t, one, "t"); platforms(cs) != "linux/amd64" || string(cs[0].Digest) != d1 {
		t.Fatalf("after rm: %s", platforms(cs))
	}

	// copy --platform keeps just the listing asked for.
	cp := filepath.Join(tmp, "cp")
	mustCLI(t, "copy", out+":v1", cp, "--platform", "linux/arm64")
	if _, cs := nestedChildren(t, cp, "v1"); platforms(cs) != "linux/arm64" {
		t.Fatalf("copy --platform linux/arm64 kept %s", platforms(cs))
	}
}

// Issue 10 §1: merge IN=PLATFORM of two byte-identical layouts (as oras push writes
// without --artifact-platform: an empty config, no platform anywhere).
func TestMergeStatedPlatformsOfIdenticalLayouts(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	b := tl.New(t)
	m := b.Manifest(ocispec.Manifest{ArtifactType: "application/vnd.example.noarch",
		Config: b.Blob("application/vnd.oci.empty.v1+json", []byte("{}")),
		Layers: []ocispec.Descriptor{b.Blob("application/vnd.oci.image.layer.v1.tar", []byte("noarch payload"))}})
	b.SetIndex(m)
	copyDir := filepath.Join(t.TempDir(), "twin")
	if err := os.CopyFS(copyDir, os.DirFS(b.Dir)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	mustCLI(t, "merge", "-q", "-o", out+":v1", b.Dir+"=linux/arm64", copyDir+"=linux/amd64")
	_, cs := nestedChildren(t, out, "v1")
	if platforms(cs) != "linux/amd64 linux/arm64" || cs[0].Digest != m.Digest || cs[1].Digest != m.Digest {
		t.Fatalf("children %s", platforms(cs))
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if got := mustCLI(t, "resolve", out+":v1", "--platform", p); got != string(m.Digest) {
			t.Fatalf("resolve --platform %s = %s", p, got)
		}
	}
	// The same layout stated twice for one platform is one child.
	mustCLI(t, "merge", "-q", "-o", out+":v2", b.Dir+"=linux/arm64", copyDir+"=linux/arm64")
	if _, cs := nestedChildren(t, out, "v2"); platforms(cs) != "linux/arm64" {
		t.Fatalf("same digest and platform twice: %s", platforms(cs))
	}
}

// Issue 12: the nested index does not depend on the order of the inputs, nor on the
// order of adds; --keep-order keeps the input order.
func TestMergeCanonicalOrder(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	out := filepath.Join(t.TempDir(), "out")
	in := orasFixtures // amd64 el8, amd64 el9, arm64/v8 el8, arm64/v8 el9
	perms := [][]string{{in[0], in[1], in[2], in[3]}, {in[3], in[2], in[1], in[0]}, {in[2], in[0], in[3], in[1]}}
	var first string
	for i, p := range perms {
		d := mustCLI(t, append([]string{"merge", "-q", "-o", out + ":p" + string(rune('0'+i))}, p...)...)
		if i == 0 {
			first = d
		} else if d != first {
			t.Fatalf("inputs %v gave %s, the first order %s", p, d, first)
		}
	}
	_, cs := nestedChildren(t, out, "p0")
	if platforms(cs) != "linux/amd64:el8 linux/amd64:el9 linux/arm64/v8:el8 linux/arm64/v8:el9" {
		t.Fatalf("canonical order: %s", platforms(cs))
	}
	mustCLI(t, append([]string{"merge", "-q", "--keep-order", "-o", out + ":kept"}, perms[2]...)...)
	if _, cs := nestedChildren(t, out, "kept"); platforms(cs) != "linux/arm64/v8:el8 linux/amd64:el8 linux/arm64/v8:el9 linux/amd64:el9" {
		t.Fatalf("--keep-order: %s", platforms(cs))
	}

	// Two adds in either order give the same index.
	tmp := t.TempDir()
	amd, arm := filepath.Join(tmp, "amd"), filepath.Join(tmp, "arm")
	os.WriteFile(amd, []byte("amd64 build"), 0o644)
	os.WriteFile(arm, []byte("arm64 build"), 0o644)
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	mustCLI(t, "add", a+":v1", "--platform", "linux/arm64", arm)
	mustCLI(t, "add", a+":v1", "--platform", "linux/amd64", amd)
	mustCLI(t, "add", b+":v1", "--platform", "linux/amd64", amd)
	mustCLI(t, "add", b+":v1", "--platform", "linux/arm64", arm)
	ea, ca := nestedChildren(t, a, "v1")
	eb, _ := nestedChildren(t, b, "v1")
	if ea.Digest != eb.Digest || platforms(ca) != "linux/amd64 linux/arm64" {
		t.Fatalf("adds in two orders: %s (%s) and %s", ea.Digest, platforms(ca), eb.Digest)
	}
}

// Issue 12: a stated platform that contradicts the image config is an error naming both,
// unless --override-platform; one that only adds to it is not.
func TestMergeStatedPlatformContradicts(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	out := filepath.Join(t.TempDir(), "out")
	mustCLI(t, "merge", "-q", "-o", out+":keep", orasFixtures[1])
	before, _ := os.ReadFile(filepath.Join(out, "index.json"))
	for _, stated := range []string{"linux/arm64", "linux/amd64:el9", "linux/amd64/v3"} {
		code, stdout, stderr := runCLI(t, "merge", "-q", "-o", out+":v1", orasFixtures[0]+"="+stated)
		if code != 1 || stdout != "" || !strings.Contains(stderr, stated) || !strings.Contains(stderr, "linux/amd64:el8") ||
			!strings.Contains(stderr, "image config") || !strings.Contains(stderr, "--override-platform") || !strings.Contains(stderr, orasFixtures[0]) {
			t.Fatalf("%s: exit %d, stderr %q", stated, code, stderr)
		}
		if now, _ := os.ReadFile(filepath.Join(out, "index.json")); string(now) != string(before) {
			t.Fatalf("a refused merge changed index.json: %s", now)
		}
	}
	mustCLI(t, "merge", "-q", "--override-platform", "-o", out+":v1", orasFixtures[0]+"=linux/arm64:el8")
	if _, cs := nestedChildren(t, out, "v1"); platforms(cs) != "linux/arm64:el8" {
		t.Fatalf("--override-platform: %s", platforms(cs))
	}
	// Agreeing, or adding what the config leaves out, is no contradiction.
	for i, tc := range [][2]string{{"linux/amd64:el8", "linux/amd64:el8"}, {"linux/amd64", "linux/amd64"}, {"linux/x86_64:el8", "linux/amd64:el8"}} {
		tag := "ok" + string(rune('0'+i))
		mustCLI(t, "merge", "-q", "-o", out+":"+tag, orasFixtures[0]+"="+tc[0])
		if _, cs := nestedChildren(t, out, tag); platforms(cs) != tc[1] {
			t.Fatalf("%s: %s", tc[0], platforms(cs))
		}
	}
}

// Issue 12: a flat layout holding several images is a merge input as a whole with
// --all-images.
func TestMergeAllImages(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	out := filepath.Join(t.TempDir(), "out")
	flat := fixtures + "crane-flat"
	code, _, stderr := runCLI(t, "merge", "-q", "-o", out+":v1", flat)
	if code != 1 || !strings.Contains(stderr, "crane-flat") || !strings.Contains(stderr, "--all-images") {
		t.Fatalf("without --all-images: exit %d, %s", code, stderr)
	}
	mustCLI(t, "merge", "-q", "--all-images", "-o", out+":v1", flat, orasFixtures[1])
	_, cs := nestedChildren(t, out, "v1")
	if platforms(cs) != "linux/amd64:el8 linux/amd64:el9 linux/arm64/v8:el8" {
		t.Fatalf("--all-images children: %s", platforms(cs))
	}
	// A tag or digest still selects one entry.
	d := mustCLI(t, "resolve", flat, "--platform", "linux/arm64")
	mustCLI(t, "merge", "-q", "--all-images", "-o", out+":v2", flat+"@"+d)
	if _, cs := nestedChildren(t, out, "v2"); len(cs) != 1 || string(cs[0].Digest) != d {
		t.Fatalf("--all-images IN@DIGEST: %+v", cs)
	}
}

// Issue 12: children of a nested index keep their annotations, ref.name included (as
// Homebrew's index carries them); a tag of the input's own index.json is not carried.
func TestMergeKeepsChildAnnotations(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	b := tl.New(t)
	amd := b.Image(tl.P("linux", "amd64", "", ""), "amd")
	arm := b.Image(tl.P("linux", "arm64", "", ""), "arm")
	amdD := tl.Tag(tl.WithPlatform(amd, *tl.P("linux", "amd64", "", "")), "1.2.linux_amd64")
	amdD.Annotations["sh.brew.bottle.digest"] = "abc"
	b.SetIndex(tl.Tag(b.Index(amdD, tl.WithPlatform(arm, *tl.P("linux", "arm64", "", ""))), "1.2"))
	single := tl.New(t)
	one := single.Image(tl.P("linux", "riscv64", "", ""), "riscv")
	single.SetIndex(tl.Tag(one, "riscv"))

	out := filepath.Join(t.TempDir(), "out")
	mustCLI(t, "merge", "-q", "-o", out+":1.2", b.Dir+":1.2", single.Dir+":riscv")
	_, cs := nestedChildren(t, out, "1.2")
	if platforms(cs) != "linux/amd64 linux/arm64 linux/riscv64" {
		t.Fatalf("children %s", platforms(cs))
	}
	if a := cs[0].Annotations; a[ocispec.AnnotationRefName] != "1.2.linux_amd64" || a["sh.brew.bottle.digest"] != "abc" {
		t.Fatalf("nested child annotations %v", a)
	}
	if a := cs[2].Annotations; a[ocispec.AnnotationRefName] != "" {
		t.Fatalf("the input's tag was carried onto its child: %v", a)
	}
	if p := cs[2].Platform; p == nil || !platform.Equal(*p, *tl.P("linux", "riscv64", "", "")) {
		t.Fatalf("riscv64 child platform %+v", p)
	}
}

func fmtPlatform(p *ocispec.Platform) string {
	if p == nil {
		return "-"
	}
	return platform.Format(*p)
}
