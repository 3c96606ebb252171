package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regclient/regclient"
	"github.com/regclient/regclient/types/ref"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry"
)

// findClient returns the path of a client binary (oras, regctl): on PATH, else in
// $(go env GOPATH)/bin, where make tools installs it. When it is missing the test is
// skipped, or fails when the environment variable require is 1 (make test sets it).
func findClient(t *testing.T, name, require string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command(goTool(), "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
	}
	if os.Getenv(require) == "1" {
		t.Fatalf("[%s] not found on PATH nor in $(go env GOPATH)/bin and %s=1 (make tools installs it)", name, require)
	}
	t.Skipf("[%s] not found on PATH nor in $(go env GOPATH)/bin; set %s=1 to make that a failure (make tools installs it)", name, require)
	return ""
}

// client runs bin in dir and returns its standard output; a failure ends the test.
func client(t *testing.T, dir, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user configuration
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// discovered is the tree `oras discover --format json` prints.
type discovered struct {
	Digest       string       `json:"digest"`
	ArtifactType string       `json:"artifactType"`
	Referrers    []discovered `json:"referrers"`
}

func (d discovered) find(digest string) *discovered {
	for i := range d.Referrers {
		if d.Referrers[i].Digest == digest {
			return &d.Referrers[i]
		}
	}
	return nil
}

// TestReferrersWithOrasAndRegctl attaches an SBOM to an image with oras attach, and a
// signature to the SBOM, merges the image with another platform and copies the result
// into a tarball, whole and filtered to the image's platform; then oras discover finds
// both (the signature under the SBOM), oras pull gets the SBOM's file back, regctl
// artifact list and the oras-go and regclient libraries find them, in folders and
// tarballs. regctl reads only folders: a tarball is extracted for it.
func TestReferrersWithOrasAndRegctl(t *testing.T) {
	orasBin := findClient(t, "oras", "OCIL_REQUIRE_ORAS")
	regctlBin := findClient(t, "regctl", "OCIL_REQUIRE_REGCTL")
	ctx := context.Background()
	dir := t.TempDir()
	amd := filepath.Join(dir, "amd")
	if err := os.CopyFS(amd, os.DirFS(fixture("oras-linux-amd64-el8"))); err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	b, err := os.ReadFile(filepath.Join(amd, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("fixture index.json: %v %s", err, b)
	}
	img := idx.Manifests[0]
	const sbomText = `{"spdxVersion":"SPDX-2.3","name":"interop"}`
	write(t, filepath.Join(dir, "sbom.spdx.json"), sbomText)
	write(t, filepath.Join(dir, "sig.txt"), "signature of the sbom")
	attach := func(subject, typ, file string) string {
		var res struct {
			Digest string `json:"digest"`
		}
		out := client(t, dir, orasBin, "attach", "--oci-layout", "amd@"+subject, "--artifact-type", typ, file, "--format", "json")
		if err := json.Unmarshal(out, &res); err != nil || res.Digest == "" {
			t.Fatalf("oras attach: %v\n%s", err, out)
		}
		return res.Digest
	}
	sbom := attach(string(img.Digest), "application/spdx+json", "sbom.spdx.json")
	sig := attach(sbom, "application/vnd.example.signature.v1", "sig.txt")

	out := filepath.Join(dir, "out")
	ocil(t, "merge", "-q", "-o", out+":1.0", amd, fixture("oras-linux-arm64-v8-el8"))
	ocil(t, "copy", "-q", out+":1.0", filepath.Join(dir, "out.tar"))
	ocil(t, "copy", "-q", "--platform", "linux/amd64", out+":1.0", filepath.Join(dir, "amd64.tar"))
	ocil(t, "copy", "-q", "--no-referrers", out+":1.0", filepath.Join(dir, "bare.tar"))

	for _, name := range []string{"out", "out.tar", "amd64.tar", "bare.tar"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			want := name != "bare.tar"
			// oras discover, by the tag and the platform (oras resolves a digest only
			// when index.json lists it).
			var tree discovered
			raw := client(t, dir, orasBin, "discover", "--oci-layout", name+":1.0", "--platform", "linux/amd64", "--format", "json")
			if err := json.Unmarshal(raw, &tree); err != nil {
				t.Fatalf("oras discover: %v\n%s", err, raw)
			}
			if tree.Digest != string(img.Digest) {
				t.Errorf("oras discover resolved %s, want %s", tree.Digest, img.Digest)
			}
			s := tree.find(sbom)
			switch {
			case !want && len(tree.Referrers) > 0:
				t.Errorf("[oras] discover after --no-referrers: %+v", tree.Referrers)
			case want && (s == nil || s.ArtifactType != "application/spdx+json"):
				t.Errorf("[oras] discover: the SBOM %s is not among %+v", sbom, tree.Referrers)
			case want && s.find(sig) == nil:
				t.Errorf("[oras] discover: the signature %s is not under the SBOM: %+v", sig, s.Referrers)
			}
			if want {
				pulled := filepath.Join(t.TempDir(), "pulled")
				client(t, dir, orasBin, "pull", "--oci-layout", name+"@"+sbom, "-o", pulled)
				if got, err := os.ReadFile(filepath.Join(pulled, "sbom.spdx.json")); err != nil || string(got) != sbomText {
					t.Errorf("[oras] pull of the SBOM: %q, %v", got, err)
				}
			}

			// oras-go's OCI store.
			var store content.ReadOnlyGraphStorage
			if strings.HasSuffix(name, ".tar") {
				store, err = oci.NewFromTar(ctx, path)
			} else {
				store, err = oci.NewWithContext(ctx, path)
			}
			if err != nil {
				t.Fatalf("[oras-go] %v", err)
			}
			refs, err := registry.Referrers(ctx, store, ocispec.Descriptor{MediaType: img.MediaType, Digest: img.Digest, Size: img.Size}, "")
			if err != nil {
				t.Fatalf("[oras-go] referrers: %v", err)
			}
			if got := digestsOf(refs); !slices.Equal(got, expect(want, sbom)) {
				t.Errorf("[oras-go] referrers of the image: %v, want %v", got, expect(want, sbom))
			}

			// regctl and regclient read folders.
			folder := path
			if strings.HasSuffix(name, ".tar") {
				if folder, err = extract(t, path); err != nil {
					t.Fatal(err)
				}
			}
			for subject, ref := range map[string]string{string(img.Digest): sbom, sbom: sig} {
				raw := client(t, dir, regctlBin, "artifact", "list", "ocidir://"+folder+"@"+subject, "--format", "{{range .Descriptors}}{{.Digest}} {{.ArtifactType}}\n{{end}}")
				got := strings.Fields(string(raw))
				if want && (len(got) != 2 || got[0] != ref) {
					t.Errorf("[regctl] artifact list %s: %q, want %s", subject, got, ref)
				}
				if !want && len(got) != 0 {
					t.Errorf("[regctl] artifact list %s after --no-referrers: %q", subject, got)
				}
			}
			r, err := ref.New("ocidir://" + folder + "@" + string(img.Digest))
			if err != nil {
				t.Fatal(err)
			}
			rl, err := regclient.New().ReferrerList(ctx, r)
			if err != nil {
				t.Fatalf("[regclient] %v", err)
			}
			var got []string
			for _, d := range rl.Descriptors {
				got = append(got, d.Digest.String())
			}
			if !slices.Equal(got, expect(want, sbom)) {
				t.Errorf("[regclient] referrers of the image: %v, want %v", got, expect(want, sbom))
			}
		})
	}
}

// TestRegctlReferrerReachesOras: a signature regctl put under the fallback tag only is
// carried by ocil copy and written the oras way as well, so oras discover finds it.
func TestRegctlReferrerReachesOras(t *testing.T) {
	orasBin := findClient(t, "oras", "OCIL_REQUIRE_ORAS")
	regctlBin := findClient(t, "regctl", "OCIL_REQUIRE_REGCTL")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.CopyFS(src, os.DirFS(fixture("regctl-index"))); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "sig.json"), `{"signature":"regctl"}`)
	client(t, dir, regctlBin, "artifact", "put", "--subject", "ocidir://src:v1", "--artifact-type", "application/vnd.example.signature.v1", "-f", "sig.json")
	index := ocil(t, "resolve", src+":v1")
	list := func(folder string) []string {
		return strings.Fields(string(client(t, dir, regctlBin, "artifact", "list", "ocidir://"+folder+"@"+index, "--format", "{{range .Descriptors}}{{.Digest}}\n{{end}}")))
	}
	sigs := list("src")
	if len(sigs) != 1 {
		t.Fatalf("regctl artifact put left %q", sigs)
	}
	ocil(t, "copy", "-q", src+":v1", filepath.Join(dir, "out.tar"))
	var tree discovered
	raw := client(t, dir, orasBin, "discover", "--oci-layout", "out.tar:v1", "--format", "json")
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	if tree.find(sigs[0]) == nil {
		t.Errorf("[oras] discover out.tar:v1 does not find the signature %s: %s", sigs[0], raw)
	}
	folder, err := extract(t, filepath.Join(dir, "out.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if got := list(folder); !slices.Equal(got, sigs) {
		t.Errorf("[regctl] artifact list of the copy: %q, want %q", got, sigs)
	}
}

func digestsOf(ds []ocispec.Descriptor) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Digest))
	}
	return out
}

func expect(want bool, digests ...string) []string {
	if !want {
		return nil
	}
	return digests
}
