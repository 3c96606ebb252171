package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"
)

// Values a user types, as Homebrew and GitLab jobs write them.
const (
	descKey   = "org.opencontainers.image.description"
	descValue = "a, b"
	tabKey    = "sh.brew.tab"
	tabValue  = `{"homebrew_version":"4.2.0","changed_files":["bin/a","bin/b"],"source":{"spec":"stable","versions":{"stable":"1.2","head":null}},"arch":"arm64"}`
	// Spaces at either end and a leading "sl:::" are taken as written too.
	spacedKey   = "com.example.spaced"
	spacedValue = " x, y "
)

// mustRun runs ocil and fails the test unless it exits 0; it returns stdout trimmed.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("ocil %s: exit %d\n%s", shellJoin(args), code, stderr)
	}
	return strings.TrimSpace(stdout)
}

// blobOf reads the blob dgst of the layout folder dir.
func blobOf(t *testing.T, dir, dgst string) []byte {
	t.Helper()
	alg, hex, ok := strings.Cut(dgst, ":")
	if !ok {
		t.Fatalf("not a digest: %q", dgst)
	}
	b, err := os.ReadFile(filepath.Join(dir, "blobs", alg, hex))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func manifestOf(t *testing.T, dir, dgst string) ocispec.Manifest {
	t.Helper()
	var m ocispec.Manifest
	if err := json.Unmarshal(blobOf(t, dir, dgst), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// tagIndex reads the nested index that tag names in the layout folder dir.
func tagIndex(t *testing.T, dir, tag string) ocispec.Index {
	t.Helper()
	for _, e := range readIndexJSON(t, dir).Manifests {
		if e.Annotations[ocispec.AnnotationRefName] == tag {
			var idx ocispec.Index
			if err := json.Unmarshal(blobOf(t, dir, e.Digest.String()), &idx); err != nil {
				t.Fatal(err)
			}
			return idx
		}
	}
	t.Fatalf("%s has no tag %q", dir, tag)
	return ocispec.Index{}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// No repeatable flag of any command splits its value at commas or trims it: each
// command's action is replaced by one that records what the flag holds.
func TestSliceFlagsKeepValues(t *testing.T) {
	values := []string{descKey + "=" + descValue, tabKey + "=" + tabValue, spacedKey + "=" + spacedValue, "linux/arm64/v8,osver=el8"}
	app := newApp(io.Discard, io.Discard)
	n := 0
	for _, c := range app.Commands {
		for _, f := range c.Flags {
			sf, ok := f.(*cli.StringSliceFlag)
			if !ok {
				continue
			}
			n++
			t.Run(c.Name+"/"+sf.Name, func(t *testing.T) {
				app := newApp(io.Discard, io.Discard)
				var got []string
				cmd := app.Command(c.Name)
				cmd.Action = func(c *cli.Context) error {
					got = c.StringSlice(sf.Name)
					return nil
				}
				args := []string{"ocil", c.Name}
				for _, v := range values {
					args = append(args, "--"+sf.Name, v)
				}
				if err := app.Run(args); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, values) {
					t.Fatalf("--%s holds %q, want %q", sf.Name, got, values)
				}
			})
		}
	}
	// add, merge (annotations twice), copy and rm at least.
	if n < 5 {
		t.Fatalf("only %d repeatable flags found", n)
	}
}

// Annotation values with commas and spaces, and a JSON object full of commas (Homebrew's
// sh.brew.tab), are stored exactly as given by add and merge.
func TestAnnotationValuesStoredExactly(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "bottles")
	file := writeFile(t, filepath.Join(tmp, "foo.tar.gz"), "bottle")
	want := map[string]string{descKey: descValue, tabKey: tabValue, spacedKey: spacedValue}
	dgst := mustRun(t, "add", dst+":1.2", "--platform", "darwin/arm64:macOS 14",
		"--annotation", descKey+"="+descValue, "--annotation", tabKey+"="+tabValue, "--annotation", spacedKey+"="+spacedValue,
		"--descriptor-annotation", descKey+"="+descValue, "--descriptor-annotation", tabKey+"="+tabValue, file)
	if got := manifestOf(t, dst, dgst).Annotations; !reflect.DeepEqual(got, want) {
		t.Fatalf("manifest annotations %q, want %q", got, want)
	}
	// The JSON value is a string in the manifest, not re-encoded: its bytes are there.
	raw := string(blobOf(t, dst, dgst))
	if enc, _ := json.Marshal(tabValue); !strings.Contains(raw, `"sh.brew.tab":`+string(enc)) {
		t.Fatalf("manifest does not hold %s as written:\n%s", tabValue, raw)
	}
	child := tagIndex(t, dst, "1.2").Manifests[0]
	if wantDesc := map[string]string{descKey: descValue, tabKey: tabValue}; !reflect.DeepEqual(child.Annotations, wantDesc) {
		t.Fatalf("index entry annotations %q, want %q", child.Annotations, wantDesc)
	}

	out := filepath.Join(tmp, "out")
	mustRun(t, "merge", "-o", out+":1.2", "--annotation", descKey+"="+descValue, "--annotation", tabKey+"="+tabValue,
		"--annotation", spacedKey+"="+spacedValue, "--descriptor-annotation", "com.example.jobs=a,b", orasFixtures[0])
	if got := tagIndex(t, out, "1.2").Annotations; !reflect.DeepEqual(got, want) {
		t.Fatalf("nested index annotations %q, want %q", got, want)
	}
	if got := readIndexJSON(t, out).Manifests[0].Annotations["com.example.jobs"]; got != "a,b" {
		t.Fatalf("index.json entry com.example.jobs = %q, want %q", got, "a,b")
	}
}

// platformLayout adds one artifact per platform to dir:TAG and returns their digests.
func platformLayout(t *testing.T, dir, tag string, plats ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range plats {
		f := writeFile(t, filepath.Join(t.TempDir(), "tool"), "build for "+p)
		out[p] = mustRun(t, "add", dir+":"+tag, "--platform", p, f)
	}
	return out
}

// childDigests lists the digests of the manifests in tag's index, in order.
func childDigests(t *testing.T, dir, tag string) []string {
	t.Helper()
	var ds []string
	for _, c := range tagIndex(t, dir, tag).Manifests {
		ds = append(ds, c.Digest.String())
	}
	return ds
}

// The regclient form linux/arm64/v8,osver=el8 is one platform on every command that
// takes one; on copy and rm, linux/amd64,linux/arm64 is still two.
func TestPlatformOptionAndLists(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	d := platformLayout(t, src, "1", "linux/amd64", "linux/arm64/v8,osver=el8", "linux/arm64/v8:el9", "linux/s390x")
	el8 := d["linux/arm64/v8,osver=el8"]

	// add stored the option form as a platform with os.version el8.
	for _, c := range tagIndex(t, src, "1").Manifests {
		if c.Digest.String() == el8 {
			if want := (ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8", OSVersion: "el8"}); !reflect.DeepEqual(*c.Platform, want) {
				t.Fatalf("add stored %+v, want %+v", *c.Platform, want)
			}
		}
	}
	if got := mustRun(t, "resolve", src+":1", "--platform", "linux/arm64/v8,osver=el8"); got != el8 {
		t.Fatalf("resolve: %s, want %s", got, el8)
	}
	if code, _, stderr := runCLI(t, "resolve", src+":1", "--platform", "linux/amd64,linux/arm64"); code != exitUsage ||
		!strings.Contains(stderr, `"linux/arm64" after ',' is another platform: give one platform here`) {
		t.Fatalf("resolve with a list: exit %d, %s", code, stderr)
	}

	// copy: one platform with its option, then a list mixing both forms.
	one := filepath.Join(tmp, "one")
	mustRun(t, "copy", src+":1", one, "--platform", "linux/arm64/v8,osver=el8")
	if got := childDigests(t, one, "1"); !reflect.DeepEqual(got, []string{el8}) {
		t.Fatalf("copy kept %v, want [%s]", got, el8)
	}
	two := filepath.Join(tmp, "two")
	mustRun(t, "copy", src+":1", two, "--platform", "linux/amd64,linux/arm64/v8,osver=el8")
	if got, want := childDigests(t, two, "1"), []string{d["linux/amd64"], el8}; !reflect.DeepEqual(got, want) {
		t.Fatalf("copy kept %v, want %v", got, want)
	}
	three := filepath.Join(tmp, "three")
	mustRun(t, "copy", src+":1", three, "--platform", "linux/s390x", "--platform", "linux/arm64/v8:el9,linux/amd64")
	if got, want := childDigests(t, three, "1"), []string{d["linux/amd64"], d["linux/arm64/v8:el9"], d["linux/s390x"]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("copy kept %v, want %v", got, want)
	}

	// rm: the option form, then a list of two.
	mustRun(t, "rm", src+":1", "--platform", "linux/arm64/v8,osver=el8")
	if got, want := childDigests(t, src, "1"), []string{d["linux/amd64"], d["linux/arm64/v8:el9"], d["linux/s390x"]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after rm: %v, want %v", got, want)
	}
	mustRun(t, "rm", src+":1", "--platform", "linux/amd64,linux/s390x")
	if got, want := childDigests(t, src, "1"), []string{d["linux/arm64/v8:el9"]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after rm of a list: %v, want %v", got, want)
	}
	// A list item that matches nothing fails the whole rm, and nothing changes.
	before := snapshot(t, src)
	if code, _, stderr := runCLI(t, "rm", src+":1", "--platform", "linux/arm64/v8,osver=el9,linux/riscv64"); code != exitFailed || !strings.Contains(stderr, "linux/riscv64") {
		t.Fatalf("rm of an absent platform: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "rm", src+":1", "--platform", "linux/arm64,,linux/amd64"); code != exitUsage || !strings.Contains(stderr, `"linux/arm64,,linux/amd64": empty platform in the list`) {
		t.Fatalf("rm of an empty item: exit %d, %s", code, stderr)
	}
	if snapshot(t, src) != before {
		t.Fatal("a failed rm changed the layout")
	}

	// merge: IN=PLATFORM in the option form.
	out := filepath.Join(tmp, "merged")
	mustRun(t, "merge", "-o", out+":1", orasFixtures[2]+"=linux/arm64/v8,osver=el8")
	idx := tagIndex(t, out, "1")
	if len(idx.Manifests) != 1 || !reflect.DeepEqual(*idx.Manifests[0].Platform, ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8", OSVersion: "el8"}) {
		t.Fatalf("merge wrote %+v", idx.Manifests)
	}
}

// An os.version with spaces (Homebrew's "macOS 12.6") is accepted in every form, stored
// as written and listed as written.
func TestPlatformWithSpaces(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	src := filepath.Join(tmp, "bottles")
	d := platformLayout(t, src, "1.2", "darwin/arm64:macOS 12.6", "darwin/arm64,osver=macOS 14", "darwin(macOS 13)/arm64", "darwin(macOS%2015)/arm64")
	raw := string(blobOf(t, src, readIndexJSON(t, src).Manifests[0].Digest.String()))
	for _, v := range []string{"macOS 12.6", "macOS 14", "macOS 13", "macOS 15"} {
		if !strings.Contains(raw, `"os.version":"`+v+`"`) {
			t.Errorf("the index does not hold os.version %q as written:\n%s", v, raw)
		}
	}
	if strings.Contains(raw, "%20") {
		t.Errorf("the index holds a %%20:\n%s", raw)
	}
	if got := len(tagIndex(t, src, "1.2").Manifests); got != 4 {
		t.Fatalf("%d children, want 4", got)
	}
	ls := mustRun(t, "ls", src)
	for _, v := range []string{"darwin/arm64:macOS 12.6", "darwin/arm64:macOS 14", "darwin/arm64:macOS 13", "darwin/arm64:macOS 15"} {
		if !strings.Contains(ls, v) {
			t.Errorf("ls does not show %q:\n%s", v, ls)
		}
	}
	want := d["darwin/arm64:macOS 12.6"]
	for _, p := range []string{"darwin/arm64:macOS 12.6", "darwin/arm64,osver=macOS 12.6", "darwin(macOS 12.6)/arm64", "darwin(macOS%2012.6)/arm64", "macos/aarch64:macOS 12.6"} {
		if got := mustRun(t, "resolve", src+":1.2", "--platform", p); got != want {
			t.Errorf("resolve --platform %q: %s, want %s", p, got, want)
		}
	}
	// merge: IN=PLATFORM with a space, the input selected by digest.
	merged := filepath.Join(tmp, "merged")
	mustRun(t, "merge", "-o", merged+":1.2", src+"@"+want+"=darwin/arm64:macOS 12.6", src+"@"+d["darwin/arm64,osver=macOS 14"]+"=darwin(macOS 14)/arm64")
	mi := tagIndex(t, merged, "1.2")
	if len(mi.Manifests) != 2 || mi.Manifests[0].Platform.OSVersion != "macOS 12.6" || mi.Manifests[1].Platform.OSVersion != "macOS 14" {
		t.Fatalf("merge wrote %+v", mi.Manifests)
	}
	// validate finds nothing wrong with such a layout.
	if code, stdout, stderr := runCLI(t, "validate", src); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}

	// Percent-encoding after ':' is refused, not stored as written.
	before := snapshot(t, src)
	f := writeFile(t, filepath.Join(tmp, "x"), "x")
	code, _, stderr := runCLI(t, "add", src+":1.2", "--platform", "darwin/arm64:macOS%2012.6", f)
	if code != exitUsage || !strings.Contains(stderr, `parse platform "darwin/arm64:macOS%2012.6"`) || !strings.Contains(stderr, "write the character itself") {
		t.Fatalf("add with %%20 after ':': exit %d, %s", code, stderr)
	}
	if snapshot(t, src) != before {
		t.Fatal("a refused add changed the layout")
	}
	// copy and rm take such a platform in a list; children stay in canonical order.
	cp := filepath.Join(tmp, "cp")
	mustRun(t, "copy", src+":1.2", cp, "--platform", "darwin/arm64:macOS 13,darwin/arm64,osver=macOS 14")
	if got, w := childDigests(t, cp, "1.2"), []string{d["darwin(macOS 13)/arm64"], d["darwin/arm64,osver=macOS 14"]}; !reflect.DeepEqual(got, w) {
		t.Fatalf("copy kept %v, want %v", got, w)
	}
	mustRun(t, "rm", src+":1.2", "--platform", "darwin/arm64:macOS 12.6,darwin(macOS%2015)/arm64")
	if got, w := childDigests(t, src, "1.2"), []string{d["darwin(macOS 13)/arm64"], d["darwin/arm64,osver=macOS 14"]}; !reflect.DeepEqual(got, w) {
		t.Fatalf("after rm: %v, want %v", got, w)
	}
}
