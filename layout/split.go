package layout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/atomicfile"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// ParseSize reads a size in bytes as --split-size takes it: a whole number of at least 1
// (decimal digits only), optionally followed, with no space, by a unit: K, M, G, T
// (powers of 1000, as are KB, MB, GB, TB) or KiB, MiB, GiB, TiB (powers of 1024). Units
// are case-sensitive, save that k and kB are K and KB (m would be milli, b a bit);
// nothing else is accepted (no sign, fraction, space, exponent or separator), and the
// result must fit in 63 bits. Disk and
// media sizes are sold in powers of 1000, so 4G and 4GB are 4000000000 bytes, which a
// 4.7 GB DVD or a FAT32 volume (files under 4 GiB) holds; 4GiB is 4294967296.
func ParseSize(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	num, unit := s[:i], s[i:]
	var mult int64
	switch unit {
	case "":
		mult = 1
	case "k", "K", "kB", "KB":
		mult = 1000
	case "M", "MB":
		mult = 1000 * 1000
	case "G", "GB":
		mult = 1000 * 1000 * 1000
	case "T", "TB":
		mult = 1000 * 1000 * 1000 * 1000
	case "KiB":
		mult = 1 << 10
	case "MiB":
		mult = 1 << 20
	case "GiB":
		mult = 1 << 30
	case "TiB":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("%q: %w: want a whole number of bytes, optionally with a unit: K, M, G, T (1000s) or KiB, MiB, GiB, TiB (1024s), such as 4GiB or 700M", s, ErrInvalidOption)
	}
	if num == "" {
		return 0, fmt.Errorf("%q: %w: want a whole number of bytes before the unit, such as 4GiB or 700M", s, ErrInvalidOption)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: %w: too large", s, ErrInvalidOption)
	}
	if n == 0 {
		return 0, fmt.Errorf("%q: %w: a part holds at least 1 byte", s, ErrInvalidOption)
	}
	return n * mult, nil
}

// splitWriter writes a stream into parts of at most size bytes: files part-1, part-2, ...
// in dir, each hashed (sha256) as it is written and fsynced when it is full. A part is
// made only when a byte goes into it, so none is empty.
type splitWriter struct {
	dir   string
	size  int64
	cur   *os.File
	wb    *earlyWriteback
	n     int64 // bytes in cur
	h     hash.Hash
	parts []splitPart
}

type splitPart struct {
	tmp  string
	size int64
	sum  string
}

func (w *splitWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		if w.cur == nil || w.n == w.size {
			if err := w.next(); err != nil {
				return done, err
			}
		}
		k := min(int64(len(p)), w.size-w.n)
		m, err := w.wb.Write(p[:k])
		w.h.Write(p[:m])
		w.n += int64(m)
		done += m
		p = p[m:]
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// next ends the current part and starts the next one.
func (w *splitWriter) next() error {
	if err := w.end(); err != nil {
		return err
	}
	if len(w.parts) >= tarfs.MaxParts {
		return fmt.Errorf("%w: more than %d parts of %d bytes; give a larger --split-size", ErrInvalidOption, tarfs.MaxParts, w.size)
	}
	name := filepath.Join(w.dir, "part-"+strconv.Itoa(len(w.parts)+1))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w.cur, w.wb, w.n, w.h = f, newEarlyWriteback(f), 0, sha256.New()
	return nil
}

// end syncs and closes the current part, if any, and records it.
func (w *splitWriter) end() error {
	if w.cur == nil {
		return nil
	}
	f := w.cur
	w.cur = nil
	err := f.Chmod(0o644) // as a whole tarball, whatever the umask
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	w.parts = append(w.parts, splitPart{tmp: f.Name(), size: w.n, sum: hex.EncodeToString(w.h.Sum(nil))})
	return nil
}

// discard closes the current part; the caller removes dir.
func (w *splitWriter) discard() {
	if w.cur != nil {
		w.cur.Close()
		w.cur = nil
	}
}

// writeSplitTarball is writeTarball with opts.SplitSize: the tarball's bytes, the same as
// a whole write gives, go into parts in a stage folder beside path
// (TempPrefix+base+"-parts-*"); only when every part is complete and synced are they
// renamed to path.001, path.002, ... (tarfs.PartName), then path.sha256, and the files of
// an older write of path are removed: parts the new set has not replaced (of any width)
// and path itself. The caller holds path's lock. A failure before the renames leaves
// every file as it was; the renames, in one folder, fail only on an I/O error.
func writeSplitTarball(ctx context.Context, path string, src *Layout, indexJSON []byte, blobs []ocispec.Descriptor, opts TarOptions) error {
	// Files are named from the clean path, as tarfs.PartFiles lists them: ./out.tar's
	// older parts are out.tar.001, ..., which the new set must be told apart from.
	clean := filepath.Clean(path)
	dir, base := filepath.Dir(clean), filepath.Base(clean)
	old, err := splitReplaced(clean)
	if err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	stage, err := os.MkdirTemp(dir, TempPrefix+base+"-parts-")
	if err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	defer os.RemoveAll(stage)
	w := &splitWriter{dir: stage, size: opts.SplitSize}
	defer w.discard()
	if err := writeTar(ctx, w, nil, path, src, indexJSON, blobs, opts); err != nil {
		return err
	}
	if err := w.end(); err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	n := len(w.parts)
	lines := make([]tarfs.SumLine, n)
	for i, p := range w.parts {
		lines[i] = tarfs.SumLine{Sum: p.sum, Name: filepath.Base(tarfs.PartName(clean, i+1, n))}
	}
	sums, err := atomicfile.Create(stage, "sums-*")
	if err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	defer sums.Discard()
	if _, err := sums.Write(tarfs.FormatSums(lines)); err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	keep := map[string]bool{}
	for i, p := range w.parts {
		final := tarfs.PartName(clean, i+1, n)
		keep[final] = true
		if err := os.Rename(p.tmp, final); err != nil {
			return fmt.Errorf("write tarball %s: %w", path, err)
		}
	}
	if err := sums.Commit(clean+tarfs.SumSuffix, 0o644, false); err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	for _, o := range old {
		if !keep[o] {
			if err := os.Remove(o); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("write tarball %s: remove the older %s: %w", path, o, err)
			}
		}
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("write tarball %s: sync folder: %w", path, err)
	}
	return nil
}

// splitReplaced lists the files a new write of the tarball path replaces when it is
// split: the files path.0* takes in (tarfs.PartFiles, without the checksum file,
// which is renamed over) and path itself when it is a file. A folder among them fails
// the write before anything is written, since it could not be replaced.
func splitReplaced(path string) ([]string, error) {
	path = filepath.Clean(path)
	files, err := tarfs.PartFiles(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range append(files, path) {
		if f == path+tarfs.SumSuffix {
			if fi, err := os.Lstat(f); err == nil && fi.IsDir() {
				return nil, fmt.Errorf("%s: %w: a folder where the checksum file goes", f, ErrConflict)
			}
			continue
		}
		fi, err := os.Lstat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("%s: %w: a folder where a part goes", f, ErrConflict)
		}
		out = append(out, f)
	}
	return out, nil
}

// removeSplit removes the parts and checksum file of an older split write of path, once
// a whole tarball was written there (readers prefer path, and cat path.0* must not give
// the old content). Only files are removed, never a folder or a link's target, and the
// checksum file only when it lists parts (tarfs.SumsListParts): one that sha256sum wrote
// for the whole tarball is the user's.
func removeSplit(path string) error {
	path = filepath.Clean(path)
	files, err := tarfs.PartFiles(path)
	if err != nil {
		return err
	}
	userSums := !tarfs.SumsListParts(path)
	removed := false
	for _, f := range files {
		if fi, err := os.Lstat(f); err != nil || fi.IsDir() || (userSums && f == path+tarfs.SumSuffix) {
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the older %s: %w", f, err)
		}
		removed = true
	}
	if removed {
		return atomicfile.SyncDir(filepath.Dir(path))
	}
	return nil
}

// splitLeftover reports whether name, in a tarball's folder, is the parts stage of an
// earlier write of the tarball base (TempPrefix+base+"-parts-"+digits).
func splitLeftover(base, name string) bool {
	rest, ok := strings.CutPrefix(name, TempPrefix+base+"-parts-")
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
