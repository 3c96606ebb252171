package interop

import (
	"os"
	"path/filepath"
	"testing"
)

// scenario runs ocil in a fresh folder and returns the layouts and tarballs it wrote.
// Adding a scenario here runs every tool's checks on each of its targets.
type scenario struct {
	name  string
	build func(t *testing.T, dir string) []*target
}

// The platforms of the four oras fixtures, in the order they are merged.
var orasPlatforms = []string{"linux/amd64:el8", "linux/amd64:el9", "linux/arm64/v8:el8", "linux/arm64/v8:el9"}

// What the tools are known to reject, with why. TestBaseline shows that the inherited
// ones are there in the input fixtures already.
var (
	// oras push --artifact-platform stores the platform in a config typed
	// application/vnd.oci.image.config.v1+json that has no rootfs; the image spec makes
	// rootfs REQUIRED and go-containerregistry checks rootfs.type.
	gcrNoRootFSInherited = known{
		Tool: toolGCR, Check: "validate",
		Message: `validating config: invalid ConfigFile.RootFS.Type: "" != "layers"`,
		Why:     "the oras fixtures' configs (oras push --artifact-platform) are image-config-typed and hold only the platform, no rootfs; ocil copies them byte for byte",
	}
	// go-containerregistry takes a tar layer's diff ID from the config's rootfs.diff_ids;
	// an artifact's config (the empty {}) has none, so its full validation stops at the
	// first tar-typed layer of an artifact. checkGCR validates such layers on their own.
	gcrArtifactDiffIDs = known{
		Tool: toolGCR, Check: "validate",
		Message: "validating layers: mismatched fs layers (",
		Why:     "an artifact whose config is the empty {} (application/vnd.oci.empty.v1+json) lists no diff IDs, and go-containerregistry looks a tar layer's diff ID up there; ocil add packs a folder as a tar+gzip layer as oras push does",
	}
	// skopeo 1.9.3 (containers/image 5.23) predates image-spec 1.1: copying an index it
	// drops artifactType from the descriptors (and turns Docker manifests into OCI ones
	// for an oci: destination), so it must write a new index and, told to keep digests,
	// refuses. regctl's own fixture gets the same answer (TestBaseline).
	skopeoPreserveDigests = known{
		Tool: toolSkopeo, Check: "copy --preserve-digests",
		Message: `but we cannot modify it: "Instructed to preserve digests"`,
		Why:     "skopeo 1.9.3 rewrites an index whose descriptors carry artifactType (image-spec 1.1) or that lists Docker manifests, so it cannot keep its digest",
	}
)

var scenarios = []scenario{
	{
		// (1) the fan-in of four single-platform oras pushes, into a folder and a tarball.
		name: "merge-oras",
		build: func(t *testing.T, dir string) []*target {
			ins := []string{fixture("oras-linux-amd64-el8"), fixture("oras-linux-amd64-el9"), fixture("oras-linux-arm64-v8-el8"), fixture("oras-linux-arm64-v8-el9")}
			var out []*target
			for _, o := range []struct {
				name string
				form form
			}{{"out", folderForm}, {"out.tar", tarForm}} {
				d := ocil(t, append([]string{"merge", "-q", "-o", filepath.Join(dir, o.name) + ":1.2"}, ins...)...)
				out = append(out, orasTarget(dir, o.name, "1.2", o.form, d, orasPlatforms))
			}
			return out
		},
	},
	{
		// (2) a real container image index from the two umoci images.
		name: "merge-umoci",
		build: func(t *testing.T, dir string) []*target {
			d := ocil(t, "merge", "-q", "-o", filepath.Join(dir, "img")+":1", fixture("umoci-image:latest"), fixture("umoci-image:arm64"))
			return []*target{{
				Name: "img:1", Path: filepath.Join(dir, "img"), Tag: "1", Form: folderForm, Digest: d,
				Platforms: []string{"linux/amd64", "linux/arm64"},
			}}
		},
	},
	{
		// (3) copies of (1): whole into a tarball and a gzip tarball, filtered to one
		// platform into a folder and a tarball.
		name: "copy",
		build: func(t *testing.T, dir string) []*target {
			src := filepath.Join(dir, "out") + ":1.2"
			ocil(t, append([]string{"merge", "-q", "-o", src}, fixture("oras-linux-amd64-el8"), fixture("oras-linux-amd64-el9"), fixture("oras-linux-arm64-v8-el8"), fixture("oras-linux-arm64-v8-el9"))...)
			var out []*target
			for _, o := range []struct {
				name string
				form form
				args []string
				plat []string
			}{
				{"copy.tar", tarForm, nil, orasPlatforms},
				{"copy.tar.gz", tarGzForm, nil, orasPlatforms},
				{"arm64-el8", folderForm, []string{"--platform", "linux/arm64/v8:el8"}, []string{"linux/arm64/v8:el8"}},
				{"arm64-el8.tar", tarForm, []string{"--platform", "linux/arm64/v8:el8"}, []string{"linux/arm64/v8:el8"}},
			} {
				d := ocil(t, append([]string{"copy", src, filepath.Join(dir, o.name)}, o.args...)...)
				out = append(out, orasTarget(dir, o.name, "1.2", o.form, d, o.plat))
			}
			return out
		},
	},
	{
		// (4) artifacts composed with ocil add: linux/amd64 with --platform-config and one
		// file; linux/arm64 with an artifact type, a file and a folder (a tar+gzip layer);
		// linux/arm/v7 with the folder only, so that a manifest holds nothing but layers
		// ocil packed itself; then the index copied into a tarball.
		name: "add",
		build: func(t *testing.T, dir string) []*target {
			files := filepath.Join(dir, "files")
			write(t, filepath.Join(files, "amd64", "tool"), "tool for linux/amd64\n")
			write(t, filepath.Join(files, "arm64", "tool"), "tool for linux/arm64\n")
			write(t, filepath.Join(files, "arm64", "share", "doc", "README"), "read me\n")
			write(t, filepath.Join(files, "arm64", "share", "man", "tool.1"), ".TH TOOL 1\n")
			comp := filepath.Join(dir, "comp") + ":v1"
			ocil(t, "add", comp, "--platform", "linux/amd64", "--platform-config", filepath.Join(files, "amd64", "tool"))
			ocil(t, "add", comp, "--platform", "linux/arm64", "--artifact-type", "application/vnd.example.tool.v1",
				filepath.Join(files, "arm64", "tool"), filepath.Join(files, "arm64", "share"))
			ocil(t, "add", comp, "--platform", "linux/arm/v7", "--artifact-type", "application/vnd.example.tool.v1",
				filepath.Join(files, "arm64", "share"))
			d := ocil(t, "resolve", comp)
			dt := ocil(t, "copy", comp, filepath.Join(dir, "comp.tar"))
			plats := []string{"linux/amd64", "linux/arm/v7", "linux/arm64"} // add keeps the canonical order
			mk := func(name string, f form, digest string) *target {
				return &target{
					Name: name + ":v1", Path: filepath.Join(dir, name), Tag: "v1", Form: f, Digest: digest,
					Platforms: plats, OpaqueLayers: true,
					Known: []known{gcrArtifactDiffIDs, skopeoPreserveDigests},
				}
			}
			return []*target{mk("comp", folderForm, d), mk("comp.tar", tarForm, dt)}
		},
	},
	{
		// (5) Docker and OCI manifests in one index: the linux/amd64 Docker schema 2
		// manifest of docker-list (by digest) merged with regctl's index, whose own
		// linux/amd64 entry then collides and --on-duplicate first drops it.
		name: "merge-docker",
		build: func(t *testing.T, dir string) []*target {
			dockerAMD64 := fixture("docker-list@sha256:b5e44d57a544e0fd43646c9d500450daccfffe681fdd0c4db4483c07ae309187")
			d := ocil(t, "merge", "-q", "--on-duplicate", "first", "-o", filepath.Join(dir, "mixed")+":1", dockerAMD64, fixture("regctl-index:v1"))
			dt := ocil(t, "copy", filepath.Join(dir, "mixed")+":1", filepath.Join(dir, "mixed.tar"))
			plats := []string{"linux/amd64", "linux/arm64"}
			mk := func(name string, f form, digest string) *target {
				return &target{
					Name: name + ":1", Path: filepath.Join(dir, name), Tag: "1", Form: f, Digest: digest,
					Platforms: plats, Known: []known{skopeoPreserveDigests},
				}
			}
			return []*target{mk("mixed", folderForm, d), mk("mixed.tar", tarForm, dt)}
		},
	},
}

// orasTarget is a target made from the oras fixtures: opaque layers, the inherited
// config rejection of go-containerregistry, skopeo's artifactType limitation.
func orasTarget(dir, name, tag string, f form, digest string, platforms []string) *target {
	return &target{
		Name: name + ":" + tag, Path: filepath.Join(dir, name), Tag: tag, Form: f, Digest: digest,
		Platforms: platforms, OpaqueLayers: true,
		Known: []known{gcrNoRootFSInherited, skopeoPreserveDigests},
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
