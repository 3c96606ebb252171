package tarfs

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"strconv"
	"testing"
)

// TestDockerSaveFixture reads the docker save archive skopeo wrote (testdata/fixtures:
// <id>/layer.tar is a symlink to the top-level layer file) as the layout it stands for.
func TestDockerSaveFixture(t *testing.T) {
	const archive = "../../testdata/fixtures/skopeo-docker-archive.tar"
	const (
		layerHex  = "10d2b2ee3f84717b4774be9c435d5bf173b177c058c41e6ffb09960991b3105e"
		configHex = "457933a9d951da0c542982f5576c3e07dc2c33de1e8c30378c109ff581cb9fc3"
	)
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + configHex + `","size":292},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:` + layerHex + `","size":3072}]}`
	manifestHex := sha256Hex([]byte(manifest))
	index := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + manifestHex + `","size":397,` +
		`"annotations":{"org.opencontainers.image.ref.name":"registry.example.com/legacy/app:7"},` +
		`"platform":{"architecture":"amd64","os":"linux"}}]}`

	// The files the archive holds, read with archive/tar.
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[hdr.Name] = b
	}

	for _, tc := range []struct {
		name string
		open func(t *testing.T) (*FS, error)
	}{
		{"plain", func(t *testing.T) (*FS, error) { return Open(archive, Options{TempDir: t.TempDir()}) }},
		{"gzip", func(t *testing.T) (*FS, error) {
			return Open(writeFile(t, "saved.tar.gz", gzipBytes(t, raw)), Options{TempDir: t.TempDir()})
		}},
		{"stream", func(t *testing.T) (*FS, error) {
			return OpenReader("standard input", bytes.NewReader(raw), Options{TempDir: t.TempDir()})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, err := tc.open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if !fsys.IsDockerSave() {
				t.Error("IsDockerSave() = false")
			}
			want := map[string]string{
				"oci-layout":                  `{"imageLayoutVersion":"1.0.0"}`,
				"index.json":                  index,
				"blobs/sha256/" + manifestHex: manifest,
				"blobs/sha256/" + configHex:   string(files[configHex+".json"]),
				"blobs/sha256/" + layerHex:    string(files[layerHex+".tar"]),
			}
			if got := fsys.Entries(); len(got) != len(want) {
				t.Errorf("Entries() = %v, want %d names", got, len(want))
			}
			for name, body := range want {
				got, err := fs.ReadFile(fsys, name)
				if err != nil || string(got) != body {
					t.Errorf("%s = %q, %v\nwant %q", name, got, err, body)
				}
			}
			if len(want["blobs/sha256/"+layerHex]) != 3072 || sha256Hex(files[layerHex+".tar"]) != layerHex {
				t.Errorf("the fixture's layer is not what the test expects")
			}
		})
	}
}

// TestDockerSaveCompressedLayer: a layer stored gzip-compressed is named by its own hash,
// not by its diff ID, with the gzip media type.
func TestDockerSaveCompressedLayer(t *testing.T) {
	layer := gzipBytes(t, []byte("uncompressed layer"))
	config := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:` + sha256Hex([]byte("uncompressed layer")) + `"]}}`
	p := writeFile(t, "saved.tar", buildTar(t,
		ent{name: "l.tar.gz", body: layer}, reg("c.json", config),
		reg("manifest.json", `[{"Config":"c.json","Layers":["l.tar.gz"]}]`)))
	fsys, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + sha256Hex([]byte(config)) + `","size":` + strconv.Itoa(len(config)) + `},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:` + sha256Hex(layer) + `","size":` + strconv.Itoa(len(layer)) + `}]}`
	got, err := fs.ReadFile(fsys, "blobs/sha256/"+sha256Hex([]byte(manifest)))
	if err != nil || string(got) != manifest {
		t.Fatalf("manifest = %s, %v\nwant %s", got, err, manifest)
	}
	// No RepoTags: one untagged entry.
	idx, _ := fs.ReadFile(fsys, "index.json")
	if bytes.Contains(idx, []byte("annotations")) || !bytes.Contains(idx, []byte(sha256Hex([]byte(manifest)))) {
		t.Errorf("index.json = %s", idx)
	}
}
