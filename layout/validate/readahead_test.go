package validate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout/validate"
)

// reportJSON validates path with opts and returns the report as JSON.
func reportJSON(t *testing.T, path string, opts validate.Options) []byte {
	t.Helper()
	rep, err := validate.Layout(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("%s %+v: %v", path, opts, err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The documents of index.json's entries are read ahead on several goroutines while
// the checks of the previous batch run; the report must be the one a single job gives,
// byte for byte: on every fixture, and on many tags over several batches with defects
// of every kind the read ahead meets (missing, truncated and altered blobs, a wrong
// size, a manifest ocil cannot decode, an entry listed twice, an index among them).
func TestReadAheadSameReport(t *testing.T) {
	ents, err := os.ReadDir(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range ents {
		if e.Name() != "README.md" {
			paths = append(paths, fixturesDir+"/"+e.Name())
		}
	}

	const n = 1200 // several batches of 256 entries
	b := tl.New(t)
	cfg := b.Blob(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
	manifest := func(i int, extra string) ocispec.Descriptor {
		return b.Blob(ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"`+
			string(cfg.Digest)+`","size":`+strconv.FormatInt(cfg.Size, 10)+`},"layers":[]`+extra+`,"annotations":{"n":"`+strconv.Itoa(i)+`"}}`))
	}
	entries := make([]ocispec.Descriptor, n)
	for i := range n {
		entries[i] = tl.WithPlatform(tl.Tag(manifest(i, ""), fmt.Sprintf("registry.example.com/team/app-%06d:1.0", i)), ocispec.Platform{Architecture: "amd64", OS: "linux"})
	}
	if err := os.Remove(blobFile(b, entries[3].Digest)); err != nil { // missing
		t.Fatal(err)
	}
	writeFile(t, blobFile(b, entries[255].Digest), bytes.Repeat([]byte("x"), int(entries[255].Size))) // altered
	writeFile(t, blobFile(b, entries[256].Digest), []byte("{}"))                                      // truncated
	entries[300].Size++                                                                               // a wrong size
	// Decodes for the checks, not for ocil: a member given twice.
	twice := manifest(520, `,"layers":[]`)
	entries[520].Digest, entries[520].Size = twice.Digest, twice.Size
	entries[521].Digest = b.Blob(ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"config":{}}`)).Digest
	entries[521].Size = int64(len(`{"schemaVersion":2,"config":{}}`))
	entries[700] = tl.Tag(entries[10], "again")  // read in an earlier batch
	entries[513] = tl.Tag(entries[900], "ahead") // read in a later batch
	entries[800] = tl.Tag(b.Index(entries[801], entries[0]), "index")
	b.SetIndex(entries...)
	paths = append(paths, b.Dir)

	for _, path := range paths {
		for _, fast := range []bool{false, true} {
			want := reportJSON(t, path, validate.Options{Jobs: 1, Fast: fast})
			for _, jobs := range []int{2, 4} {
				if got := reportJSON(t, path, validate.Options{Jobs: jobs, Fast: fast}); !bytes.Equal(got, want) {
					t.Errorf("%s, fast %v: the report with %d jobs differs from the one with 1:\n%s\nwant:\n%s", path, fast, jobs, got, want)
				}
			}
		}
	}
	// The layout holds what it was made to hold.
	rep, err := validate.Layout(context.Background(), b.Dir, validate.Options{Jobs: 2, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"blob.missing": false, "blob.digest": false, "blob.size": false, "manifest.schema": false, "descriptor.digest": false}
	for _, f := range rep.Findings {
		if _, ok := want[f.Check]; ok {
			want[f.Check] = true
		}
	}
	for check, seen := range want {
		if !seen {
			t.Errorf("no %s finding:\n%s", check, describe(rep))
		}
	}
	// Four are not read, two are listed twice, and entry 800 is the index.
	if rep.Checked.Manifests != n-4-2-1 || rep.Checked.Indexes != 1 {
		t.Errorf("checked %+v", rep.Checked)
	}
}
