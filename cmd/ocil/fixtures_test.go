package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The fixtures are read here with encoding/json and crypto/sha256 only, so that the
// digests the CLI tests expect do not come from the code under test.

// fixturesDir is the folder of real layouts, relative to this package, with '/' so that
// the arguments (and the golden output that echoes them) are the same on every machine.
const fixturesDir = "../../testdata/fixtures"

// fixture is the reference path of a fixture layout as passed on the command line.
func fixture(name string) string { return fixturesDir + "/" + name }

// fixtureFolders lists the fixture layouts that are folders (tarballs are left out).
func fixtureFolders(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.FromSlash(fixturesDir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no fixture folders in %s", fixturesDir)
	}
	return out
}

// fixtureIndex reads a fixture's index.json.
func fixtureIndex(t *testing.T, name string) ocispec.Index {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.FromSlash(fixture(name)), "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("%s/index.json: %v", name, err)
	}
	return idx
}

// fixtureBlob reads a sha256 blob of a fixture and checks that it hashes to its name.
func fixtureBlob(t *testing.T, name string, dgst string) []byte {
	t.Helper()
	hexPart, ok := strings.CutPrefix(dgst, "sha256:")
	if !ok {
		t.Fatalf("%s: not a sha256 digest: %q", name, dgst)
	}
	b, err := os.ReadFile(filepath.Join(filepath.FromSlash(fixture(name)), "blobs", "sha256", hexPart))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != hexPart {
		t.Fatalf("%s: blob %s hashes to sha256:%s", name, dgst, got)
	}
	return b
}

// fixtureJSON reads a blob of a fixture and decodes it into v.
func fixtureJSON(t *testing.T, name, dgst string, v any) []byte {
	t.Helper()
	b := fixtureBlob(t, name, dgst)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: blob %s: %v", name, dgst, err)
	}
	return b
}

// fixtureEntry is the index.json entry of a fixture tagged tag.
func fixtureEntry(t *testing.T, name, tag string) ocispec.Descriptor {
	t.Helper()
	var hits []ocispec.Descriptor
	for _, d := range fixtureIndex(t, name).Manifests {
		if d.Annotations[ocispec.AnnotationRefName] == tag {
			hits = append(hits, d)
		}
	}
	if len(hits) != 1 {
		t.Fatalf("%s: %d index.json entries tagged %q, want 1", name, len(hits), tag)
	}
	return hits[0]
}

// imageConfig is the part of an image config that names a platform.
type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	OSVersion    string `json:"os.version"`
	Variant      string `json:"variant"`
}

// configured is a manifest of a fixture with its config.
type configured struct {
	Manifest    ocispec.Descriptor
	Config      imageConfig
	ConfigBytes []byte
}

// configuredEntries reads, for each top-level manifest of a fixture, its config.
func configuredEntries(t *testing.T, name string) []configured {
	t.Helper()
	var out []configured
	for _, d := range fixtureIndex(t, name).Manifests {
		var m ocispec.Manifest
		fixtureJSON(t, name, d.Digest.String(), &m)
		c := configured{Manifest: d}
		c.ConfigBytes = fixtureJSON(t, name, m.Config.Digest.String(), &c.Config)
		out = append(out, c)
	}
	return out
}

// configuredFor is the one top-level manifest of a fixture whose config says arch and
// os.version.
func configuredFor(t *testing.T, name, arch, osVersion string) configured {
	t.Helper()
	var hits []configured
	for _, c := range configuredEntries(t, name) {
		if c.Config.OS == "linux" && c.Config.Architecture == arch && c.Config.OSVersion == osVersion {
			hits = append(hits, c)
		}
	}
	if len(hits) != 1 {
		t.Fatalf("%s: %d manifests with config linux/%s os.version %s, want 1", name, len(hits), arch, osVersion)
	}
	return hits[0]
}

// childFor is the descriptor for arch in the index (or Docker manifest list) that a
// fixture's tag points at.
func childFor(t *testing.T, name, tag, arch string) ocispec.Descriptor {
	t.Helper()
	var list ocispec.Index // a Docker manifest list decodes the same way
	fixtureJSON(t, name, fixtureEntry(t, name, tag).Digest.String(), &list)
	var hits []ocispec.Descriptor
	for _, d := range list.Manifests {
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == arch {
			hits = append(hits, d)
		}
	}
	if len(hits) != 1 {
		t.Fatalf("%s:%s: %d children for linux/%s, want 1", name, tag, len(hits), arch)
	}
	return hits[0]
}
