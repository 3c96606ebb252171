package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// formatCases are the golden cases of --format go-template=, --format json and -q on
// every command that prints a result. The layouts they write are made here, in t's temp
// folder, so every case's output is the same on every run.
func formatCases(t *testing.T) []cliCase {
	const (
		regctl = "regctl-index"
		crane  = "crane-flat"
		arm8   = "oras-linux-arm64-v8-el8"
		amd8   = "oras-linux-amd64-el8"
	)
	tmp := t.TempDir()
	copyOf := func(name, src string) string {
		t.Helper()
		dst := filepath.Join(tmp, name)
		if code, _, stderr := runCLI(t, "copy", "-q", src, dst); code != 0 {
			t.Fatalf("copy %s %s: %d %s", src, dst, code, stderr)
		}
		return dst
	}
	tagged := copyOf("tagged", fixture(regctl)+":v1")
	removed := copyOf("removed", fixture(regctl)+":v1")
	collected := copyOf("collected", fixture(regctl)+":v1")
	if code, _, stderr := runCLI(t, "rm", "-q", collected+":v1", "-p", "linux/arm64"); code != 0 {
		t.Fatalf("rm: %d %s", code, stderr)
	}
	file := filepath.Join(tmp, "tool")
	if err := os.WriteFile(file, []byte("#!/bin/sh\necho tool\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notWritten := filepath.Join(tmp, "not-written")

	return []cliCase{
		{
			name: "format_ls_go-template",
			args: []string{"ls", fixture(regctl), "--format", `go-template={{range .entries}}{{.tag}} {{.descriptor.digest}}{{range .children}} {{.platform.architecture}}{{end}}{{"\n"}}{{end}}`},
		},
		{
			name: "format_ls_bare-template",
			args: []string{"ls", fixture(regctl), "--format", `{{len .entries}} {{.layout}}`},
		},
		{
			name: "format_ls_quiet",
			args: []string{"ls", "-q", fixture(crane)},
		},
		{
			name:  "format_ls_unknown",
			args:  []string{"ls", fixture(crane), "--format", "yaml"},
			code:  2,
			check: wantStderr(`--format "yaml": unknown format`),
		},
		{
			name:  "format_ls_go-template-empty-prefix",
			args:  []string{"ls", fixture(crane), "--format", "go-template="},
			check: wantStdout(""),
		},
		{
			name: "format_resolve_go-template-json",
			args: []string{"resolve", fixture(regctl) + ":v1", "-p", "linux/arm64", "--format", "go-template={{json .platform}} {{.size}}"},
		},
		{
			name:  "format_resolve_go-template-old-field",
			args:  []string{"resolve", fixture(arm8), "--format", "go-template={{.Digest}}"},
			code:  2,
			check: wantStderr(`"Digest"`, "annotations, artifactType, digest, mediaType, platform, size"),
		},
		{
			name: "format_resolve_quiet",
			args: []string{"resolve", "-q", fixture(arm8)},
		},
		{
			name: "format_copy_go-template",
			args: []string{"copy", fixture(regctl) + ":v1", filepath.Join(tmp, "copied.tar"), "--format", "go-template={{.descriptor.digest}} {{.tag}} {{.blobs}} {{.bytes}}"},
		},
		{
			name: "format_copy_quiet",
			args: []string{"copy", "-q", fixture(arm8), filepath.Join(tmp, "quiet")},
		},
		{
			name: "format_copy_unknown",
			args: []string{"copy", fixture(arm8), notWritten, "--format", "xml"},
			code: 2,
			check: func(t *testing.T, stdout, stderr string) {
				wantStderr(`--format "xml"`)(t, stdout, stderr)
				if _, err := os.Lstat(notWritten); !os.IsNotExist(err) {
					t.Errorf("%s was written: %v", notWritten, err)
				}
			},
		},
		{
			name: "format_merge_go-template",
			args: []string{"merge", "-o", filepath.Join(tmp, "merged") + ":1", fixture(arm8), fixture(amd8), "--format", `go-template={{.index.digest}}{{range .children}} {{.descriptor.platform.architecture}}{{end}}`},
		},
		{
			name: "format_merge_quiet",
			args: []string{"merge", "-q", "-o", filepath.Join(tmp, "merged-quiet") + ":1", fixture(arm8), fixture(amd8)},
		},
		{
			name: "format_add_go-template",
			args: []string{"add", filepath.Join(tmp, "added") + ":v1", "-p", "linux/amd64", file, "--format", "go-template={{.manifest.digest}} {{.manifest.artifactType}} {{.index.mediaType}}"},
		},
		{
			name: "format_add_quiet",
			args: []string{"add", "-q", filepath.Join(tmp, "added-quiet") + ":v1", "-p", "linux/amd64", file},
		},
		{
			name: "format_pull_go-template",
			args: []string{"pull", fixture(arm8), "-o", filepath.Join(tmp, "pulled"), "--format", `go-template={{range .}}{{.path}} {{.layer.digest}}{{"\n"}}{{end}}`},
		},
		{
			name: "format_pull_quiet",
			args: []string{"pull", "-q", fixture(arm8), "-o", filepath.Join(tmp, "pulled-quiet")},
		},
		{
			name: "format_tag_go-template",
			args: []string{"tag", tagged + ":v1", "v1.0", "latest", "--format", "go-template={{.descriptor.digest}} {{json .tags}}"},
		},
		{
			name: "format_rm_go-template",
			args: []string{"rm", removed + ":v1", "-p", "linux/arm64", "--format", "go-template={{.index.digest}}{{range .removed}} {{.platform.architecture}} {{.digest}}{{end}}"},
		},
		{
			name: "format_gc_dry-run_go-template",
			args: []string{"gc", "--dry-run", collected, "--format", `go-template={{len .removed}} {{.bytes}}`},
		},
		{
			name: "format_gc_dry-run_quiet",
			args: []string{"gc", "--dry-run", "-q", collected},
		},
		{
			name: "format_validate_go-template",
			args: []string{"validate", fixture(regctl), "--format", `go-template={{range .layouts}}{{.errors}} {{.warnings}} {{.checked.blobs}}{{"\n"}}{{end}}`},
		},
		{
			name: "format_validate_quiet",
			args: []string{"validate", "-q", fixture(crane)},
		},
	}
}

// TestVersionFormats checks version's json, template and quiet forms against the values
// the binary was built with.
func TestVersionFormats(t *testing.T) {
	code, stdout, stderr := runCLI(t, "version", "--format", "json")
	if code != 0 || stderr != "" {
		t.Fatalf("version --format json: %d %q", code, stderr)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"version": versionString(), "os": runtime.GOOS, "arch": runtime.GOARCH, "go": runtime.Version()}
	if len(v) != len(want) {
		t.Errorf("version --format json = %v, want %v", v, want)
	}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %q, want %q", k, v[k], w)
		}
	}
	if code, stdout, _ := runCLI(t, "version", "--format", "go-template={{.os}}/{{.arch}}"); code != 0 || stdout != runtime.GOOS+"/"+runtime.GOARCH+"\n" {
		t.Errorf("version go-template: %d %q", code, stdout)
	}
	if code, stdout, _ := runCLI(t, "version", "-q"); code != 0 || stdout != versionString()+"\n" {
		t.Errorf("version -q: %d %q", code, stdout)
	}
}

// TestTemplateSeesJSON checks that a template runs over exactly what --format json prints:
// every command's JSON, re-encoded by the json function, is the same object.
func TestTemplateSeesJSON(t *testing.T) {
	for _, args := range [][]string{
		{"ls", fixture("regctl-index")},
		{"resolve", fixture("regctl-index") + ":v1"},
		{"validate", fixture("crane-flat")},
	} {
		_, js, _ := runCLI(t, append(args, "--format", "json")...)
		code, tm, stderr := runCLI(t, append(args, "--format", "go-template={{json .}}")...)
		if code != 0 {
			t.Fatalf("%v: %d %s", args, code, stderr)
		}
		var a, b any
		if err := json.Unmarshal([]byte(js), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(tm), &b); err != nil {
			t.Fatalf("%v: template output is not JSON: %v\n%s", args, err, tm)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%v: {{json .}} differs from --format json:\n%s\n%s", args, jb, ja)
		}
		if strings.Contains(tm, "e+") {
			t.Errorf("%v: a number lost its form: %s", args, tm)
		}
	}
}

// TestTemplateFailsAfterAWrite: a template is parsed before anything is written; one that
// fails when it runs says that the change it reports on was made.
func TestTemplateFailsAfterAWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "l")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", dir); code != 0 {
		t.Fatal(stderr)
	}
	code, stdout, stderr := runCLI(t, "tag", dir+":v1", "v2", "--format", "go-template={{.descriptor.digest")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "--format") {
		t.Errorf("tag with a template that does not parse = %d %q %s", code, stdout, stderr)
	}
	if _, got, _ := runCLI(t, "ls", "-q", dir+":v2"); got != "" {
		t.Errorf("a template that does not parse let tag write: %q", got)
	}
	code, stdout, stderr = runCLI(t, "tag", dir+":v1", "v3", "--format", "go-template={{.Digest}}")
	if code != 2 || stdout != "" || !strings.Contains(stderr, `"Digest"`) || !strings.Contains(stderr, "the tag itself succeeded, only its output failed") {
		t.Errorf("tag with a template that fails = %d %q %s", code, stdout, stderr)
	}
	if _, got, _ := runCLI(t, "ls", "-q", dir+":v3"); got != regctlV1Digest+"\n" {
		t.Errorf("ls -q %s:v3 = %q, want the tag written", dir, got)
	}
}
