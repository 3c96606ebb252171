package interop

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// openTarball opens a layout tarball and returns a reader of its tar stream, gunzipped
// when the file starts with the gzip magic.
func openTarball(p string) (io.Reader, func() error, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(f)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return zr, func() error { zr.Close(); return f.Close() }, nil
	}
	return br, f.Close, nil
}

// extract unpacks a layout tarball (plain or gzip) into a new folder with archive/tar
// and returns that folder. Names are taken as the tarball gives them ("./" prefixes
// included); a name that leaves the folder, or a link, is an error.
func extract(t tb, tarball string) (string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "extracted")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	r, closeFn, err := openTarball(tarball)
	if err != nil {
		return "", err
	}
	defer closeFn()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir, nil
		}
		if err != nil {
			return "", err
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return "", fmt.Errorf("entry %q leaves the folder", h.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return "", err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return "", err
			}
			f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return "", err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return "", err
			}
		default:
			return "", fmt.Errorf("entry %q: unexpected type %q", h.Name, h.Typeflag)
		}
	}
}

// gunzip writes the tar stream of a gzip tarball to a new .tar file and returns its path.
func gunzip(t tb, tarball string) (string, error) {
	t.Helper()
	r, closeFn, err := openTarball(tarball)
	if err != nil {
		return "", err
	}
	defer closeFn()
	p := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(tarball), ".gz"))
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return p, err
}
