// Command mktags writes the layout of the many-tags benchmark: one image config and N
// image manifests (each told apart by an annotation), every manifest tagged once in
// index.json with a full name, registry.example.com/team/app-000000:1.0 and on, and the
// platform linux/amd64 on its descriptor: the shape of a cache or bundle layout that
// holds many images under their names.
//
//	go run ./bench/mktags -out DIR -tags N
//
// The same flags always give the same bytes. DIR must be missing or empty.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("out", "", "the layout folder to write (missing or empty)")
	tags := flag.Int("tags", 100000, "how many tags (and manifests)")
	flag.Parse()
	if err := write(*out, *tags); err != nil {
		fmt.Fprintln(os.Stderr, "mktags:", err)
		os.Exit(1)
	}
}

func write(dir string, n int) error {
	if dir == "" || n < 1 {
		return fmt.Errorf("-out and -tags (at least 1) are needed")
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	put := func(b []byte) (string, int, error) {
		s := sha256.Sum256(b)
		h := hex.EncodeToString(s[:])
		return "sha256:" + h, len(b), os.WriteFile(filepath.Join(blobs, h), b, 0o444)
	}
	cd, cs, err := put([]byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
	if err != nil {
		return err
	}
	var idx strings.Builder
	idx.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`)
	for i := range n {
		m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[],"annotations":{"bench.n":"%d"}}`, cd, cs, i)
		md, ms, err := put([]byte(m))
		if err != nil {
			return err
		}
		if i > 0 {
			idx.WriteString(",")
		}
		fmt.Fprintf(&idx, `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"registry.example.com/team/app-%06d:1.0"},"platform":{"architecture":"amd64","os":"linux"}}`, md, ms, i)
	}
	idx.WriteString("]}")
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), []byte(idx.String()), 0o644)
}
