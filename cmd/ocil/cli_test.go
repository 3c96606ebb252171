package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenDir = "testdata/golden"

// cliCase is one run of the program. Its stdout and stderr are compared with
// testdata/golden/NAME.stdout and NAME.stderr; `go test ./cmd/ocil -update` rewrites them.
type cliCase struct {
	name string
	args []string // without the program name
	code int      // the exit code, asserted exactly
	// scrub replaces the parts of the output that differ between builds and machines (the
	// ocil version, GOOS/GOARCH, the Go version) before the golden comparison.
	scrub bool
	// check, when set, asserts what the output must be on top of the golden comparison.
	check func(t *testing.T, stdout, stderr string)
	// skip, when set, skips the case and says why.
	skip string
}

var goldenName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

func TestCLI(t *testing.T) {
	cases := cliCases(t)
	seen := map[string]bool{}
	for _, tc := range cases {
		if !goldenName.MatchString(tc.name) {
			t.Fatalf("case name %q is not a file name", tc.name)
		}
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("ocil %s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", shellJoin(tc.args), code, tc.code, stdout, stderr)
			}
			if tc.scrub {
				stdout, stderr = scrub(stdout), scrub(stderr)
			}
			golden(t, tc.name+".stdout", stdout)
			golden(t, tc.name+".stderr", stderr)
			if tc.check != nil {
				tc.check(t, stdout, stderr)
			}
		})
	}
	checkStaleGolden(t, seen)
}

// runCLI runs the program in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), append([]string{"ocil"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// scrub replaces, only where the program prints them, the version of ocil and the
// GOOS/GOARCH and Go version it was built with.
func scrub(s string) string {
	v := versionString()
	return strings.NewReplacer(
		"ocil "+v+" "+runtime.GOOS+"/"+runtime.GOARCH+" "+runtime.Version()+"\n", "ocil VERSION GOOS/GOARCH GOVERSION\n",
		"ocil version "+v+"\n", "ocil version VERSION\n",
		"VERSION:\n   "+v+"\n", "VERSION:\n   VERSION\n",
	).Replace(s)
}

// golden compares got with the golden file name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/ocil -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./cmd/ocil -update if the change is intended)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// checkStaleGolden fails on (or, with -update, removes) golden files that no case writes.
// It only runs when every case ran.
func checkStaleGolden(t *testing.T, names map[string]bool) {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return
	}
	ents, err := os.ReadDir(goldenDir)
	if err != nil {
		if *update {
			return
		}
		t.Fatal(err)
	}
	for _, e := range ents {
		base, ext := e.Name(), filepath.Ext(e.Name())
		if (ext == ".stdout" || ext == ".stderr") && names[strings.TrimSuffix(base, ext)] {
			continue
		}
		path := filepath.Join(goldenDir, base)
		if *update {
			if err := os.Remove(path); err != nil {
				t.Error(err)
			}
			continue
		}
		t.Errorf("%s belongs to no case (run go test ./cmd/ocil -update to remove it)", path)
	}
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = a
		if a == "" || strings.ContainsAny(a, " '\"{}$|") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// Assertions used by the checks.

func wantStdout(want string) func(t *testing.T, stdout, stderr string) {
	return func(t *testing.T, stdout, _ string) {
		t.Helper()
		if stdout != want {
			t.Errorf("stdout = %q, want %q", stdout, want)
		}
	}
}

func wantEmptyStdout(t *testing.T, stdout, _ string) {
	t.Helper()
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
}

func wantStderr(subs ...string) func(t *testing.T, stdout, stderr string) {
	return func(t *testing.T, stdout, stderr string) {
		t.Helper()
		wantEmptyStdout(t, stdout, stderr)
		if !strings.HasPrefix(stderr, "ocil: ") {
			t.Errorf("stderr does not start with %q: %q", "ocil: ", stderr)
		}
		for _, s := range subs {
			if !strings.Contains(stderr, s) {
				t.Errorf("stderr does not contain %q:\n%s", s, stderr)
			}
		}
	}
}

func wantHelp(t *testing.T, stdout, stderr string) {
	t.Helper()
	if !strings.Contains(stdout, "Example") {
		t.Errorf("help has no Example:\n%s", stdout)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
}

// lsJSON is the shape of `ls --format json`.
type lsJSON struct {
	Layout  string       `json:"layout"`
	Entries []lsJSONNode `json:"entries"`
}

type lsJSONNode struct {
	Tag            string             `json:"tag"`
	Root           bool               `json:"root"`
	NotRoot        string             `json:"notRoot"`
	Descriptor     ocispec.Descriptor `json:"descriptor"`
	Platform       *ocispec.Platform  `json:"platform"`
	PlatformSource string             `json:"platformSource"`
	Children       []lsJSONNode       `json:"children"`
}

func decodeLs(t *testing.T, stdout string) lsJSON {
	t.Helper()
	var out lsJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("ls --format json: %v\n%s", err, stdout)
	}
	return out
}

func platformString(p *ocispec.Platform) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("os=%q arch=%q variant=%q os.version=%q", p.OS, p.Architecture, p.Variant, p.OSVersion)
}

func configPlatform(c imageConfig) *ocispec.Platform {
	return &ocispec.Platform{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant, OSVersion: c.OSVersion}
}

func cliCases(t *testing.T) []cliCase {
	const (
		umoci  = "umoci-image"
		docker = "docker-list"
		regctl = "regctl-index"
		crane  = "crane-flat"
		arm8   = "oras-linux-arm64-v8-el8"
	)
	var cases []cliCase

	// ls: every fixture folder.
	for _, name := range fixtureFolders(t) {
		idx := fixtureIndex(t, name)
		cases = append(cases, cliCase{
			name: "ls_" + name,
			args: []string{"ls", fixture(name)},
			check: func(t *testing.T, stdout, stderr string) {
				if stderr != "" {
					t.Errorf("stderr = %q", stderr)
				}
				if !strings.HasPrefix(stdout, "TAG ") {
					t.Errorf("no header line:\n%s", stdout)
				}
				for _, d := range idx.Manifests {
					if !strings.Contains(stdout, d.Digest.String()) {
						t.Errorf("index.json entry %s is not listed:\n%s", d.Digest, stdout)
					}
					if tag := d.Annotations[ocispec.AnnotationRefName]; tag != "" && !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(tag)+` `).MatchString(stdout) {
						t.Errorf("tag %q is not listed:\n%s", tag, stdout)
					}
				}
			},
		})
	}

	regctlV1 := fixtureEntry(t, regctl, "v1")
	regctlAmd64 := childFor(t, regctl, "v1", "amd64")
	regctlArm64 := childFor(t, regctl, "v1", "arm64")
	craneEntries := configuredEntries(t, crane)
	umociLatest := fixtureEntry(t, umoci, "latest")
	umociArm64 := fixtureEntry(t, umoci, "arm64")

	cases = append(cases,
		cliCase{
			name: "ls_regctl-index_v1_json",
			args: []string{"ls", fixture(regctl) + ":v1", "--format", "json"},
			check: func(t *testing.T, stdout, _ string) {
				out := decodeLs(t, stdout)
				if out.Layout != fixture(regctl) {
					t.Errorf("layout = %q, want %q", out.Layout, fixture(regctl))
				}
				if len(out.Entries) != 1 {
					t.Fatalf("%d entries, want 1", len(out.Entries))
				}
				e := out.Entries[0]
				if e.Tag != "v1" || !e.Root || e.Descriptor.Digest != regctlV1.Digest || e.Descriptor.MediaType != ocispec.MediaTypeImageIndex {
					t.Errorf("entry tag=%q root=%v digest=%s mediaType=%s, want v1 true %s %s", e.Tag, e.Root, e.Descriptor.Digest, e.Descriptor.MediaType, regctlV1.Digest, ocispec.MediaTypeImageIndex)
				}
				if e.Platform != nil {
					t.Errorf("index entry has platform %s", platformString(e.Platform))
				}
				want := []ocispec.Descriptor{regctlAmd64, regctlArm64}
				if len(e.Children) != len(want) {
					t.Fatalf("%d children, want %d", len(e.Children), len(want))
				}
				for i, ch := range e.Children {
					w := want[i]
					if ch.Descriptor.Digest != w.Digest || ch.Descriptor.Size != w.Size {
						t.Errorf("child %d = %s (%d B), want %s (%d B)", i, ch.Descriptor.Digest, ch.Descriptor.Size, w.Digest, w.Size)
					}
					if ch.Platform == nil || ch.Platform.OS != "linux" || ch.Platform.Architecture != w.Platform.Architecture {
						t.Errorf("child %d platform %s, want linux/%s", i, platformString(ch.Platform), w.Platform.Architecture)
					}
					if ch.PlatformSource != "descriptor" {
						t.Errorf("child %d platformSource = %q, want descriptor", i, ch.PlatformSource)
					}
				}
			},
		},
		cliCase{
			name: "ls_crane-flat_json",
			args: []string{"ls", fixture(crane), "--format", "json"},
			check: func(t *testing.T, stdout, _ string) {
				out := decodeLs(t, stdout)
				if out.Layout != fixture(crane) {
					t.Errorf("layout = %q, want %q", out.Layout, fixture(crane))
				}
				if len(out.Entries) != len(craneEntries) {
					t.Fatalf("%d entries, want %d", len(out.Entries), len(craneEntries))
				}
				for i, e := range out.Entries {
					w := craneEntries[i]
					if e.Tag != "" || !e.Root || e.Descriptor.Digest != w.Manifest.Digest {
						t.Errorf("entry %d tag=%q root=%v digest=%s, want untagged root %s", i, e.Tag, e.Root, e.Descriptor.Digest, w.Manifest.Digest)
					}
					if e.Descriptor.Platform != nil {
						t.Errorf("entry %d: descriptor platform %s, index.json has none", i, platformString(e.Descriptor.Platform))
					}
					if got, want := platformString(e.Platform), platformString(configPlatform(w.Config)); got != want {
						t.Errorf("entry %d platform %s, config says %s", i, got, want)
					}
					if e.Platform != nil && e.Platform.OSVersion != "el8" {
						t.Errorf("entry %d os.version = %q, want el8", i, e.Platform.OSVersion)
					}
					if e.PlatformSource != "config" {
						t.Errorf("entry %d platformSource = %q, want config", i, e.PlatformSource)
					}
				}
			},
		},
		cliCase{
			name:  "ls_umoci-image_tag",
			args:  []string{"ls", fixture(umoci) + ":latest"},
			check: checkLsOnly(umociLatest.Digest.String(), umociArm64.Digest.String()),
		},
		cliCase{
			name: "ls_regctl-index_child-digest",
			args: []string{"ls", fixture(regctl) + "@" + regctlArm64.Digest.String(), "--format", "json"},
			check: func(t *testing.T, stdout, _ string) {
				out := decodeLs(t, stdout)
				if len(out.Entries) != 1 {
					t.Fatalf("%d entries, want 1", len(out.Entries))
				}
				e := out.Entries[0]
				if e.Descriptor.Digest != regctlArm64.Digest || e.Platform == nil || e.Platform.Architecture != "arm64" || len(e.Children) != 0 {
					t.Errorf("entry %s platform %s with %d children, want %s linux/arm64 without children",
						e.Descriptor.Digest, platformString(e.Platform), len(e.Children), regctlArm64.Digest)
				}
			},
		},
		cliCase{
			name:  "ls_umoci-image_unknown-tag",
			args:  []string{"ls", fixture(umoci) + ":nope"},
			code:  1,
			check: wantStderr("not found", `"nope"`, "arm64, latest"),
		},
		cliCase{
			name:  "ls_nonexistent",
			args:  []string{"ls", fixture("does-not-exist")},
			code:  1,
			check: wantStderr("not found"),
		},
		cliCase{
			name:  "ls_format-bogus",
			args:  []string{"ls", fixture(umoci), "--format", "bogus"},
			code:  2,
			check: wantStderr("--format"),
		},
		cliCase{
			name:  "ls_format-template-unknown-field",
			args:  []string{"ls", fixture(umoci), "--format", "{{.Tag}}"},
			code:  2,
			check: wantStderr("--format", `"Tag"`, "entries, layout"),
		},
	)

	// resolve
	arm8Entry := fixtureIndex(t, arm8).Manifests[0]
	arm8Config := configuredEntries(t, arm8)[0].Config
	dockerArm64 := childFor(t, docker, "v1", "arm64")
	craneArm64El8 := configuredFor(t, crane, "arm64", "el8")
	craneAmd64El8 := configuredFor(t, crane, "amd64", "el8")

	cases = append(cases,
		cliCase{
			name:  "resolve_oras-arm64-el8",
			args:  []string{"resolve", fixture(arm8)},
			check: wantStdout("sha256:0c59c9e6f0b4a4818672123392c966bc2ff641f4d0841da2e59ec2701457c0da\n"),
		},
		cliCase{
			name:  "resolve_oras-arm64-el8_matches-index",
			args:  []string{"resolve", fixture(arm8), "--format", "text"},
			check: wantStdout(arm8Entry.Digest.String() + "\n"),
		},
		cliCase{
			name: "resolve_umoci-image_ambiguous",
			args: []string{"resolve", fixture(umoci)},
			code: 1,
			check: func(t *testing.T, stdout, stderr string) {
				wantStderr("ambiguous")(t, stdout, stderr)
				for _, d := range []ocispec.Descriptor{umociLatest, umociArm64} {
					tag := d.Annotations[ocispec.AnnotationRefName]
					line := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(tag) + `\s+` + regexp.QuoteMeta(d.Digest.String()) + `\s`)
					if !line.MatchString(stderr) {
						t.Errorf("stderr has no candidate line for tag %q (%s):\n%s", tag, d.Digest, stderr)
					}
				}
			},
		},
		cliCase{
			name:  "resolve_umoci-image_platform-arm64",
			args:  []string{"resolve", fixture(umoci), "--platform", "linux/arm64"},
			check: wantStdout(umociArm64.Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_umoci-image_platform-arm64_flag-first",
			args:  []string{"resolve", "--platform", "linux/arm64", fixture(umoci)},
			check: wantStdout(umociArm64.Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_umoci-image_platform-arm64_short-flag",
			args:  []string{"resolve", fixture(umoci), "-p=linux/arm64"},
			check: wantStdout(umociArm64.Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_umoci-image_tag-latest",
			args:  []string{"resolve", fixture(umoci) + ":latest"},
			check: wantStdout(umociLatest.Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_umoci-image_tag-platform-mismatch",
			args:  []string{"resolve", fixture(umoci) + ":latest", "--platform", "linux/arm64"},
			code:  1,
			check: wantStderr("not found", "linux/arm64"),
		},
		cliCase{
			name:  "resolve_umoci-image_unknown-tag",
			args:  []string{"resolve", fixture(umoci) + ":nope"},
			code:  1,
			check: wantStderr("not found", "arm64, latest"),
		},
		cliCase{
			name:  "resolve_docker-list_platform-arm64",
			args:  []string{"resolve", fixture(docker) + ":v1", "--platform", "linux/arm64"},
			check: wantStdout(dockerArm64.Digest.String() + "\n"),
		},
		cliCase{
			name: "resolve_docker-list_platform-arm64_json",
			args: []string{"resolve", fixture(docker) + ":v1", "--platform", "linux/arm64", "--format", "json"},
			check: func(t *testing.T, stdout, _ string) {
				var d ocispec.Descriptor
				if err := json.Unmarshal([]byte(stdout), &d); err != nil {
					t.Fatalf("%v\n%s", err, stdout)
				}
				if d.Digest != dockerArm64.Digest || d.Size != dockerArm64.Size || d.MediaType != dockerArm64.MediaType {
					t.Errorf("got %s %d %s, want %s %d %s", d.Digest, d.Size, d.MediaType, dockerArm64.Digest, dockerArm64.Size, dockerArm64.MediaType)
				}
				if d.MediaType != "application/vnd.docker.distribution.manifest.v2+json" {
					t.Errorf("mediaType = %s, want a Docker schema 2 manifest", d.MediaType)
				}
				if d.Platform == nil || d.Platform.OS != "linux" || d.Platform.Architecture != "arm64" {
					t.Errorf("platform %s, want linux/arm64", platformString(d.Platform))
				}
			},
		},
		cliCase{
			name:  "resolve_docker-list_no-platform",
			args:  []string{"resolve", fixture(docker) + ":v1"},
			check: wantStdout(fixtureEntry(t, docker, "v1").Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_regctl-index_v1",
			args:  []string{"resolve", fixture(regctl) + ":v1"},
			check: wantStdout(regctlV1.Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_regctl-index_platform-amd64",
			args:  []string{"resolve", fixture(regctl) + ":v1", "--platform", "linux/amd64"},
			check: wantStdout(regctlAmd64.Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_regctl-index_child-digest",
			args:  []string{"resolve", fixture(regctl) + "@" + regctlArm64.Digest.String(), "--format", "go-template={{.platform.architecture}} {{.size}}"},
			check: wantStdout("arm64 " + strconv.FormatInt(regctlArm64.Size, 10) + "\n"),
		},
		cliCase{
			name:  "resolve_regctl-index_tag-and-child-digest",
			args:  []string{"resolve", fixture(regctl) + ":v1@" + regctlAmd64.Digest.String()},
			check: wantStdout(regctlAmd64.Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_regctl-index_unknown-digest",
			args:  []string{"resolve", fixture(regctl) + "@sha256:" + strings.Repeat("0", 64)},
			code:  1,
			check: wantStderr("not found"),
		},
		cliCase{
			name:  "resolve_regctl-index_platform-s390x",
			args:  []string{"resolve", fixture(regctl) + ":v1", "--platform", "linux/s390x"},
			code:  1,
			check: wantStderr("not found", "linux/amd64", "linux/arm64"),
		},
		cliCase{
			name:  "resolve_crane-flat_ambiguous",
			args:  []string{"resolve", fixture(crane)},
			code:  1,
			check: wantStderr("ambiguous", craneEntries[0].Manifest.Digest.String(), craneEntries[1].Manifest.Digest.String()),
		},
		cliCase{
			name:  "resolve_crane-flat_platform-arm64-v8-el8",
			args:  []string{"resolve", fixture(crane), "--platform", "linux/arm64/v8:el8"},
			check: wantStdout(craneArm64El8.Manifest.Digest.String() + "\n"),
		},
		cliCase{
			name:  "resolve_crane-flat_platform-arm64-v8-el9",
			args:  []string{"resolve", fixture(crane), "--platform", "linux/arm64/v8:el9"},
			code:  1,
			check: wantStderr("not found", "el9"),
		},
		cliCase{
			name:  "resolve_crane-flat_platform-arm64",
			args:  []string{"resolve", fixture(crane), "--platform", "arm64"},
			code:  2,
			check: wantStderr(`"arm64"`),
		},
		cliCase{
			name:  "resolve_platform-missing-value",
			args:  []string{"resolve", fixture(crane), "--platform"},
			code:  2,
			check: wantEmptyStdout,
		},
		cliCase{
			name:  "resolve_empty-tag",
			args:  []string{"resolve", "x:"},
			code:  2,
			check: wantStderr("invalid reference"),
		},
		cliCase{
			name:  "resolve_fixture-empty-tag",
			args:  []string{"resolve", fixture(umoci) + ":"},
			code:  2,
			check: wantStderr("invalid reference"),
		},
		cliCase{
			name:  "resolve_invalid-digest",
			args:  []string{"resolve", fixture(umoci) + "@sha256:abc"},
			code:  2,
			check: wantStderr("invalid reference"),
		},
		cliCase{
			name:  "resolve_nonexistent",
			args:  []string{"resolve", fixture("does-not-exist")},
			code:  1,
			check: wantStderr("not found"),
		},
		cliCase{
			name:  "resolve_not-a-layout",
			args:  []string{"resolve", fixturesDir},
			code:  1,
			check: wantStderr("not an OCI image layout"),
		},
		cliCase{
			name: "resolve_format-json",
			args: []string{"resolve", fixture(arm8), "--format", "json"},
			check: func(t *testing.T, stdout, _ string) {
				var d ocispec.Descriptor
				if err := json.Unmarshal([]byte(stdout), &d); err != nil {
					t.Fatalf("%v\n%s", err, stdout)
				}
				if d.Digest != arm8Entry.Digest || d.Size != arm8Entry.Size || d.MediaType != arm8Entry.MediaType || d.ArtifactType != arm8Entry.ArtifactType {
					t.Errorf("got %s %d %s %s, want %s %d %s %s", d.Digest, d.Size, d.MediaType, d.ArtifactType,
						arm8Entry.Digest, arm8Entry.Size, arm8Entry.MediaType, arm8Entry.ArtifactType)
				}
				// index.json has no platform: it is read from the config.
				if got, want := platformString(d.Platform), platformString(configPlatform(arm8Config)); got != want {
					t.Errorf("platform %s, config says %s", got, want)
				}
			},
		},
		cliCase{
			name:  "resolve_format-template-size",
			args:  []string{"resolve", fixture(arm8), "--format", "{{.size}}"},
			check: wantStdout(fmt.Sprintf("%d\n", len(fixtureBlob(t, arm8, arm8Entry.Digest.String())))),
		},
		cliCase{
			name:  "resolve_format-template-digest",
			args:  []string{"resolve", "--format=go-template={{.digest}} {{index .platform \"os.version\"}}", fixture(crane), "-p", "linux/amd64:el8"},
			check: wantStdout(craneAmd64El8.Manifest.Digest.String() + " el8\n"),
		},
		cliCase{
			name:  "resolve_format-template-unknown-field",
			args:  []string{"resolve", fixture(arm8), "--format", "go-template={{.size}} {{.Nope}}"},
			code:  2,
			check: wantStderr("Nope"),
		},
		cliCase{
			name:  "resolve_format-bogus",
			args:  []string{"resolve", fixture(arm8), "--format", "bogus"},
			code:  2,
			check: wantStderr("--format"),
		},
		cliCase{
			name:  "resolve_format-template-syntax",
			args:  []string{"resolve", fixture(arm8), "--format", "go-template={{.size"},
			code:  2,
			check: wantStderr("--format"),
		},
	)

	// cat
	craneAmd64 := craneAmd64El8
	cases = append(cases,
		cliCase{
			name:  "cat_regctl-index_v1",
			args:  []string{"cat", fixture(regctl) + ":v1"},
			check: wantStdout(string(fixtureBlob(t, regctl, regctlV1.Digest.String()))),
		},
		cliCase{
			name:  "cat_regctl-index_platform-arm64",
			args:  []string{"cat", fixture(regctl) + ":v1", "--platform", "linux/arm64"},
			check: wantStdout(string(fixtureBlob(t, regctl, regctlArm64.Digest.String()))),
		},
		cliCase{
			name:  "cat_regctl-index_platform-arm64_config",
			args:  []string{"cat", fixture(regctl) + ":v1", "--platform", "linux/arm64", "--config"},
			check: wantStdout(string(regctlConfig(t, regctlArm64))),
		},
		cliCase{
			name:  "cat_regctl-index_v1_config",
			args:  []string{"cat", fixture(regctl) + ":v1", "--config"},
			code:  1,
			check: wantStderr("index", regctlV1.Digest.String()),
		},
		cliCase{
			name:  "cat_crane-flat_amd64-el8_config",
			args:  []string{"cat", fixture(crane), "--platform", "linux/amd64:el8", "--config"},
			check: wantStdout(string(craneAmd64.ConfigBytes)),
		},
		cliCase{
			name:  "cat_crane-flat_config-flag-first",
			args:  []string{"cat", "--config", fixture(crane), "--platform", "linux/arm64/v8:el8"},
			check: wantStdout(string(craneArm64El8.ConfigBytes)),
		},
		cliCase{
			name:  "cat_crane-flat_ambiguous",
			args:  []string{"cat", fixture(crane)},
			code:  1,
			check: wantStderr("ambiguous"),
		},
		cliCase{
			name:  "cat_docker-list_platform-arm64",
			args:  []string{"cat", fixture(docker) + ":v1", "--platform", "linux/arm64"},
			check: wantStdout(string(fixtureBlob(t, docker, dockerArm64.Digest.String()))),
		},
		cliCase{
			name:  "cat_docker-list_platform-arm64_config",
			args:  []string{"cat", fixture(docker) + ":v1", "--platform", "linux/arm64", "--config"},
			check: wantStdout(string(dockerConfig(t, dockerArm64))),
		},
		cliCase{
			name:  "cat_umoci-image_arm64_config",
			args:  []string{"cat", fixture(umoci) + ":arm64", "--config"},
			check: wantStdout(string(umociConfig(t, umociArm64))),
		},
		cliCase{
			name:  "cat_platform-invalid",
			args:  []string{"cat", fixture(umoci), "--platform", "linux"},
			code:  2,
			check: wantStderr(`"linux"`),
		},
	)

	// version, usage errors and help
	cases = append(cases,
		cliCase{
			name:  "version",
			args:  []string{"version"},
			scrub: true,
			check: func(t *testing.T, stdout, stderr string) {
				if !strings.HasPrefix(stdout, "ocil ") || strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
					t.Errorf("stdout = %q, want one line starting with %q", stdout, "ocil ")
				}
				if stderr != "" {
					t.Errorf("stderr = %q", stderr)
				}
			},
		},
		cliCase{
			name:  "version_flag",
			args:  []string{"--version"},
			scrub: true,
			check: func(t *testing.T, stdout, _ string) {
				if !strings.Contains(stdout, "VERSION") {
					t.Errorf("stdout = %q, want the version", stdout)
				}
			},
		},
		cliCase{
			name:  "version_extra-arg",
			args:  []string{"version", "extra"},
			code:  2,
			check: wantStderr("version"),
		},
		cliCase{
			name:  "usage_unknown-flag",
			args:  []string{"ls", "--bogus", fixture(umoci)},
			code:  2,
			check: wantStderr("bogus"),
		},
		cliCase{
			name:  "usage_unknown-flag-after-arg",
			args:  []string{"resolve", fixture(umoci), "--bogus"},
			code:  2,
			check: wantStderr("bogus"),
		},
		cliCase{
			name:  "usage_unknown-global-flag",
			args:  []string{"--bogus", "ls", fixture(umoci)},
			code:  2,
			check: wantStderr("bogus"),
		},
		cliCase{
			name:  "usage_unknown-command",
			args:  []string{"bogus"},
			code:  2,
			check: wantStderr("bogus"),
		},
		cliCase{
			name:  "usage_ls_no-args",
			args:  []string{"ls"},
			code:  2,
			check: wantStderr("got 0 arguments"),
		},
		cliCase{
			name:  "usage_ls_two-args",
			args:  []string{"ls", fixture(umoci), fixture(crane)},
			code:  2,
			check: wantStderr("got 2 arguments"),
		},
		cliCase{
			name:  "usage_resolve_two-args",
			args:  []string{"resolve", fixture(umoci), "--platform", "linux/arm64", fixture(crane)},
			code:  2,
			check: wantStderr("got 2 arguments"),
		},
		cliCase{
			name:  "usage_cat_no-args",
			args:  []string{"cat", "--config"},
			code:  2,
			check: wantStderr("got 0 arguments"),
		},
		cliCase{
			name:  "help",
			args:  []string{"--help"},
			scrub: true,
			check: wantHelp,
		},
		cliCase{
			name:  "help_resolve_after-arg",
			args:  []string{"resolve", fixture(umoci), "--help"},
			check: wantHelp,
		},
	)
	cases = append(cases, validateCases(t)...)
	cases = append(cases, formatCases(t)...)
	for _, c := range newApp(nil, nil).Commands {
		cases = append(cases, cliCase{
			name:  "help_" + c.Name,
			args:  []string{c.Name, "--help"},
			check: wantHelp,
		})
	}
	return cases
}

// checkLsOnly asserts that a listing names digest in and not digest out.
func checkLsOnly(in, out string) func(t *testing.T, stdout, stderr string) {
	return func(t *testing.T, stdout, _ string) {
		t.Helper()
		if !strings.Contains(stdout, in) || strings.Contains(stdout, out) {
			t.Errorf("want %s listed and %s not:\n%s", in, out, stdout)
		}
	}
}

func regctlConfig(t *testing.T, d ocispec.Descriptor) []byte {
	var m ocispec.Manifest
	fixtureJSON(t, "regctl-index", d.Digest.String(), &m)
	return fixtureBlob(t, "regctl-index", m.Config.Digest.String())
}

func dockerConfig(t *testing.T, d ocispec.Descriptor) []byte {
	var m ocispec.Manifest // a Docker schema 2 manifest decodes the same way
	fixtureJSON(t, "docker-list", d.Digest.String(), &m)
	if m.Config.MediaType != "application/vnd.docker.container.image.v1+json" {
		t.Fatalf("docker-list arm64 config media type %s", m.Config.MediaType)
	}
	return fixtureBlob(t, "docker-list", m.Config.Digest.String())
}

func umociConfig(t *testing.T, d ocispec.Descriptor) []byte {
	var m ocispec.Manifest
	fixtureJSON(t, "umoci-image", d.Digest.String(), &m)
	var c imageConfig
	b := fixtureJSON(t, "umoci-image", m.Config.Digest.String(), &c)
	if c.OS != "linux" || c.Architecture != "arm64" {
		t.Fatalf("umoci-image:arm64 config is %s/%s", c.OS, c.Architecture)
	}
	return b
}
