package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWritersEveryOutputForm runs add, copy, merge, tag, untag and rm into a folder and
// into .tar, .tar.gz and .tar.zst outputs: every form gets the same digests and tags, keeps
// the other entries, and a tarball name always gives a tarball (never a folder of that
// name) compressed as its name says.
func TestWritersEveryOutputForm(t *testing.T) {
	tmp := t.TempDir()
	amd := filepath.Join(tmp, "tool-amd64")
	arm := filepath.Join(tmp, "tool-arm64")
	os.WriteFile(amd, []byte("amd64 tool\n"), 0o644)
	os.WriteFile(arm, []byte("arm64 tool\n"), 0o644)
	t.Setenv("SOURCE_DATE_EPOCH", "")

	type state map[string]string // tag -> digest
	var want state
	var wantOut []string
	forms := []string{"folder", "out.tar", "out.tar.gz", "out.tar.zst"}
	for _, form := range forms {
		out := filepath.Join(tmp, form)
		var printed []string
		step := func(args ...string) {
			t.Helper()
			code, stdout, stderr := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("%s: ocil %s: exit %d: %s", form, strings.Join(args, " "), code, stderr)
			}
			printed = append(printed, stdout)
		}
		step("add", out+":v1", "--platform", "linux/amd64", amd)
		step("add", out+":v1", "--platform", "linux/arm64", arm)
		step("add", out+":other", "--platform", "linux/arm64", arm)
		step("copy", "-q", fixture("oras-linux-amd64-el8"), out+":copied")
		step("merge", "-q", "-o", out+":merged", fixture("oras-linux-amd64-el8"), fixture("oras-linux-arm64-v8-el8"))
		step("tag", out+":v1", "v1.0")
		step("untag", out, "other")
		step("rm", out+":merged", "--platform", "linux/arm64")

		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() != (form == "folder") {
			t.Fatalf("%s: a folder is %v", form, fi.IsDir())
		}
		if form != "folder" {
			b, _ := os.ReadFile(out)
			magic := map[string][]byte{"out.tar.gz": {0x1f, 0x8b}, "out.tar.zst": {0x28, 0xb5, 0x2f, 0xfd}}[form]
			if magic != nil && !bytes.HasPrefix(b, magic) {
				t.Fatalf("%s: not compressed as its name says: % x", form, b[:4])
			}
			if magic == nil && !bytes.Equal(b[257:262], []byte("ustar")) {
				t.Fatalf("%s: not a plain tar", form)
			}
			ents, _ := os.ReadDir(tmp)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".ocil-tmp-") {
					t.Fatalf("%s: left behind %s", form, e.Name())
				}
			}
		}

		code, stdout, stderr := runCLI(t, "ls", "--format", "json", out)
		if code != 0 {
			t.Fatalf("%s: ls: %s", form, stderr)
		}
		var listed struct {
			Entries []struct {
				Tag        string `json:"tag"`
				Descriptor struct {
					Digest string `json:"digest"`
				} `json:"descriptor"`
			} `json:"entries"`
		}
		if err := json.Unmarshal([]byte(stdout), &listed); err != nil {
			t.Fatalf("%s: ls: %v\n%s", form, err, stdout)
		}
		got := state{}
		for _, e := range listed.Entries {
			got[e.Tag] = e.Descriptor.Digest
		}
		for _, tag := range []string{"v1", "v1.0", "copied", "merged"} {
			if got[tag] == "" {
				t.Fatalf("%s: tag %s lost: %v", form, tag, got)
			}
		}
		if _, ok := got["other"]; ok || len(got) != 4 {
			t.Fatalf("%s: entries %v", form, got)
		}
		if got["v1"] != got["v1.0"] {
			t.Fatalf("%s: v1.0 is not v1: %v", form, got)
		}
		if code, _, stderr := runCLI(t, "validate", "-q", out); code != 0 {
			t.Fatalf("%s: validate: %s", form, stderr)
		}
		if want == nil {
			want, wantOut = got, printed
			continue
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %v, folder had %v", form, got, want)
		}
		for tag, d := range want {
			if got[tag] != d {
				t.Errorf("%s: %s is %s, in the folder %s", form, tag, got[tag], d)
			}
		}
		for i := range printed {
			if printed[i] != wantOut[i] {
				t.Errorf("%s: step %d printed %q, into the folder %q", form, i, printed[i], wantOut[i])
			}
		}
	}
}

// TestWriterOutputErrors checks what a writer refuses about its output, and that it then
// leaves the output as it was.
func TestWriterOutputErrors(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "tool")
	os.WriteFile(file, []byte("tool\n"), 0o644)
	junk := filepath.Join(tmp, "junk.tar")
	os.WriteFile(junk, []byte("not a tarball"), 0o644)
	img := filepath.Join(tmp, "image.img")
	os.WriteFile(img, []byte("not a tarball"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"add", junk + ":v1", "--platform", "linux/amd64", file}, 1, "junk.tar"},
		{[]string{"copy", fixture("oras-linux-amd64-el8"), junk + ":v1"}, 1, "junk.tar"},
		{[]string{"merge", "-o", junk + ":v1", fixture("oras-linux-amd64-el8")}, 1, "junk.tar"},
		{[]string{"tag", junk + ":v1", "v2"}, 1, "junk.tar"},
		{[]string{"add", img + ":v1", "--platform", "linux/amd64", file}, 2, "image.img"},
		{[]string{"copy", fixture("oras-linux-amd64-el8"), img + ":v1"}, 2, "image.img"},
		{[]string{"tag", filepath.Join(tmp, "missing.tar") + ":v1", "v2"}, 1, "not found"},
		{[]string{"untag", filepath.Join(tmp, "missing"), "v2"}, 1, "not found"},
		{[]string{"rm", filepath.Join(tmp, "missing.tar.gz") + ":v1", "--platform", "linux/amd64"}, 1, "not found"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("ocil %s: exit %d, %q; want %d naming %s", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
	for _, p := range []string{junk, img} {
		if b, _ := os.ReadFile(p); string(b) != "not a tarball" {
			t.Errorf("%s was changed", p)
		}
	}
	for _, p := range []string{"missing.tar", "missing", "missing.tar.gz"} {
		if _, err := os.Stat(filepath.Join(tmp, p)); err == nil {
			t.Errorf("%s was made", p)
		}
	}
}

// TestSameErrorSameExitCode runs every command that reads a layout on a folder that is
// not one and on a missing path: each gives the same exit code, naming the path.
func TestSameErrorSameExitCode(t *testing.T) {
	notLayout := t.TempDir()
	os.WriteFile(filepath.Join(notLayout, "README"), []byte("hello"), 0o644)
	missing := filepath.Join(t.TempDir(), "missing")
	for _, path := range []string{notLayout, missing} {
		for _, args := range [][]string{
			{"ls", path},
			{"resolve", path},
			{"cat", path},
			{"validate", path},
			{"copy", path, filepath.Join(t.TempDir(), "out")},
			{"merge", "-o", filepath.Join(t.TempDir(), "out") + ":v1", path},
			{"pull", path, "-o", t.TempDir()},
			{"tag", path, "v2"},
			{"untag", path, "v2"},
			{"rm", path + ":v1", "--platform", "linux/amd64"},
			{"gc", path},
		} {
			code, _, stderr := runCLI(t, args...)
			if code != exitFailed || !strings.Contains(stderr, path) {
				t.Errorf("ocil %s: exit %d, %q; want %d naming the path", strings.Join(args, " "), code, stderr, exitFailed)
			}
		}
	}
}

// TestArchivePrefixOutput: after oci-archive: any name is a tarball output; a new one is a
// plain tar, an existing one keeps the compression it has.
func TestArchivePrefixOutput(t *testing.T) {
	tmp := t.TempDir()
	src := fixture("regctl-index") + ":v1"
	plain := filepath.Join(tmp, "site.img")
	if code, _, stderr := runCLI(t, "copy", "-q", src, "oci-archive:"+plain+":v1"); code != 0 {
		t.Fatal(stderr)
	}
	gz := filepath.Join(tmp, "site-gz.img")
	if code, _, stderr := runCLI(t, "copy", "-q", src, gz+".tar.gz"); code != 0 {
		t.Fatal(stderr)
	}
	os.Rename(gz+".tar.gz", gz)
	for p, magic := range map[string]string{plain: "oci-layout", gz: "\x1f\x8b"} {
		if code, _, stderr := runCLI(t, "tag", "oci-archive:"+p+":v1", "v2"); code != 0 {
			t.Fatalf("tag %s: %s", p, stderr)
		}
		b, _ := os.ReadFile(p)
		if !strings.HasPrefix(string(b), magic) {
			t.Errorf("%s starts % x, want % x", p, b[:4], magic)
		}
		if code, stdout, stderr := runCLI(t, "resolve", "oci-archive:"+p+":v2"); code != 0 || !strings.HasPrefix(stdout, "sha256:") {
			t.Errorf("resolve %s:v2: %d %s", p, code, stderr)
		}
		if code, _, stderr := runCLI(t, "tag", p+":v1", "v3"); code != 2 || !strings.Contains(stderr, p) {
			t.Errorf("tag %s without oci-archive: exit %d, %s", p, code, stderr)
		}
	}
}
