// Command mkdata writes the input layouts of the merge benchmarks: N oras-style OCI
// layouts DIR/in-0000, DIR/in-0001, ... each holding one image manifest with an
// artifactType, an image config that names a platform no other input has, and one layer
// of deterministic pseudo-random bytes.
//
//	go run ./bench/mkdata -out DIR -inputs N -size BYTES [-seed S] [-jobs J]
//
// The same flags always give the same bytes. Layer bytes come from a ChaCha8 stream
// seeded with seed+i and are written and hashed as they are produced, so memory stays at
// one small buffer per worker whatever the layer size. DIR must be missing or empty.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

const (
	artifactType  = "application/vnd.example.bench.v1"
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
	titleKey      = "org.opencontainers.image.title"
)

// platforms is cycled through; the os.version makes every input's platform distinct.
var platforms = []struct{ os, arch, variant string }{
	{"linux", "amd64", ""},
	{"linux", "arm64", "v8"},
	{"linux", "arm", "v7"},
	{"linux", "ppc64le", ""},
	{"linux", "s390x", ""},
	{"linux", "riscv64", ""},
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type config struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	OSVersion    string `json:"os.version,omitempty"`
	Variant      string `json:"variant,omitempty"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	ArtifactType  string       `json:"artifactType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

func main() {
	out := flag.String("out", "", "folder to write the layouts into (missing or empty)")
	inputs := flag.Int("inputs", 0, "number of input layouts")
	size := flag.Int64("size", 0, "bytes in each input's layer")
	seed := flag.Uint64("seed", 1, "seed; input i uses seed+i")
	jobs := flag.Int("jobs", runtime.GOMAXPROCS(0), "layouts written at once")
	flag.Parse()
	if *out == "" || *inputs <= 0 || *size < 0 || *jobs <= 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mkdata -out DIR -inputs N -size BYTES [-seed S] [-jobs J]")
		os.Exit(2)
	}
	if err := run(*out, *inputs, *size, *seed, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "mkdata:", err)
		os.Exit(1)
	}
}

func run(out string, n int, size int64, seed uint64, jobs int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if ents, err := os.ReadDir(out); err != nil {
		return err
	} else if len(ents) > 0 {
		return fmt.Errorf("%s is not empty", out)
	}
	work := make(chan int)
	errs := make(chan error, jobs)
	var wg sync.WaitGroup
	for range min(jobs, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := writeLayout(filepath.Join(out, fmt.Sprintf("in-%04d", i)), i, size, seed+uint64(i)); err != nil {
					errs <- fmt.Errorf("input %d: %w", i, err)
					for range work {
					}
					return
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

func writeLayout(dir string, i int, size int64, seed uint64) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	layer, err := writeRandomBlob(blobs, size, seed)
	if err != nil {
		return err
	}
	layer.MediaType = mediaLayer
	layer.Annotations = map[string]string{titleKey: fmt.Sprintf("payload-%04d.bin", i)}

	p := platforms[i%len(platforms)]
	cfg, err := writeJSONBlob(blobs, config{Architecture: p.arch, OS: p.os, Variant: p.variant, OSVersion: fmt.Sprintf("el8.%d", i)})
	if err != nil {
		return err
	}
	cfg.MediaType = mediaConfig

	m, err := writeJSONBlob(blobs, manifest{SchemaVersion: 2, MediaType: mediaManifest, ArtifactType: artifactType, Config: cfg, Layers: []descriptor{layer}})
	if err != nil {
		return err
	}
	m.MediaType = mediaManifest
	m.ArtifactType = artifactType
	idx, err := json.Marshal(index{SchemaVersion: 2, MediaType: mediaIndex, Manifests: []descriptor{m}})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
}

// writeJSONBlob stores v's JSON encoding under its digest.
func writeJSONBlob(blobs string, v any) (descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return descriptor{}, err
	}
	sum := sha256.Sum256(b)
	d := descriptor{Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(b))}
	return d, os.WriteFile(filepath.Join(blobs, hex.EncodeToString(sum[:])), b, 0o644)
}

// writeRandomBlob streams size bytes of a ChaCha8 stream into a temp file while hashing
// them, then renames the file to its digest.
func writeRandomBlob(blobs string, size int64, seed uint64) (descriptor, error) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	copy(key[8:], "ocil merge bench")
	src := rand.NewChaCha8(key)

	f, err := os.CreateTemp(blobs, ".layer-*")
	if err != nil {
		return descriptor{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		b := buf[:min(int64(len(buf)), left)]
		if _, err := io.ReadFull(src, b); err != nil {
			f.Close()
			return descriptor{}, err
		}
		h.Write(b)
		if _, err := f.Write(b); err != nil {
			f.Close()
			return descriptor{}, err
		}
		left -= int64(len(b))
	}
	if err := f.Close(); err != nil {
		return descriptor{}, err
	}
	hexSum := hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(tmp, filepath.Join(blobs, hexSum)); err != nil {
		return descriptor{}, err
	}
	return descriptor{Digest: "sha256:" + hexSum, Size: size}, nil
}
