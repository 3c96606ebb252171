package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTransportPrefixes: references as skopeo, regctl and buildx print them select what
// the plain reference selects.
func TestTransportPrefixes(t *testing.T) {
	abs, err := filepath.Abs(fixture("regctl-index"))
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := runCLI(t, "resolve", abs+":v1", "-p", "linux/arm64")
	if !strings.HasPrefix(want, "sha256:") {
		t.Fatalf("plain reference: %q", want)
	}
	for _, ref := range []string{"oci:" + abs + ":v1", "ocidir://" + abs + ":v1", "oci-layout://" + abs + ":v1", "oci-archive:" + abs + ":v1"} {
		code, got, stderr := runCLI(t, "resolve", ref, "-p", "linux/arm64")
		if code != 0 || got != want {
			t.Errorf("resolve %s = %d %q %s, want %q", ref, code, got, stderr, want)
		}
	}
	// A tarball named by oci-archive: is read as one, and written as one whatever its name.
	img := filepath.Join(t.TempDir(), "out.img")
	code, _, stderr := runCLI(t, "copy", "-q", "oci:"+abs+":v1", "oci-archive:"+img+":2")
	if code != 0 {
		t.Fatalf("copy to oci-archive: %d %s", code, stderr)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 512 || string(b[257:262]) != "ustar" {
		t.Fatalf("%s is not a tar archive", img)
	}
	if code, got, stderr := runCLI(t, "resolve", "oci-archive:"+img+":2", "-p", "linux/arm64"); code != 0 || got != want {
		t.Errorf("resolve oci-archive:%s:2 = %d %q %s, want %q", img, code, got, stderr, want)
	}
	// merge writes one too, through the same output as copy: a plain tar, other tags kept.
	code, _, stderr = runCLI(t, "merge", "-q", "-o", "oci-archive:"+img+":1", abs+":v1")
	if code != 0 {
		t.Fatalf("merge -o oci-archive:NAME = %d %q", code, stderr)
	}
	if b, _ := os.ReadFile(img); len(b) < 512 || string(b[257:262]) != "ustar" {
		t.Fatalf("merge: %s is not a tar archive", img)
	}
	for _, tag := range []string{"1", "2"} {
		if code, _, stderr := runCLI(t, "resolve", "oci-archive:"+img+":"+tag, "-p", "linux/arm64"); code != 0 {
			t.Errorf("resolve oci-archive:%s:%s = %d %s", img, tag, code, stderr)
		}
	}
	// Without oci-archive:, a file whose name does not say it is a tarball is refused.
	code, stdout, stderr := runCLI(t, "merge", "-o", img+":3", abs+":v1")
	if code != 2 || stdout != "" || !strings.Contains(stderr, img) {
		t.Errorf("merge -o NAME = %d %q %q", code, stdout, stderr)
	}
}

// TestTransportPrefixPathWins: a folder whose name starts like a prefix is that folder.
func TestTransportPrefixPathWins(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", filepath.Join(dir, "x")); code != 0 {
		t.Fatalf("copy: %d %s", code, stderr)
	}
	if err := os.Rename(filepath.Join(dir, "x"), filepath.Join(dir, "oci:x")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, stdout, stderr := runCLI(t, "resolve", "oci:x:v1")
	if code != 0 || stdout != "sha256:35918c857284ed039c775722e60e900d0ae29107bab5aa7f2e95436873ed7ecf\n" {
		t.Errorf("resolve oci:x:v1 in a folder holding oci:x = %d %q %s", code, stdout, stderr)
	}
	// Without a folder of that name, oci:y names y, which is not there.
	code, _, stderr = runCLI(t, "resolve", "oci:y:v1")
	if code != 1 || !strings.Contains(stderr, "open layout y: not found") {
		t.Errorf("resolve oci:y:v1 = %d %s", code, stderr)
	}
}

// TestTransportPrefixesOnLayoutArgs: tag, untag and gc take the prefixes too; a LAYOUT
// argument with a tag is refused, naming it.
func TestTransportPrefixesOnLayoutArgs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "l")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", dir); code != 0 {
		t.Fatal(stderr)
	}
	if code, stdout, stderr := runCLI(t, "tag", "oci:"+dir+":v1", "v2"); code != 0 || stdout != regctlV1Digest+"\n" {
		t.Fatalf("tag oci:DIR:v1 v2 = %d %q %s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "untag", "ocidir://"+dir, "v1"); code != 0 {
		t.Fatalf("untag ocidir://DIR v1 = %d %s", code, stderr)
	}
	if code, stdout, _ := runCLI(t, "ls", "--format", "go-template={{range .entries}}{{.tag}}{{end}}", dir); code != 0 || stdout != "v2\n" {
		t.Errorf("tags after tag and untag: %d %q, want v2", code, stdout)
	}
	if code, stdout, stderr := runCLI(t, "gc", "-q", "oci-layout://"+dir); code != 0 || stdout != "" {
		t.Errorf("gc oci-layout://DIR = %d %q %s", code, stdout, stderr)
	}
	code, _, stderr := runCLI(t, "gc", dir+":v2")
	if code != 2 || !strings.Contains(stderr, "gc "+dir+":v2: takes a whole layout") {
		t.Errorf("gc DIR:v2 = %d %s", code, stderr)
	}
}
