package validate

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/capped"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// algorithmGrammar is the algorithm part of the OCI digest grammar: the name a folder
// under blobs/ must have.
var algorithmGrammar = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*$`)

// rootFiles are the names at a layout's root that are not reported as unknown: the
// layout's own files and the lock files ocil and buildkit keep there.
var rootFiles = map[string]bool{
	layout.LayoutFile:     true,
	layout.IndexFile:      true,
	layout.BlobsDir:       true,
	layout.LockFile:       true,
	layout.IngestLockFile: true,
}

// checkHeader checks oci-layout: a JSON object whose imageLayoutVersion is "1.0.0".
// Other members are allowed.
func (v *validator) checkHeader() {
	const object = layout.LayoutFile
	b, err := readFile(v.src.fsys, layout.LayoutFile, 1<<20)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.add(checkLayoutHeader, object, `missing; a layout starts with {"imageLayoutVersion":"1.0.0"} in oci-layout`)
		return
	case err != nil:
		v.add(checkLayoutHeader, object, "cannot be read: %v", err)
		return
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b, &hdr); err != nil || hdr == nil {
		v.add(checkLayoutHeader, object, "not a JSON object")
		return
	}
	raw, ok := hdr["imageLayoutVersion"]
	if !ok {
		v.add(checkLayoutVersion, object, "imageLayoutVersion is missing")
		return
	}
	var version string
	if err := json.Unmarshal(raw, &version); err != nil || version != ocispec.ImageLayoutVersion {
		v.add(checkLayoutVersion, object, "imageLayoutVersion is %s, not %q (the only version there is)", raw, ocispec.ImageLayoutVersion)
	}
}

// checkTree looks at the names at the root and under blobs/. It returns the digests of
// the files under blobs/ whose names are blob names, and whether blobs/ could be listed.
func (v *validator) checkTree() (names []digest.Digest, listed bool) {
	fsys := v.src.fsys
	if v.src.folder {
		// A root that cannot be listed shows in the checks of the files it holds.
		ents, _ := fs.ReadDir(fsys, ".")
		for _, e := range ents {
			name := e.Name()
			switch {
			case rootFiles[name]:
			case strings.HasPrefix(name, layout.TempPrefix):
				v.add(checkLayoutTemp, name, "a temp file left by an interrupted write; ocil gc removes it")
			default:
				v.add(checkLayoutUnknown, entryName(name, e), "not part of the layout format; ignored")
			}
		}
	}
	if !v.src.folder {
		v.checkTarballLeftovers()
	}
	if !v.inside(layout.BlobsDir) {
		return nil, false
	}
	fi, err := fs.Stat(fsys, layout.BlobsDir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !v.src.folder:
		// A tarball need not hold folder entries; with no blob in it, there is no blobs/.
		return nil, true
	case errors.Is(err, fs.ErrNotExist):
		v.add(checkLayoutBlobs, "blobs", "missing; every layout has a blobs/ folder, even an empty one")
		return nil, false
	case err != nil:
		v.add(checkLayoutBlobs, "blobs", "cannot be read: %v", err)
		return nil, false
	case !fi.IsDir():
		v.add(checkLayoutBlobs, "blobs", "a file, not a folder")
		return nil, false
	}
	algs, err := fs.ReadDir(fsys, layout.BlobsDir)
	if err != nil {
		v.add(checkLayoutBlobs, "blobs", "cannot be listed: %v", err)
		return nil, false
	}
	listed = true
	for _, a := range algs {
		algPath := path.Join(layout.BlobsDir, a.Name())
		if !v.inside(algPath) {
			listed = false
			continue
		}
		switch {
		case !a.IsDir():
			v.add(checkLayoutUnknown, algPath, "not part of the layout format (blobs/ holds one folder per digest algorithm); ignored")
			continue
		case !algorithmGrammar.MatchString(a.Name()):
			v.add(checkLayoutBlobName, algPath+"/", "not a digest algorithm name (lowercase letters and digits, as in sha256); nothing in it is a blob")
			continue
		}
		ents, err := fs.ReadDir(fsys, algPath)
		if err != nil {
			v.add(checkLayoutBlobs, algPath+"/", "cannot be listed: %v", err)
			listed = false
			continue
		}
		v.listed[algPath] = true
		for _, e := range ents {
			p := path.Join(algPath, e.Name())
			d := digest.Digest(a.Name() + ":" + e.Name())
			switch {
			case strings.HasPrefix(e.Name(), layout.TempPrefix):
				v.add(checkLayoutTemp, p, "a temp file left by an interrupted write; ocil gc removes it")
			case e.IsDir():
				v.add(checkLayoutUnknown, p+"/", "a folder where blobs are; ignored")
			case layout.ValidateDigest(d) != nil:
				v.add(checkLayoutBlobName, p, "the name is not a %s digest, so this is not a blob; remove it", a.Name())
			default:
				if e.Type()&fs.ModeSymlink != 0 {
					v.inside(p) // reports a link out of the layout, read or not
				}
				names = append(names, d)
			}
		}
	}
	return names, listed
}

func entryName(name string, e fs.DirEntry) string {
	if e.IsDir() {
		return name + "/"
	}
	return name
}

// readFile reads a whole file of at most limit bytes.
func readFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	return capped.ReadFile(fsys, name, limit)
}

// checkParts hashes the parts of a split tarball against its checksum file (tarfs.Split.Verify):
// one layout.parts error per part that does not match. Opening the tarball already
// checked that every listed part is there, nothing else is, and the sizes fit.
func (v *validator) checkParts(ctx context.Context) {
	s := v.src.split
	if s == nil {
		return
	}
	if s.SumFile == "" {
		v.add(checkLayoutPartSums, s.Path+tarfs.SumSuffix, "missing: the %d parts of %s cannot be checked; ocil copy --split-size writes it", len(s.Parts), s.Path)
		return
	}
	if v.opts.Fast {
		return
	}
	for _, err := range s.Verify(ctx) {
		v.add(checkLayoutParts, s.Path, "%v", err)
	}
}

// checkTarballLeftovers lists what an interrupted ocil write of a tarball leaves beside
// it: temp files and stage folders named .ocil-tmp-<tarball name>-*.
func (v *validator) checkTarballLeftovers() {
	dir, base := filepath.Split(v.src.path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := layout.TempPrefix + base + "-"
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			v.add(checkLayoutTemp, entryName(filepath.Join(dir, e.Name()), e), "left beside %s by an interrupted ocil write of it; delete it once no ocil command is writing %s", base, base)
		}
	}
}
