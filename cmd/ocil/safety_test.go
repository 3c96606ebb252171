package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
)

// TestBadTarLimitEnv: a bound on compressed tarballs in the environment that is not a
// number is a usage error (exit 2) naming the variable and its value, before anything runs.
func TestBadTarLimitEnv(t *testing.T) {
	for _, tc := range []struct{ env, value string }{
		{"OCIL_TAR_MAX_RATIO", "lots"},
		{"OCIL_TAR_MAX_BYTES", "-1"},
	} {
		t.Setenv(tc.env, tc.value)
		code, stdout, stderr := runCLI(t, "ls", fixture("oras-amd64-el9.tar.gz"))
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.env+`="`+tc.value+`"`) {
			t.Errorf("%s=%s: exit %d, stdout %q, stderr %q; want exit 2 naming the variable", tc.env, tc.value, code, stdout, stderr)
		}
		t.Setenv(tc.env, "")
	}
	if code, _, stderr := runCLI(t, "ls", fixture("oras-amd64-el9.tar.gz")); code != exitOK {
		t.Errorf("with the variables empty: exit %d, %s", code, stderr)
	}
}

// copyFixture copies a fixture folder into a new temp folder, for a command that may write.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(fixture(name))); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestBadFlagValues: a media type outside the RFC 6838 grammar, a negative --jobs or
// --lock-timeout is a usage error (exit 2) that names the flag and the value as given,
// and nothing is written: not the new layout, not a change to the existing one.
func TestBadFlagValues(t *testing.T) {
	work := t.TempDir()
	file := filepath.Join(work, "tool.sh")
	if err := os.WriteFile(file, []byte("echo hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := copyFixture(t, "regctl-index")
	before := snapshot(t, src)
	out := filepath.Join(work, "out")
	for _, tc := range []struct {
		args    []string
		mention string
	}{
		{[]string{"add", out + ":v1", "--platform", "linux/amd64", "--artifact-type", "bad type", file}, `--artifact-type: invalid option: "bad type"`},
		{[]string{"add", out + ":v1", "--platform", "linux/amd64", "--artifact-type", "application/x;charset=utf-8", file}, `"application/x;charset=utf-8"`},
		{[]string{"add", out + ":v1", "--platform", "linux/amd64", "--artifact-type", "noslash", file}, `"noslash"`},
		{[]string{"add", out + ":v1", "--platform", "linux/amd64", file + ":text/plain ", file}, `"text/plain "`},
		{[]string{"add", out + ":v1", "--platform", "linux/amd64", "--config", file + ":app/x y", file}, `--config ` + file + `:app/x y`},
		{[]string{"merge", "-o", out + ":v1", "--artifact-type", "bad type", src + ":v1"}, `--artifact-type: invalid option: "bad type"`},
		{[]string{"merge", "-o", out + ":v1", "--jobs", "-1", src + ":v1"}, "--jobs -1"},
		{[]string{"merge", "-o", out + ":v1", "--lock-timeout", "-5s", src + ":v1"}, "--lock-timeout -5s"},
		{[]string{"copy", "--lock-timeout", "-5s", src + ":v1", out}, "--lock-timeout -5s"},
		{[]string{"add", out + ":v1", "--lock-timeout", "-1ms", "--platform", "linux/amd64", file}, "--lock-timeout -1ms"},
		{[]string{"tag", "--lock-timeout", "-5s", src + ":v1", "v2"}, "--lock-timeout -5s"},
		{[]string{"untag", "--lock-timeout", "-5s", src, "v1"}, "--lock-timeout -5s"},
		{[]string{"rm", "--lock-timeout", "-5s", src + ":v1", "--platform", "linux/amd64"}, "--lock-timeout -5s"},
		{[]string{"gc", "--lock-timeout", "-5s", src}, "--lock-timeout -5s"},
		{[]string{"validate", "--jobs", "-3", src}, "--jobs -3"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.mention) {
			t.Errorf("ocil %s: exit %d, stdout %q, stderr %q; want exit 2 naming %s", shellJoin(tc.args), code, stdout, stderr, tc.mention)
		}
		if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("ocil %s created %s", shellJoin(tc.args), out)
		}
		if now := snapshot(t, src); now != before {
			t.Fatalf("ocil %s changed %s", shellJoin(tc.args), src)
		}
	}
	// The same values that are valid pass: the check is on the value, not the flag.
	if code, _, stderr := runCLI(t, "add", out+":v1", "--platform", "linux/amd64", "--lock-timeout", "0s", "--artifact-type", "application/vnd.example+json", file+":text/plain"); code != exitOK {
		t.Errorf("valid flags: exit %d, %s", code, stderr)
	}
}

// TestTarballNamesNeverFolders: an output name with a tarball suffix is written as a
// tarball by every writer (zstd for .tar.zst and .tzst), never a folder; tag, untag and rm
// of a tarball that is missing are refused without making one.
func TestTarballNamesNeverFolders(t *testing.T) {
	work := t.TempDir()
	file := filepath.Join(work, "tool.sh")
	os.WriteFile(file, []byte("echo hi\n"), 0o644)
	src := fixture("regctl-index")
	zstdMagic := "\x28\xb5\x2f\xfd"

	for _, tc := range []struct {
		args  []string
		out   string
		magic string // "" when refused
		code  int
	}{
		{[]string{"copy", src + ":v1", "@OUT"}, "c.tar.zst", zstdMagic, exitOK},
		{[]string{"copy", src + ":v1", "@OUT"}, "c.tzst", zstdMagic, exitOK},
		{[]string{"copy", src + ":v1", "@OUT"}, "c.tgz", "\x1f\x8b", exitOK},
		{[]string{"copy", src + ":v1", "@OUT/"}, "slash.tar", "", exitUsage},
		{[]string{"merge", "-o", "@OUT:v1", fixture("oras-linux-amd64-el8")}, "m.tar.zst", zstdMagic, exitOK},
		{[]string{"merge", "-o", "@OUT:v1", fixture("oras-linux-amd64-el8")}, "m.tzst", zstdMagic, exitOK},
		{[]string{"add", "@OUT:v1", "--platform", "linux/amd64", file}, "a.tar", "oci-layout", exitOK},
		{[]string{"add", "@OUT:v1", "--platform", "linux/amd64", file}, "a.tar.zst", zstdMagic, exitOK},
		{[]string{"add", "@OUT:v1", "--platform", "linux/amd64", file}, "a.tgz", "\x1f\x8b", exitOK},
		{[]string{"tag", "@OUT:v1", "v2"}, "t.tar", "", exitFailed},
		{[]string{"untag", "@OUT", "v1"}, "u.tar.gz", "", exitFailed},
		{[]string{"rm", "@OUT:v1", "--platform", "linux/amd64"}, "r.tzst", "", exitFailed},
	} {
		out := filepath.Join(work, tc.out)
		args := make([]string, len(tc.args))
		for i, a := range tc.args {
			args[i] = strings.Replace(a, "@OUT", out, 1)
		}
		code, _, stderr := runCLI(t, args...)
		if code != tc.code {
			t.Errorf("ocil %s: exit %d, want %d; %s", shellJoin(args), code, tc.code, stderr)
		}
		fi, err := os.Lstat(out)
		switch {
		case tc.magic != "":
			if err != nil || !fi.Mode().IsRegular() {
				t.Errorf("ocil %s: %s is %v, %v; want a tarball", shellJoin(args), tc.out, fi, err)
				continue
			}
			b, _ := os.ReadFile(out)
			if !strings.HasPrefix(string(b), tc.magic) {
				t.Errorf("ocil %s: %s starts % x", shellJoin(args), tc.out, b[:min(4, len(b))])
			}
			if code, stdout, stderr := runCLI(t, "resolve", out+":v1"); code != exitOK || !strings.HasPrefix(stdout, "sha256:") {
				t.Errorf("ocil resolve %s:v1: exit %d, %s%s", tc.out, code, stdout, stderr)
			}
		case !errors.Is(err, os.ErrNotExist):
			t.Errorf("ocil %s: %s exists (%v)", shellJoin(args), tc.out, fi.Mode())
		case tc.code == exitUsage && !strings.Contains(stderr, "ends like a tarball"):
			t.Errorf("ocil %s: stderr %q does not say why", shellJoin(args), stderr)
		}
	}

	// tag, untag and add change an existing tarball and keep it one, compressed as
	// before; a failed rm leaves its bytes as they were.
	tarball := filepath.Join(work, "c.tar.zst")
	for _, args := range [][]string{
		{"tag", tarball + ":v1", "v2"},
		{"untag", tarball, "v2"},
		{"add", tarball + ":art", "--platform", "linux/amd64", file},
	} {
		if code, _, stderr := runCLI(t, args...); code != exitOK {
			t.Errorf("ocil %s: exit %d, %s", shellJoin(args), code, stderr)
		}
		fi, err := os.Lstat(tarball)
		if b, _ := os.ReadFile(tarball); err != nil || !fi.Mode().IsRegular() || !strings.HasPrefix(string(b), zstdMagic) {
			t.Errorf("ocil %s: %s is no longer a zstd tarball (%v)", shellJoin(args), tarball, err)
		}
	}
	for tag, want := range map[string]int{"v1": exitOK, "v2": exitFailed, "art": exitOK} {
		if code, _, stderr := runCLI(t, "resolve", tarball+":"+tag); code != want {
			t.Errorf("resolve %s:%s: exit %d, want %d; %s", tarball, tag, code, want, stderr)
		}
	}
	before, _ := os.ReadFile(tarball)
	args := []string{"rm", tarball + ":v1", "--platform", "linux/s390x"}
	if code, _, stderr := runCLI(t, args...); code != exitFailed || !strings.Contains(stderr, tarball) {
		t.Errorf("ocil %s: exit %d, %s", shellJoin(args), code, stderr)
	}
	if now, _ := os.ReadFile(tarball); string(now) != string(before) {
		t.Errorf("ocil %s changed the tarball", shellJoin(args))
	}
}

// hugeIndex writes a layout whose index.json lists n manifests (whose blobs are absent),
// tagged t0, t1... when tagged.
func hugeIndex(t *testing.T, n int, tagged bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "huge")
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	var b strings.Builder
	b.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","size":100`, i)
		if tagged {
			fmt.Fprintf(&b, `,"annotations":{"org.opencontainers.image.ref.name":"t%d"}`, i)
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAmbiguousListsAScreenful: a reference that could mean any of 100,000 entries lists
// the first 20 and says how many more, instead of megabytes of candidates; so does the
// list of tags when a tag is not found (checked with 30,000 tags).
func TestAmbiguousListsAScreenful(t *testing.T) {
	for _, n := range []int{100_000, 30_000} {
		tagged := n == 30_000
		dir := hugeIndex(t, n, tagged)
		code, stdout, stderr := runCLI(t, "resolve", dir)
		if code != exitFailed || stdout != "" {
			t.Errorf("%d entries: exit %d, stdout %q", n, code, stdout)
		}
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if len(stderr) > 4096 || len(lines) != 22 {
			t.Fatalf("%d entries: %d bytes in %d lines of stderr, want a first line, 20 candidates and a count:\n%.2000s", n, len(stderr), len(lines), stderr)
		}
		if !strings.Contains(lines[0], fmt.Sprintf("index.json lists %d images", n)) || lines[21] != fmt.Sprintf("  ... and %d more", n-20) {
			t.Errorf("%d entries: stderr %q ... %q", n, lines[0], lines[21])
		}
		if want := fmt.Sprintf("sha256:%064x", 19); !strings.Contains(lines[20], want) {
			t.Errorf("%d entries: the 20th candidate is %q, want %s", n, lines[20], want)
		}
		if tagged {
			code, _, stderr := runCLI(t, "resolve", dir+":nope")
			if code != exitFailed || len(stderr) > 4096 || !strings.Contains(stderr, `no tag "nope"`) || !strings.Contains(stderr, fmt.Sprintf("and %d more", n-20)) {
				t.Errorf("resolve :nope: exit %d, %d bytes: %.300s", code, len(stderr), stderr)
			}
		}
	}
}

// TestPullBadTitleWritesNothing: ocil pull of a manifest whose second layer is titled
// "sub/.." exits 1 naming the title, and -o DIR is not created.
func TestPullBadTitleWritesNothing(t *testing.T) {
	b := tl.New(t)
	good := b.Blob("text/plain", []byte("good\n"))
	good.Annotations = map[string]string{ocispec.AnnotationTitle: "good.txt"}
	bad := b.Blob("text/plain", []byte("bad\n"))
	bad.Annotations = map[string]string{ocispec.AnnotationTitle: "sub/.."}
	m := b.Manifest(ocispec.Manifest{Config: b.Config(tl.P("linux", "amd64", "", "")), Layers: []ocispec.Descriptor{good, bad}})
	b.SetIndex(tl.Tag(m, "v1"))
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "pull", b.Dir+":v1", "-o", out)
	if code != exitFailed || stdout != "" || !strings.Contains(stderr, `title "sub/.."`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 naming the title", code, stdout, stderr)
	}
	if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pull created %s (%v)", out, err)
	}
}
