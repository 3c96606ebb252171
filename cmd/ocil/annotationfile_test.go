package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

// add --annotation-file in oras's format: $manifest on the manifest (beside
// --annotation), $config on the config descriptor, a file's name on its layer, by the
// path as given or by its title.
func TestAddAnnotationFile(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	t.Chdir(tmp)
	writeFile(t, "dist/arm64/tool", "tool")
	writeFile(t, "README.md", "readme")
	writeFile(t, "bin/run", "run")
	af := writeFile(t, "annotations.json", `{
  "$manifest": {"`+tabKey+`": `+jsonString(tabValue)+`, "org.opencontainers.image.version": "1.2"},
  "$config": {"com.example.config": "c, d"},
  "dist/arm64/tool": {"com.example.arch": "arm64"},
  "README.md": {"com.example.doc": "yes"},
  "run": {"com.example.title": "by title"}
}`)
	dgst := mustRun(t, "add", "out:1.2", "--platform", "darwin/arm64:macOS 14", "--annotation-file", af,
		"--annotation", descKey+"="+descValue, "dist/arm64/tool", "README.md:text/markdown", "bin/run")
	m := manifestOf(t, "out", dgst)
	wantManifest := map[string]string{tabKey: tabValue, "org.opencontainers.image.version": "1.2", descKey: descValue}
	if !reflect.DeepEqual(m.Annotations, wantManifest) {
		t.Errorf("manifest annotations %q, want %q", m.Annotations, wantManifest)
	}
	if want := map[string]string{"com.example.config": "c, d"}; !reflect.DeepEqual(m.Config.Annotations, want) {
		t.Errorf("config annotations %q, want %q", m.Config.Annotations, want)
	}
	wantLayers := []map[string]string{
		{ocispec.AnnotationTitle: "tool", "com.example.arch": "arm64"},
		{ocispec.AnnotationTitle: "README.md", "com.example.doc": "yes"},
		{ocispec.AnnotationTitle: "run", "com.example.title": "by title"},
	}
	if len(m.Layers) != len(wantLayers) {
		t.Fatalf("%d layers, want %d", len(m.Layers), len(wantLayers))
	}
	for i, l := range m.Layers {
		if !reflect.DeepEqual(l.Annotations, wantLayers[i]) {
			t.Errorf("layer %d annotations %q, want %q", i, l.Annotations, wantLayers[i])
		}
	}
	if m.Layers[1].MediaType != "text/markdown" {
		t.Errorf("README.md media type %q", m.Layers[1].MediaType)
	}
}

// A pipe works, as the shell's <(...) gives one.
func TestAddAnnotationFileFromPipe(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	fifo := filepath.Join(tmp, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		// Opening for writing waits for the reader; a failed test leaves this blocked,
		// which ends with the test binary.
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString(`{"$manifest": {"com.example.piped": "yes, it is"}}`)
		f.Close()
	}()
	file := writeFile(t, filepath.Join(tmp, "tool"), "tool")
	dgst := mustRun(t, "add", filepath.Join(tmp, "out")+":1", "--platform", "linux/amd64", "--annotation-file", fifo, file)
	if got := manifestOf(t, filepath.Join(tmp, "out"), dgst).Annotations; !reflect.DeepEqual(got, map[string]string{"com.example.piped": "yes, it is"}) {
		t.Fatalf("manifest annotations %q", got)
	}
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Every bad annotation file is refused with its name, and the key, before anything is
// written: the layout stays as it was.
func TestAddAnnotationFileErrors(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	t.Chdir(tmp)
	writeFile(t, "dist/tool", "tool")
	mustRun(t, "add", "out:1", "--platform", "linux/amd64", "dist/tool")
	before := snapshot(t, "out")
	for _, tc := range []struct {
		name, content string
		args          []string
		code          int
		want          []string
	}{
		{"unknown title", `{"tool.exe": {"a": "b"}}`, nil, exitUsage,
			[]string{`--annotation-file unknown title.json: "tool.exe" names no file of this artifact (its files: tool; other keys: $manifest, $config)`}},
		{"duplicate key", `{"$manifest": {"a": "b"}, "$manifest": {"c": "d"}}`, nil, exitUsage,
			[]string{`--annotation-file duplicate key.json: "$manifest" is given twice`}},
		{"duplicate annotation", `{"tool": {"a": "b", "a": "c"}}`, nil, exitUsage,
			[]string{`--annotation-file duplicate annotation.json: "tool": annotation "a" is given twice`}},
		{"number", `{"$config": {"a": 1}}`, nil, exitUsage,
			[]string{`--annotation-file number.json: "$config": annotation "a": want a string, not 1`}},
		{"null", `{"$config": {"a": null}}`, nil, exitUsage,
			[]string{`--annotation-file null.json: "$config": annotation "a": want a string, not null`}},
		{"nested", `{"$manifest": {"a": {"b": "c"}}}`, nil, exitUsage,
			[]string{`--annotation-file nested.json: "$manifest": annotation "a": want a string, not an object`}},
		{"not an object", `["a"]`, nil, exitUsage,
			[]string{`--annotation-file not an object.json: want a JSON object such as {"$manifest": {"KEY": "VALUE"}}`}},
		{"set not an object", `{"$manifest": "a=b"}`, nil, exitUsage,
			[]string{`--annotation-file set not an object.json: "$manifest": want an object of annotations, {"KEY": "VALUE"}`}},
		{"empty key", `{"$manifest": {"": "b"}}`, nil, exitUsage,
			[]string{`--annotation-file empty key.json: "$manifest": an empty annotation key`}},
		{"trailing", `{"$manifest": {}} {}`, nil, exitUsage,
			[]string{`--annotation-file trailing.json: data after the JSON object`}},
		{"truncated", `{"$manifest": {"a": "b"`, nil, exitUsage,
			[]string{`--annotation-file truncated.json: "$manifest": the file ends inside the JSON object`}},
		{"invalid utf8", "{\"$manifest\": {\"a\": \"\xff\"}}", nil, exitUsage,
			[]string{`--annotation-file invalid utf8.json: not valid UTF-8`}},
		{"both ways", `{"$manifest": {"com.example.a": "file"}}`, []string{"--annotation", "com.example.a=flag"}, exitUsage,
			[]string{`annotation "com.example.a" is given both by --annotation and under "$manifest" in --annotation-file both ways.json`}},
		{"two keys", `{"dist/tool": {"a": "b"}, "tool": {"c": "d"}}`, nil, exitUsage,
			[]string{`--annotation-file two keys.json: "dist/tool" and "tool" both name dist/tool`}},
		{"title set by ocil", `{"tool": {"org.opencontainers.image.title": "other"}}`, nil, exitUsage,
			[]string{"dist/tool", "the annotation org.opencontainers.image.title is set by ocil"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			af := writeFile(t, tc.name+".json", tc.content)
			args := append([]string{"add", "out:1", "--platform", "linux/arm64", "--annotation-file", af}, tc.args...)
			code, stdout, stderr := runCLI(t, append(args, "dist/tool")...)
			if code != tc.code || stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit %d", code, stdout, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			if snapshot(t, "out") != before {
				t.Fatal("the layout changed")
			}
		})
	}
	// An artifact without files has no file for a name to match.
	af := writeFile(t, "nofiles.json", `{"$manifest": {"a": "b"}, "tool": {"c": "d"}}`)
	code, _, stderr := runCLI(t, "add", "out:1", "--platform", "linux/arm64", "--annotation-file", af)
	if code != exitUsage || !strings.Contains(stderr, `--annotation-file nofiles.json: "tool" names no file: this artifact has none (keys: $manifest, $config)`) {
		t.Errorf("no files: exit %d, %s", code, stderr)
	}
	// A missing file and a folder are errors naming them.
	code, _, stderr = runCLI(t, "add", "out:1", "--platform", "linux/arm64", "--annotation-file", "missing.json", "dist/tool")
	if code != exitFailed || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "add", "out:1", "--platform", "linux/arm64", "--annotation-file", "dist", "dist/tool")
	if code != exitUsage || !strings.Contains(stderr, "--annotation-file dist: a folder, not a file") {
		t.Errorf("folder: exit %d, %s", code, stderr)
	}
	// A file over the document cap is refused before it is parsed.
	big := filepath.Join(tmp, "big.json")
	if err := os.WriteFile(big, make([]byte, layout.MaxJSONSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "add", "out:1", "--platform", "linux/arm64", "--annotation-file", big, "dist/tool")
	if code != exitFailed || !strings.Contains(stderr, big) || !strings.Contains(stderr, "too large") {
		t.Errorf("big file: exit %d, %s", code, stderr)
	}
	if snapshot(t, "out") != before {
		t.Fatal("the layout changed")
	}
}

// merge --annotation-file: $manifest annotates the nested index; any other key is an
// error naming the file and the key.
func TestMergeAnnotationFile(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	af := writeFile(t, filepath.Join(tmp, "a.json"), `{"$manifest": {"`+tabKey+`": `+jsonString(tabValue)+`}}`)
	out := filepath.Join(tmp, "out")
	mustRun(t, "merge", "-o", out+":1.2", "--annotation-file", af, "--annotation", descKey+"="+descValue, orasFixtures[0])
	if got, want := tagIndex(t, out, "1.2").Annotations, map[string]string{tabKey: tabValue, descKey: descValue}; !reflect.DeepEqual(got, want) {
		t.Fatalf("nested index annotations %q, want %q", got, want)
	}
	before := snapshot(t, out)
	for _, tc := range []struct{ content, want string }{
		{`{"$manifest": {"a": "b"}, "$config": {"c": "d"}}`, `"$config" is not a key merge takes: it writes an index, annotated by "$manifest" only`},
		{`{"tool": {"c": "d"}}`, `"tool" is not a key merge takes`},
		{`{"$manifest": {"` + descKey + `": "x"}}`, `annotation "` + descKey + `" is given both by --annotation and under "$manifest" in --annotation-file ` + af},
	} {
		writeFile(t, af, tc.content)
		code, stdout, stderr := runCLI(t, "merge", "-o", out+":1.2", "--annotation-file", af, "--annotation", descKey+"=y", orasFixtures[1])
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, af) {
			t.Errorf("%s: exit %d, stderr %s; want exit 2 and %q", tc.content, code, stderr, tc.want)
		}
	}
	if snapshot(t, out) != before {
		t.Fatal("a refused merge changed the output")
	}
}

// add --descriptor-annotation annotates the manifest's entry in the tag's index, as
// Homebrew's bottle index does; an add that replaces the entry says its own.
func TestAddDescriptorAnnotation(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "bottles")
	f := writeFile(t, filepath.Join(tmp, "foo.tar.gz"), "bottle")
	arm := mustRun(t, "add", dst+":1.2", "--platform", "darwin/arm64:macOS 14", f,
		"--descriptor-annotation", "sh.brew.bottle.digest=sha256:0123",
		"--descriptor-annotation", ocispec.AnnotationRefName+"=1.2.arm64_sonoma")
	amd := mustRun(t, "add", dst+":1.2", "--platform", "darwin/amd64:macOS 14", f,
		"--descriptor-annotation", ocispec.AnnotationRefName+"=1.2.sonoma")
	idx := tagIndex(t, dst, "1.2")
	// Children stand in canonical order: darwin/amd64 before darwin/arm64.
	want := []map[string]string{
		{ocispec.AnnotationRefName: "1.2.sonoma"},
		{"sh.brew.bottle.digest": "sha256:0123", ocispec.AnnotationRefName: "1.2.arm64_sonoma"},
	}
	if len(idx.Manifests) != 2 || idx.Manifests[0].Digest.String() != amd || idx.Manifests[1].Digest.String() != arm {
		t.Fatalf("index lists %+v", idx.Manifests)
	}
	for i, c := range idx.Manifests {
		if !reflect.DeepEqual(c.Annotations, want[i]) {
			t.Errorf("entry %d annotations %q, want %q", i, c.Annotations, want[i])
		}
	}
	// The manifest itself is the same with or without them: they are on the entry only.
	if len(manifestOf(t, dst, arm).Annotations) != 0 {
		t.Errorf("the manifest has annotations %q", manifestOf(t, dst, arm).Annotations)
	}
	// The index.json entry keeps only the tag; the per-child names are not tags.
	if got := readIndexJSON(t, dst).Manifests; len(got) != 1 || !reflect.DeepEqual(got[0].Annotations, map[string]string{ocispec.AnnotationRefName: "1.2"}) {
		t.Errorf("index.json entries %+v", got)
	}
	if code, _, stderr := runCLI(t, "resolve", dst+":1.2.sonoma"); code != exitFailed || !strings.Contains(stderr, "1.2.sonoma") {
		t.Errorf("resolve of a per-child name: exit %d, %s", code, stderr)
	}
	// Replacing the arm64 entry: it carries what this add says, and nothing else.
	again := mustRun(t, "add", dst+":1.2", "--platform", "darwin/arm64:macOS 14", f, "--descriptor-annotation", "sh.brew.bottle.digest=sha256:4567")
	if again != arm {
		t.Fatalf("the same files gave %s, first %s", again, arm)
	}
	if got := tagIndex(t, dst, "1.2").Manifests[1].Annotations; !reflect.DeepEqual(got, map[string]string{"sh.brew.bottle.digest": "sha256:4567"}) {
		t.Errorf("replaced entry annotations %q", got)
	}
	code, _, stderr := runCLI(t, "add", dst+":1.2", "--platform", "darwin/arm64:macOS 14", f, "--descriptor-annotation", "novalue")
	if code != exitUsage || !strings.Contains(stderr, `--descriptor-annotation "novalue": want KEY=VALUE`) {
		t.Errorf("bad --descriptor-annotation: exit %d, %s", code, stderr)
	}
}
