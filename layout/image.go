package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/safeopen"
	"github.com/ocil-dev/ocil/layout/platform"
)

// errNoChange leaves index.json as it was from inside UpdateIndex.
var errNoChange = errors.New("no change")

// ImageFile is one file or folder of an image's root file system: Src on this machine,
// stored at Dest in the image.
type ImageFile struct {
	Src string
	// Dest is an absolute, clean path in the image ("/usr/local/bin/tool"); "" means "/"
	// and the base name of Src. "/" takes a folder's contents as the root.
	Dest string
}

// Layer compressions PutImage writes.
const (
	CompressionGzip = "gzip"
	CompressionZstd = "zstd"
)

// ImageCreatedBy is the created_by of the history entry PutImage writes.
const ImageCreatedBy = "ocil add --image"

// ImageOptions describe an image's config and manifest. Nothing is taken from the machine
// or the clock: the same files and options give the same digests.
type ImageOptions struct {
	Platform ocispec.Platform
	// Compression of the layer: CompressionGzip (also "") or CompressionZstd.
	Compression string
	// Entrypoint, Cmd, Env ("K=V"), WorkingDir, User and Labels go into the config's
	// "config" as given; nil leaves a field out.
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	Labels     map[string]string
	// Created is the config's and the history's "created", and the time of every entry
	// of the layer; nil writes no time stamp, and the entries get the Unix epoch.
	Created *time.Time
	// Annotations go on the manifest, DescriptorAnnotations on the descriptor returned
	// (the entry in the tag's index).
	Annotations           map[string]string
	DescriptorAnnotations map[string]string
}

// ImageRootFS is the checked content of an image's layer: every entry with its path in
// the image, made by PlanImage before anything is written.
type ImageRootFS struct {
	entries []tarEntry
}

// Paths lists the image paths of the layer's entries in the order they are written,
// folders with a trailing '/'.
func (r *ImageRootFS) Paths() []string {
	out := make([]string, len(r.entries))
	for i, e := range r.entries {
		out[i] = e.name
	}
	return out
}

// PlanImage checks files and lists the entries of the layer they make, before anything
// is written. Each Src is a regular file or a folder (a symbolic link given as Src is
// followed; one inside a folder is stored as a link, its target as written); a FIFO,
// socket or device anywhere is an error naming it. Modes are kept (permissions, setuid,
// setgid, sticky), owners are 0:0, hard links are stored as files. Folders above each
// Dest that no Src gives are added with mode 0755. Every path of the image comes from one
// Src only: two Src at one Dest, or a Src inside another's folder at a path that folder
// already holds, or a path under a file, is an error naming both. Errors wrap
// ErrInvalidOption or the fs error, and name the Src or Dest.
func PlanImage(files []ImageFile) (*ImageRootFS, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("image: %w: no files: give at least one SRC[=DEST]", ErrInvalidOption)
	}
	type origin struct {
		e   tarEntry
		src string // the Src argument it comes from
	}
	byName := map[string]origin{}
	add := func(e tarEntry, src string) error {
		key := strings.TrimSuffix(e.name, "/")
		if prev, dup := byName[key]; dup {
			if prev.src == src {
				return fmt.Errorf("image: %s: %w: /%s is given twice", src, ErrConflict, key)
			}
			return fmt.Errorf("image: %w: %s and %s both give /%s", ErrConflict, prev.src, src, key)
		}
		byName[key] = origin{e, src}
		return nil
	}
	for _, f := range files {
		dest := f.Dest
		if dest == "" {
			dest = "/" + filepath.Base(filepath.Clean(f.Src))
			if base := filepath.Base(filepath.Clean(f.Src)); base == "." || base == ".." || base == string(filepath.Separator) {
				return nil, fmt.Errorf("image: %s: %w: no base name to store it under; give SRC=DEST", f.Src, ErrInvalidOption)
			}
		}
		if err := checkImagePath(dest); err != nil {
			return nil, fmt.Errorf("image: %s: %w", f.Src, err)
		}
		src := f.Src
		fi, err := os.Lstat(src)
		if err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			// A link given as SRC stands for what it points to.
			if src, err = filepath.EvalSymlinks(f.Src); err != nil {
				return nil, fmt.Errorf("image: %w", err)
			}
			if fi, err = os.Lstat(src); err != nil {
				return nil, fmt.Errorf("image: %w", err)
			}
		}
		name := strings.TrimPrefix(dest, "/")
		switch {
		case fi.Mode().IsRegular():
			if dest == "/" {
				return nil, fmt.Errorf("image: %s: %w: a file cannot be the root folder /; give SRC=/PATH", f.Src, ErrInvalidOption)
			}
			if err := add(tarEntry{name: name, src: src, mode: tarMode(fi.Mode()), size: fi.Size()}, f.Src); err != nil {
				return nil, err
			}
		case fi.IsDir():
			err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, err := filepath.Rel(src, p)
				if err != nil {
					return err
				}
				at := path.Join(name, filepath.ToSlash(rel))
				if rel == "." {
					if dest == "/" {
						return nil // the root itself is not an entry
					}
					at = name
				}
				if strings.ContainsRune(at, 0) {
					return fmt.Errorf("%s: %w: a NUL byte in a name", p, ErrInvalidOption)
				}
				fi, err := os.Lstat(p)
				if err != nil {
					return err
				}
				e := tarEntry{name: at, mode: tarMode(fi.Mode())}
				switch {
				case fi.Mode().IsRegular():
					e.src, e.size = p, fi.Size()
				case fi.IsDir():
					e.name += "/"
					e.dir = true
				case fi.Mode()&fs.ModeSymlink != 0:
					if e.link, err = os.Readlink(p); err != nil {
						return err
					}
					e.mode = 0o777
				default:
					return fmt.Errorf("%s: %w: %s; only files, folders and symbolic links are stored", p, ErrInvalidOption, safeopen.Describe(fi.Mode()))
				}
				return add(e, f.Src)
			})
			if err != nil {
				return nil, fmt.Errorf("image: %w", err)
			}
		default:
			return nil, fmt.Errorf("image: %s: %w: %s; SRC is a file or a folder", f.Src, ErrInvalidOption, safeopen.Describe(fi.Mode()))
		}
	}
	// Folders above every entry, 0755 unless a Src gives them; nothing may be under a
	// file or a link.
	names := make([]string, 0, len(byName))
	for k := range byName {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for dir := path.Dir(k); dir != "."; dir = path.Dir(dir) {
			o, ok := byName[dir]
			if !ok {
				byName[dir] = origin{tarEntry{name: dir + "/", dir: true, mode: 0o755}, ""}
				continue
			}
			if !o.e.dir {
				what := o.src
				if what == "" {
					what = "a folder"
				}
				return nil, fmt.Errorf("image: %w: /%s (from %s) is not a folder, but %s puts /%s under it", ErrConflict, dir, what, byName[k].src, k)
			}
		}
	}
	r := &ImageRootFS{}
	for _, o := range byName {
		r.entries = append(r.entries, o.e)
	}
	// By name, folders with their '/': a folder comes before what it holds.
	sort.Slice(r.entries, func(i, j int) bool { return r.entries[i].name < r.entries[j].name })
	return r, nil
}

// checkImagePath accepts an absolute path in the image written cleanly: it starts with
// '/', has no empty, "." or ".." component, no trailing '/' (but "/" itself) and no NUL.
// The path is used as written, never cleaned, so what is checked is what is stored.
func checkImagePath(p string) error {
	switch {
	case p == "/":
		return nil
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%w: DEST %q is not an absolute path (write /%s)", ErrInvalidOption, p, p)
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("%w: DEST %q holds a NUL byte", ErrInvalidOption, p)
	case strings.HasSuffix(p, "/"):
		return fmt.Errorf("%w: DEST %q ends with '/': name the path the file or folder gets", ErrInvalidOption, p)
	}
	for _, c := range strings.Split(p[1:], "/") {
		switch c {
		case "":
			return fmt.Errorf("%w: DEST %q has an empty component", ErrInvalidOption, p)
		case ".", "..":
			return fmt.Errorf("%w: DEST %q has a %q component", ErrInvalidOption, p, c)
		}
	}
	return nil
}

// tarMode is the tar header mode of m: the permissions with setuid, setgid and sticky.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// CheckImageOptions checks what PutImage would refuse in opts, before anything is written.
func CheckImageOptions(opts ImageOptions) error {
	switch opts.Compression {
	case "", CompressionGzip, CompressionZstd:
	default:
		return fmt.Errorf("image: %w: compression %q: want gzip or zstd", ErrInvalidOption, opts.Compression)
	}
	if opts.Platform.OS == "" || opts.Platform.Architecture == "" {
		return fmt.Errorf("image: %w: the platform needs an os and an architecture", ErrInvalidOption)
	}
	if opts.Platform.OS == "windows" {
		return fmt.Errorf("image: %w: platform %s: a Windows image needs a Windows base layer and Files/ and Hives/ in its layers, which ocil does not write; store the files as an artifact instead", ErrInvalidOption, platform.Format(opts.Platform))
	}
	if opts.WorkingDir != "" && !strings.HasPrefix(opts.WorkingDir, "/") {
		return fmt.Errorf("image: %w: workdir %q is not an absolute path", ErrInvalidOption, opts.WorkingDir)
	}
	strs := map[string][]string{"entrypoint": opts.Entrypoint, "cmd": opts.Cmd, "env": opts.Env,
		"workdir": {opts.WorkingDir}, "user": {opts.User}}
	for k, v := range opts.Labels {
		strs["label"] = append(strs["label"], k, v)
	}
	for _, what := range []string{"entrypoint", "cmd", "env", "workdir", "user", "label"} {
		for _, v := range strs[what] {
			if !utf8.ValidString(v) {
				return fmt.Errorf("image: %w: %s %q is not valid UTF-8 (the config is JSON and would change it)", ErrInvalidOption, what, v)
			}
		}
	}
	seen := map[string]string{}
	for _, kv := range opts.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("image: %w: env %q: want KEY=VALUE", ErrInvalidOption, kv)
		}
		if prev, dup := seen[k]; dup {
			return fmt.Errorf("image: %w: env %q and %q set %s twice", ErrInvalidOption, prev, kv, k)
		}
		seen[k] = kv
	}
	for k := range opts.Labels {
		if k == "" {
			return fmt.Errorf("image: %w: a label with an empty key", ErrInvalidOption)
		}
	}
	return nil
}

// PutImage writes a runnable container image of rootfs: one reproducible layer (entries
// in name order, owner 0:0 with no user or group name, every time opts.Created or the
// Unix epoch, compressed with gzip or zstd), an image config with the platform,
// rootfs.diff_ids (the digest of the uncompressed layer), one history entry and opts'
// runtime settings, and the image manifest. It returns the manifest's descriptor with
// the platform on it.
func (l *Layout) PutImage(ctx context.Context, rootfs *ImageRootFS, opts ImageOptions) (ocispec.Descriptor, error) {
	if err := CheckImageOptions(opts); err != nil {
		return ocispec.Descriptor{}, err
	}
	mtime := time.Unix(0, 0)
	if opts.Created != nil {
		mtime = *opts.Created
	}
	mediaType, compression := ocispec.MediaTypeImageLayerGzip, CompressionGzip
	if opts.Compression == CompressionZstd {
		mediaType, compression = ocispec.MediaTypeImageLayerZstd, CompressionZstd
	}
	layer, diffID, err := l.ingestTar(ctx, mediaType, compression, rootfs.entries, mtime)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image: %w", err)
	}
	p := opts.Platform
	cfg := ocispec.Image{
		Created:  opts.Created,
		Platform: ocispec.Platform{Architecture: p.Architecture, OS: p.OS, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures, Variant: p.Variant},
		Config: ocispec.ImageConfig{User: opts.User, Env: opts.Env, Entrypoint: opts.Entrypoint, Cmd: opts.Cmd,
			WorkingDir: opts.WorkingDir, Labels: opts.Labels},
		RootFS:  ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History: []ocispec.History{{Created: opts.Created, CreatedBy: ImageCreatedBy}},
	}
	b, err := EncodeJSON(cfg)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cd, err := l.PutBlob(ctx, ocispec.MediaTypeImageConfig, b)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image: %w", err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{layer},
		Annotations: copyAnnotations(opts.Annotations)}
	m.SchemaVersion = 2
	if b, err = EncodeJSON(m); err != nil {
		return ocispec.Descriptor{}, err
	}
	d, err := l.PutBlob(ctx, ocispec.MediaTypeImageManifest, b)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image: %w", err)
	}
	d.Platform = &p
	d.Annotations = copyAnnotations(opts.DescriptorAnnotations)
	return d, nil
}

// SetSoleImage makes the image manifest d the only entry of index.json, untagged, as
// docker-library's oci-import wants a layout: in an empty layout, or replacing an
// untagged image manifest for the same platform. A layout holding one untagged index
// gets d added to that index instead, as AddToIndex does without a tag. Anything else is
// ErrConflict: a tag is needed. It returns the entry replaced, if any.
func (l *Layout) SetSoleImage(ctx context.Context, d ocispec.Descriptor) (*ocispec.Descriptor, error) {
	if d.Platform == nil {
		return nil, fmt.Errorf("add to %s: %w: the manifest has no platform", l.path, ErrInvalidOption)
	}
	var replaced *ocispec.Descriptor
	intoIndex := false
	err := l.UpdateIndex(ctx, func(cur *ocispec.Index) error {
		switch {
		case len(cur.Manifests) == 0:
		case len(cur.Manifests) == 1 && TagOf(cur.Manifests[0]) == "":
			old := cur.Manifests[0]
			if IsIndex(old.MediaType) {
				intoIndex = true
				return errNoChange
			}
			if old.Platform == nil || !platform.Equal(*old.Platform, *d.Platform) {
				return fmt.Errorf("add to %s: %w: it holds an untagged image for another platform (%s); name a tag (%s:TAG)", l.path, ErrConflict, platformName(old.Platform), l.path)
			}
			replaced = &old
		default:
			return fmt.Errorf("add to %s: %w: it has %d entries; name a tag (%s:TAG)", l.path, ErrConflict, len(cur.Manifests), l.path)
		}
		cur.Manifests = []ocispec.Descriptor{d}
		return nil
	})
	if intoIndex && errors.Is(err, errNoChange) {
		_, replaced, err = l.AddToIndex(ctx, "", d)
	}
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

func platformName(p *ocispec.Platform) string {
	if p == nil {
		return "no platform on its entry"
	}
	return platform.Format(*p)
}
