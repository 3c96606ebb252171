package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/platform"
	"github.com/ocil-dev/ocil/merge"
)

const fixtures = "../../testdata/fixtures/"

var orasFixtures = []string{
	fixtures + "oras-linux-amd64-el8", fixtures + "oras-linux-amd64-el9",
	fixtures + "oras-linux-arm64-v8-el8", fixtures + "oras-linux-arm64-v8-el9",
}

func readIndexJSON(t *testing.T, dir string) ocispec.Index {
	t.Helper()
	var idx ocispec.Index
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestMergeCLI(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	args := append([]string{"merge", "-o", out + ":1.2", "--annotation", "org.opencontainers.image.version=1.2",
		"--descriptor-annotation", "com.example.job=7"}, orasFixtures...)
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, stderr)
	}
	idx := readIndexJSON(t, out)
	if len(idx.Manifests) != 1 || stdout != string(idx.Manifests[0].Digest)+"\n" {
		t.Fatalf("stdout %q, index.json %+v", stdout, idx.Manifests)
	}
	if idx.Manifests[0].Annotations["com.example.job"] != "7" || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "1.2" {
		t.Fatalf("entry annotations %v", idx.Manifests[0].Annotations)
	}

	// The same merge again, flags after the inputs, into a new OUT: the same bytes.
	out2 := filepath.Join(tmp, "out2")
	args2 := append(append([]string{"merge"}, orasFixtures...), "-o", out2+":1.2", "--annotation", "org.opencontainers.image.version=1.2",
		"--descriptor-annotation", "com.example.job=7", "--link", "copy", "--format", "json")
	code, stdout, stderr = runCLI(t, args2...)
	if code != 0 {
		t.Fatalf("second merge: exit %d\n%s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(out, "index.json"))
	b, _ := os.ReadFile(filepath.Join(out2, "index.json"))
	if string(a) != string(b) {
		t.Fatalf("not reproducible:\n%s\n%s", a, b)
	}
	var res merge.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--format json: %v\n%s", err, stdout)
	}
	if res.Index.Digest != idx.Manifests[0].Digest || len(res.Children) != 4 || res.Children[3].PlatformSource != "config" ||
		res.Children[3].Descriptor.Platform.OSVersion != "el9" || res.Methods["stream"] == 0 {
		t.Fatalf("--format json = %+v", res)
	}

	// SOURCE_DATE_EPOCH stamps the index; --created overrides it.
	t.Setenv("SOURCE_DATE_EPOCH", "1767323045")
	out3 := filepath.Join(tmp, "out3")
	if code, _, stderr = runCLI(t, append([]string{"merge", "-q", "-o", out3 + ":x"}, orasFixtures[0])...); code != 0 {
		t.Fatal(stderr)
	}
	nested := readBlobJSON(t, out3, readIndexJSON(t, out3).Manifests[0].Digest.Encoded())
	if nested.Annotations[ocispec.AnnotationCreated] != "2026-01-02T03:04:05Z" {
		t.Fatalf("created = %q", nested.Annotations[ocispec.AnnotationCreated])
	}
	if code, _, stderr = runCLI(t, append([]string{"merge", "-q", "--created", "2020-05-06T07:08:09+02:00", "-o", out3 + ":y"}, orasFixtures[0])...); code != 0 {
		t.Fatal(stderr)
	}
	nested = readBlobJSON(t, out3, readIndexJSON(t, out3).Manifests[1].Digest.Encoded())
	if nested.Annotations[ocispec.AnnotationCreated] != "2020-05-06T05:08:09Z" {
		t.Fatalf("created = %q", nested.Annotations[ocispec.AnnotationCreated])
	}
}

func readBlobJSON(t *testing.T, dir, hex string) ocispec.Index {
	t.Helper()
	var idx ocispec.Index
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", hex))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &idx)
	return idx
}

func TestMergeCLIErrors(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	if code, _, stderr := runCLI(t, "merge", "-q", "-o", out+":keep", orasFixtures[0]); code != 0 {
		t.Fatal(stderr)
	}
	before, _ := os.ReadFile(filepath.Join(out, "index.json"))
	tests := []struct {
		name   string
		args   []string
		code   int
		naming string
	}{
		{"no inputs", []string{"merge", "-o", out + ":v"}, 2, "no inputs"},
		{"no output", []string{"merge", orasFixtures[0]}, 2, "-o OUT"},
		{"bad duplicate policy", []string{"merge", "-o", out + ":v", "--on-duplicate", "both", orasFixtures[0]}, 2, "--on-duplicate"},
		{"bad annotation", []string{"merge", "-o", out + ":v", "--annotation", "novalue", orasFixtures[0]}, 2, "novalue"},
		{"bad created", []string{"merge", "-o", out + ":v", "--created", "yesterday", orasFixtures[0]}, 2, "yesterday"},
		{"bad link", []string{"merge", "-o", out + ":v", "--link", "symlink", orasFixtures[0]}, 2, "symlink"},
		{"bad input platform", []string{"merge", "-o", out + ":v", orasFixtures[0] + "=arm64"}, 2, "specify os/arch"},
		{"bad tag", []string{"merge", "-o", out + ":-bad", orasFixtures[0]}, 2, "-bad"},
		{"output digest", []string{"merge", "-o", out + "@sha256:0c59c9e6f0b4a4818672123392c966bc2ff641f4d0841da2e59ec2701457c0da", orasFixtures[0]}, 2, "digest"},
		{"ambiguous input", []string{"merge", "-o", out + ":v", fixtures + "umoci-image"}, 1, "umoci-image"},
		{"duplicate platform", []string{"merge", "-o", out + ":v", fixtures + "regctl-index:v1", fixtures + "docker-list:v1"}, 1, "docker-list"},
		{"missing input", []string{"merge", "-o", out + ":v", filepath.Join(tmp, "nope")}, 1, "nope"},
		{"no tag into a used OUT", []string{"merge", "-o", out, orasFixtures[1]}, 1, "name a tag"},
		{"lock timeout flag", []string{"merge", "-o", out + ":v", "--lock-timeout", "soon", orasFixtures[1]}, 2, "lock-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.naming) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want it to name %q)", code, tt.code, stdout, stderr, tt.naming)
			}
			now, _ := os.ReadFile(filepath.Join(out, "index.json"))
			if string(now) != string(before) {
				t.Fatalf("index.json changed: %s", now)
			}
		})
	}
}

func TestParseInput(t *testing.T) {
	dir := t.TempDir()
	weird := filepath.Join(dir, "a=b")
	os.Mkdir(weird, 0o755)
	tests := []struct {
		arg, ref, plat string
		err            bool
	}{
		{arg: "in", ref: "in"},
		{arg: "in:v1=linux/arm64/v8:el8", ref: "in:v1", plat: "linux/arm64/v8:el8"},
		{arg: "in=windows/amd64,osver=10.0.17763", ref: "in", plat: "windows/amd64:10.0.17763"},
		{arg: weird, ref: weird},
		{arg: weird + "=linux/amd64", ref: weird, plat: "linux/amd64"},
		{arg: "in=arm64", err: true},
		{arg: "=linux/amd64", err: true},
	}
	for _, tt := range tests {
		in, err := parseInput(tt.arg)
		if tt.err {
			if err == nil {
				t.Errorf("parseInput(%q) = %+v, want an error", tt.arg, in)
			}
			continue
		}
		plat := ""
		if in.Platform != nil {
			plat = platform.Format(*in.Platform)
		}
		if err != nil || in.Ref != tt.ref || plat != tt.plat {
			t.Errorf("parseInput(%q) = %q %q, %v; want %q %q", tt.arg, in.Ref, plat, err, tt.ref, tt.plat)
		}
	}
}
