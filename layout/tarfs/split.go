package tarfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ocil-dev/ocil/internal/safeopen"
)

// A split tarball is the tarball PATH cut into parts PATH.001, PATH.002, ... (written by
// ocil copy --split-size), with PATH.sha256 listing the sha256 of each part in the format
// of sha256sum. The parts are the tarball's bytes in order: cat PATH.0* > PATH gives it
// back, and Open reads PATH from its parts when PATH itself does not exist.
const (
	// SumSuffix ends the name of a split tarball's checksum file: PATH.sha256.
	SumSuffix = ".sha256"
	// MinPartDigits is the fewest digits a part number has.
	MinPartDigits = 3
	// MaxParts is the most parts a split tarball has (each is held open while it is read).
	MaxParts = 9999
	// maxSumFile caps the checksum file: MaxParts lines of a 64-digit sum and a name.
	maxSumFile = 4 << 20
)

// PartWidth is how many digits the part numbers of a set of n parts have: one more than n
// has, and at least MinPartDigits. Every number then starts with 0 and all have the same
// width, so the shell's sorted glob PATH.0* lists every part, in order, whatever n is
// (PATH.001 to PATH.099; PATH.0001 to PATH.0999 for 100 to 999 parts; and so on).
func PartWidth(n int) int {
	return max(len(strconv.Itoa(n))+1, MinPartDigits)
}

// PartName is the name of part i (from 1) of a set of n parts of the tarball path.
func PartName(path string, i, n int) string {
	return fmt.Sprintf("%s.%0*d", path, PartWidth(n), i)
}

// partNumber reads name as a part of the tarball named base: base, a dot, and at least
// MinPartDigits decimal digits. width is the number of digits.
func partNumber(base, name string) (num, width int, ok bool) {
	rest, ok := strings.CutPrefix(name, base+".")
	if !ok || len(rest) < MinPartDigits || len(rest) > 9 {
		return 0, 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
	}
	n, _ := strconv.Atoi(rest)
	return n, len(rest), true
}

// globbedPart reports whether name is a part name of base that the glob base.0* takes
// in: every part name ocil writes, and no name a user picks for something else
// (bundle.tar.2024). Only these are replaced by a new write, or refused beside a set
// that does not list them.
func globbedPart(base, name string) bool {
	_, _, ok := partNumber(base, name)
	return ok && name[len(base)+1] == '0'
}

// SumLine is one line of a checksum file: a sha256 (lowercase hex) and a file name.
type SumLine struct {
	Sum  string
	Name string
}

// ParseSums reads a checksum file in the format sha256sum writes and sha256sum -c reads:
// one line per file, 64 hex digits, two spaces (or a space and '*', binary mode), the
// name, a newline (the last may be missing). Anything else is an error naming the line:
// blank lines, carriage returns, names escaped with a leading backslash, other
// algorithms' lengths, more than MaxParts lines, or none.
func ParseSums(data []byte) ([]SumLine, error) {
	if len(data) == 0 {
		return nil, errors.New("empty")
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	var out []SumLine
	for i, line := range bytes.Split(data, []byte("\n")) {
		if i >= MaxParts {
			return nil, fmt.Errorf("more than %d lines", MaxParts)
		}
		l, err := parseSumLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, l)
	}
	return out, nil
}

func parseSumLine(line []byte) (SumLine, error) {
	switch {
	case len(line) == 0:
		return SumLine{}, errors.New("blank")
	case bytes.IndexByte(line, '\r') >= 0:
		return SumLine{}, errors.New("carriage return (written on Windows?); lines end with \\n only")
	case line[0] == '\\':
		return SumLine{}, errors.New("an escaped name (sha256sum writes these for names with \\ or a newline, which no part has)")
	case len(line) < 64+2+1:
		return SumLine{}, errors.New("want 64 hex digits, two spaces and a name")
	}
	sum := string(line[:64])
	if _, err := hex.DecodeString(sum); err != nil {
		return SumLine{}, fmt.Errorf("%q is not 64 hex digits", sum)
	}
	if line[64] != ' ' || (line[65] != ' ' && line[65] != '*') {
		return SumLine{}, errors.New("want two spaces (or a space and '*') after the sum")
	}
	return SumLine{Sum: strings.ToLower(sum), Name: string(line[66:])}, nil
}

// FormatSums writes lines in the format sha256sum writes ("HEX  NAME\n").
func FormatSums(lines []SumLine) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		fmt.Fprintf(&b, "%s  %s\n", l.Sum, l.Name)
	}
	return b.Bytes()
}

// Part is one part of a split tarball.
type Part struct {
	Path string // the part's file: the tarball's path, a dot and the part number
	Size int64
	Sum  string // its sha256 as the checksum file lists it; "" without one
}

// Split is a split tarball as found on disk (see FindSplit).
type Split struct {
	Path    string // the tarball the parts make up
	SumFile string // Path+SumSuffix when it exists; "" when not
	Parts   []Part
}

// Size is the size of the tarball the parts make up.
func (s *Split) Size() int64 {
	var n int64
	for _, p := range s.Parts {
		n += p.Size
	}
	return n
}

// PartSize is the size of the first part: the size every part but the last has.
func (s *Split) PartSize() int64 { return s.Parts[0].Size }

// SplitExists reports whether path names a split tarball: path itself does not exist,
// and its checksum file lists parts of path (SumsListParts; a checksum file that is not
// a regular file counts too, so that reading it gives the error), or a first part (PATH.001, PATH.0001, ...) does and path is
// named like a tarball (.tar, .tar.gz, .tgz, .tar.zst, .tzst), so that data.001 beside
// a folder data still to be made does not make it a tarball. Readers then read path from
// its parts; when path exists, path is read and its parts are not.
func SplitExists(path string) bool {
	base := filepath.Base(path)
	if strings.HasSuffix(path, "/") || base == "." || base == ".." || base == "/" {
		return false
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if fi, err := os.Lstat(path + SumSuffix); err == nil && (!fi.Mode().IsRegular() || SumsListParts(path)) {
		return true
	}
	tarName := false
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst"} {
		tarName = tarName || strings.HasSuffix(base, ext)
	}
	if !tarName {
		return false
	}
	for w := MinPartDigits; w <= PartWidth(MaxParts); w++ {
		if _, err := os.Lstat(fmt.Sprintf("%s.%0*d", path, w, 1)); err == nil {
			return true
		}
	}
	return false
}

// SumsListParts reports whether path's checksum file (path.sha256) is one a split write
// of path makes: in sha256sum's format, its first line naming a part of path. A file of
// the same name that says something else (sha256sum bundle.tar > bundle.tar.sha256) is
// the user's: it neither makes path a split tarball nor is removed with its parts.
func SumsListParts(path string) bool {
	data, err := readSumFile(path + SumSuffix)
	if err != nil {
		return false
	}
	lines, err := ParseSums(data)
	if err != nil {
		return false
	}
	_, _, ok := partNumber(filepath.Base(path), lines[0].Name)
	return ok
}

// PartOf reports whether path is named as a part of a split tarball that SplitExists
// finds (bundle.tar.001 of bundle.tar), and returns that tarball's path.
func PartOf(path string) (string, bool) {
	i := strings.LastIndexByte(path, '.')
	if i <= 0 {
		return "", false
	}
	whole := path[:i]
	if _, _, ok := partNumber(filepath.Base(whole), filepath.Base(path)); !ok || !SplitExists(whole) {
		return "", false
	}
	return whole, true
}

// PartFiles lists the files beside path whose names are those of its parts (path, a dot,
// at least MinPartDigits digits, the first a 0: what path.0* takes in), of any set, and
// its checksum file when there is one: what a new write of path replaces.
func PartFiles(path string) ([]string, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if globbedPart(base, e.Name()) || e.Name() == base+SumSuffix {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// FindSplit finds the parts of the split tarball path and checks, without reading them,
// that they make one whole: with a checksum file, it must list the parts in order
// (PATH.001 to PATH.00N, all of one width), every one must exist and no other file that
// PATH.0* takes in may be beside them; without one, the parts are the files PATH.0*
// takes in, which must be numbered from 1 without a gap, all of one width. Every part is
// a regular file (a symbolic link, FIFO or device is refused, ErrHostile), none empty,
// and every part but the last has the same size, the last no more (a part cut short is
// found here, ErrCorrupt). Errors name the part.
func FindSplit(path string) (*Split, error) {
	s, err := findSplit(path)
	if err != nil {
		return nil, fmt.Errorf("open tarball %s: %w", path, err)
	}
	return s, nil
}

func findSplit(path string) (*Split, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type found struct {
		name       string
		num, width int
	}
	var parts []found
	for _, e := range ents {
		if n, w, ok := partNumber(base, e.Name()); ok {
			parts = append(parts, found{e.Name(), n, w})
		}
	}
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].num != parts[j].num {
			return parts[i].num < parts[j].num
		}
		return parts[i].width < parts[j].width
	})
	join := func(name string) string { return filepath.Join(dir, name) }
	s := &Split{Path: path}
	sumPath := path + SumSuffix
	data, err := readSumFile(sumPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		s.SumFile = sumPath
		lines, err := ParseSums(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: not in sha256sum's format: %w", sumPath, ErrCorrupt, err)
		}
		listed := map[string]bool{}
		width := 0
		for i, l := range lines {
			n, w, ok := partNumber(base, l.Name)
			if width == 0 {
				width = w
			}
			if !ok || n != i+1 || w != width {
				return nil, fmt.Errorf("%s: %w: line %d names %q where part %d (%s) belongs: the file lists the parts of %s in order, by name only",
					sumPath, ErrCorrupt, i+1, l.Name, i+1, fmt.Sprintf("%s.%0*d", base, max(width, MinPartDigits), i+1), base)
			}
			listed[l.Name] = true
			s.Parts = append(s.Parts, Part{Path: join(l.Name), Sum: l.Sum})
		}
		for _, p := range parts {
			if !listed[p.name] && globbedPart(base, p.name) {
				return nil, fmt.Errorf("%s: %w: not listed in %s: a part of another set? (cat %s.0* would take it in)", join(p.name), ErrCorrupt, sumPath, path)
			}
		}
		present := map[string]bool{}
		for _, p := range parts {
			present[p.name] = true
		}
		for _, p := range s.Parts {
			if !present[filepath.Base(p.Path)] {
				return nil, fmt.Errorf("%s: %w: missing (listed in %s)", p.Path, ErrCorrupt, sumPath)
			}
		}
	}
	if s.SumFile == "" {
		// Without a list, the parts are what cat PATH.0* takes in.
		globbed := parts[:0:0]
		for _, p := range parts {
			if globbedPart(base, p.name) {
				globbed = append(globbed, p)
			}
		}
		parts = globbed
		if len(parts) == 0 {
			return nil, fmt.Errorf("%w: no parts (%s)", fs.ErrNotExist, PartName(path, 1, 1))
		}
		for i, p := range parts {
			if p.width != parts[0].width {
				return nil, fmt.Errorf("%s: %w: %s is named with %d digits and %s with %d: parts of two sets", join(p.name), ErrCorrupt, join(parts[0].name), parts[0].width, join(p.name), p.width)
			}
			if p.num != i+1 {
				return nil, fmt.Errorf("%s: %w: missing (%s comes after %s, and there is no %s)", join(fmt.Sprintf("%s.%0*d", base, p.width, i+1)), ErrCorrupt,
					join(p.name), partBefore(join, base, i, p.width), sumPath)
			}
			s.Parts = append(s.Parts, Part{Path: join(p.name)})
		}
	}
	if len(s.Parts) > MaxParts {
		return nil, fmt.Errorf("%w: %d parts, more than %d", ErrHostile, len(s.Parts), MaxParts)
	}
	for i := range s.Parts {
		p := &s.Parts[i]
		fi, err := os.Lstat(p.Path)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: %w: %s; the parts of a split tarball are read as regular files only", p.Path, ErrHostile, safeopen.Describe(fi.Mode()))
		}
		if p.Size = fi.Size(); p.Size == 0 {
			return nil, fmt.Errorf("%s: %w: empty", p.Path, ErrCorrupt)
		}
		first := s.Parts[0]
		switch {
		case i > 0 && i < len(s.Parts)-1 && p.Size != first.Size:
			return nil, fmt.Errorf("%s: %w: %d bytes where %s has %d: every part but the last has the same size (cut short, or from another set?)", p.Path, ErrCorrupt, p.Size, first.Path, first.Size)
		case i > 0 && p.Size > first.Size:
			return nil, fmt.Errorf("%s: %w: %d bytes, more than the %d of %s: the last part is the smallest (is %s cut short?)", p.Path, ErrCorrupt, p.Size, first.Size, first.Path, first.Path)
		}
	}
	return s, nil
}

func partBefore(join func(string) string, base string, i, width int) string {
	if i == 0 {
		return "nothing"
	}
	return join(fmt.Sprintf("%s.%0*d", base, width, i))
}

// readSumFile reads a checksum file: a regular file (never through a symbolic link) of at
// most maxSumFile bytes.
func readSumFile(path string) ([]byte, error) {
	f, fi, err := safeopen.OpenNoFollow(path)
	if err != nil {
		var nr *safeopen.NotRegularError
		if errors.As(err, &nr) {
			return nil, fmt.Errorf("%s: %w: %s; the checksum file is read as a regular file only", path, ErrHostile, safeopen.Describe(nr.Mode))
		}
		return nil, err
	}
	defer f.Close()
	if fi.Size() > maxSumFile {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than the %d a list of %d parts takes", path, ErrHostile, fi.Size(), maxSumFile, MaxParts)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSumFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxSumFile {
		return nil, fmt.Errorf("%s: %w: grew past %d bytes while it was read", path, ErrHostile, maxSumFile)
	}
	return b, nil
}

// Verify hashes every part and compares it with the checksum file. It returns one error
// per part that does not match (ErrCorrupt, naming the part and both sums), or that
// cannot be read; none when there is no checksum file. It reads every byte of every part.
func (s *Split) Verify(ctx context.Context) []error {
	var errs []error
	if s.SumFile == "" {
		return nil
	}
	buf := make([]byte, 1<<20)
	for _, p := range s.Parts {
		if err := ctx.Err(); err != nil {
			return append(errs, err)
		}
		got, err := hashPart(ctx, p, buf)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Path, err))
			continue
		}
		if got != p.Sum {
			errs = append(errs, fmt.Errorf("%s: %w: sha256 mismatch: %s lists %s, the part hashes to %s", p.Path, ErrCorrupt, s.SumFile, p.Sum, got))
		}
	}
	return errs
}

func hashPart(ctx context.Context, p Part, buf []byte) (string, error) {
	f, _, err := safeopen.OpenNoFollow(p.Path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// open opens every part (never through a symbolic link, a regular file of the size
// FindSplit saw: a part replaced by another of the same size is not told apart) as one
// file.
func (s *Split) open() (*partsFile, error) {
	pf := &partsFile{}
	var end int64
	for _, p := range s.Parts {
		f, fi, err := safeopen.OpenNoFollow(p.Path)
		if err != nil {
			pf.Close()
			var nr *safeopen.NotRegularError
			if errors.As(err, &nr) {
				return nil, fmt.Errorf("open tarball %s: %s: %w: %s; the parts of a split tarball are read as regular files only", s.Path, p.Path, ErrHostile, safeopen.Describe(nr.Mode))
			}
			return nil, fmt.Errorf("open tarball %s: %w", s.Path, err)
		}
		pf.files = append(pf.files, f)
		if fi.Size() != p.Size {
			pf.Close()
			return nil, fmt.Errorf("open tarball %s: %s: %w: changed while it was opened", s.Path, p.Path, ErrCorrupt)
		}
		end += p.Size
		pf.ends = append(pf.ends, end)
		pf.names = append(pf.names, p.Path)
	}
	return pf, nil
}

// partsFile reads the parts of a split tarball as one file.
type partsFile struct {
	files []*os.File
	ends  []int64 // where each part ends in the whole
	names []string
}

func (p *partsFile) size() int64 {
	if len(p.ends) == 0 {
		return 0
	}
	return p.ends[len(p.ends)-1]
}

// ReadAt reads from the part that holds off and on into the next ones as needed.
func (p *partsFile) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("read parts: negative offset")
	}
	i := sort.Search(len(p.ends), func(i int) bool { return p.ends[i] > off })
	n := 0
	for len(b) > 0 && i < len(p.files) {
		start := int64(0)
		if i > 0 {
			start = p.ends[i-1]
		}
		want := int(min(int64(len(b)), p.ends[i]-off))
		m, err := p.files[i].ReadAt(b[:want], off-start)
		n += m
		off += int64(m)
		b = b[m:]
		if m < want {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%s: %w: ends before its %d bytes (cut short while it was read)", p.names[i], io.ErrUnexpectedEOF, p.ends[i]-start)
			}
			return n, err
		}
		i++
	}
	if len(b) > 0 {
		return n, io.EOF
	}
	return n, nil
}

// extent returns the part that holds the n bytes at off of the whole, and where they
// start in it, when one part holds them all (a kernel copy reads one file).
func (p *partsFile) extent(off, n int64) (*os.File, int64, bool) {
	i := sort.Search(len(p.ends), func(i int) bool { return p.ends[i] > off })
	if off < 0 || n < 0 || i >= len(p.files) || off+n > p.ends[i] {
		return nil, 0, false
	}
	start := int64(0)
	if i > 0 {
		start = p.ends[i-1]
	}
	return p.files[i], off - start, true
}

func (p *partsFile) Close() error {
	var first error
	for _, f := range p.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	p.files = nil
	return first
}

// PartsOf names the parts of a split tarball that hold the bytes of the named file ("part
// x.001" or "parts x.001 to x.002"), for messages about a read that failed. It is "" when the
// archive was not split, or was decompressed whole (its blobs were hashed then).
func (f *FS) PartsOf(name string) string {
	pf, ok := f.f.(*partsFile)
	e, found := f.files[name]
	if !ok || !found || e.data != nil {
		return ""
	}
	off, end := e.off, e.off+e.size
	if e.piece != nil {
		off, end = e.piece.off, e.piece.off+e.piece.length
	}
	first := sort.Search(len(pf.ends), func(i int) bool { return pf.ends[i] > off })
	last := sort.Search(len(pf.ends), func(i int) bool { return pf.ends[i] >= end })
	switch {
	case first >= len(pf.names):
		return ""
	case last <= first || last >= len(pf.names):
		return "part " + pf.names[first]
	}
	return "parts " + pf.names[first] + " to " + pf.names[last]
}
