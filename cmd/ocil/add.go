package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/artifact"
	"github.com/ocil-dev/ocil/layout/platform"
)

func addCommand() *cli.Command {
	return &cli.Command{
		Name:      "add",
		Usage:     "store files as an artifact, or as a container image (--image), for one platform in a tag's multi-platform index",
		ArgsUsage: "DST[:TAG] --platform P FILE[:MEDIATYPE]...  |  DST[:TAG] --platform P --image SRC[=DEST]...",
		Description: `Stores each FILE as a layer titled with its base name
(org.opencontainers.image.title) of an artifact manifest for --platform, and puts that
manifest into the OCI index TAG names, replacing the entry for the same platform
(os.version included) or inserting one in canonical order (as ocil merge writes it), so
adds in any order give the same index; TAG's index is created when missing, other tags
are untouched. A folder is packed as a reproducible tar.gz layer (marked for unpacking, as
oras does). DST is a folder, or a tarball when it ends in .tar, .tar.gz, .tgz, .tar.zst
or .tzst (rewritten whole, its other entries kept); it is created when missing. An add
that fails leaves DST as it was, and no DST when there was none.

The manifest's config is the empty {} with --artifact-type (default
application/vnd.unknown.artifact.v1), or --config FILE[:TYPE], or with --platform-config
an image config holding the platform, as oras push --artifact-platform writes it, for
clients that only look there. Nothing is time-stamped: the same files and flags give the
same digests. Concurrent adds to one tag all land.

--annotation KEY=VALUE annotates the manifest; the value is taken as written, commas
and spaces included. --annotation-file FILE takes oras's format: a JSON object whose
"$manifest" member annotates the manifest, "$config" the config, and every other member
the layer of the file it names (by the path as given, or by its base name); a member that
names none of the files is an error, and so is a key given both by --annotation and under
"$manifest". --descriptor-annotation KEY=VALUE annotates the manifest's entry in the tag's
index, as Homebrew's bottle index does (sh.brew.bottle.digest, a per-platform
org.opencontainers.image.ref.name); an entry replaced by a later add keeps none of them.

--platform takes every form other commands take (os/arch[/variant][:os.version], ...)
and also docker-library's bashbrew architecture names: amd64, arm32v5, arm32v6, arm32v7,
arm64v8, i386, mips64le, ppc64le, riscv64, s390x (all linux) and windows-amd64.

With --image, the files make a runnable container image instead: one layer (a
reproducible tar, gzip or --compression zstd) holding each SRC at the absolute path DEST
(default / and its base name; DEST is what follows the last "=/"), modes kept, owner 0:0,
every time --created or the epoch, folders above each DEST added as 0755; a SRC folder
brings its files, folders and symbolic links; FIFOs and devices are errors. The image
config has the platform, rootfs.diff_ids, one history entry, and --entrypoint, --cmd,
--env, --workdir, --user, --label as given. --entrypoint and --cmd take a JSON array
(["/hello","--flag"], a Dockerfile's exec form) or one argument per flag, repeated; no
value is ever split on spaces. --created (or SOURCE_DATE_EPOCH) time-stamps the config;
without either there is no time stamp. Without TAG, into an empty layout, the image is
the layout's only entry (what docker-library's oci-import reads). Windows images are
refused: they need a Windows base layer, which ocil does not write. --image is a switch:
"--image A --image B" is "--image A B".

Prints the manifest's digest; --format json prints {"index": the tag's index.json entry,
"manifest": the manifest's descriptor, "replaced": whether an entry was replaced}, and
--format go-template=TEMPLATE runs a Go template over that object.

Examples:
  ocil add ./mybinary:v1 --platform linux/amd64 --artifact-type application/vnd.example.tool.v1 dist/amd64/tool
  ocil add ./mybinary:v1 --platform linux/arm64 dist/arm64/tool README.md:text/markdown
  ocil add ./repo:el8 --platform linux/amd64:el8 --platform-config rpms/
  ocil add tools.tar.gz:v1 --platform linux/arm64 dist/arm64/tool
  ocil add ./bottles:1.2 --platform "darwin/arm64:macOS 14" --annotation-file annotations.json --descriptor-annotation sh.brew.bottle.digest=sha256:... foo.tar.gz
  ocil add ./mybinary:v1 -p linux/amd64 tool --format 'go-template={{.index.digest}}'
  SOURCE_DATE_EPOCH=1700000000 ocil add ./hello:latest --platform arm64v8 --image --entrypoint '["/hello"]' build/arm64/hello
  ocil add ./tool:1.0 --platform linux/amd64 --image --compression zstd --env PATH=/bin --cmd serve --cmd --port=80 dist/tool=/bin/tool etc/=/etc/tool`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "platform", Aliases: []string{"p"}, Usage: "the artifact's or image's `PLATFORM` (required): os/arch[/variant][:os.version], ... or a bashbrew architecture (amd64, arm64v8, ...)"},
			&cli.StringFlag{Name: "artifact-type", Usage: "the manifest's artifactType, a media type (type/subtype, RFC 6838)"},
			&cli.StringSliceFlag{Name: "annotation", Usage: "`KEY=VALUE` annotation on the manifest (repeatable; the value is taken as written, commas included)"},
			annotationFileFlag("annotations from `FILE`, as oras writes it: {\"$manifest\": {...}, \"$config\": {...}, \"FILE NAME\": {...}}"),
			&cli.StringSliceFlag{Name: "descriptor-annotation", Usage: "`KEY=VALUE` annotation on the manifest's entry in the tag's index (repeatable)"},
			&cli.StringFlag{Name: "config", Usage: "use `FILE[:TYPE]` as the config blob"},
			&cli.BoolFlag{Name: "platform-config", Usage: "write the platform into an image-config-typed config"},
			&cli.DurationFlag{Name: "lock-timeout", Value: layout.DefaultLockTimeout, Usage: "how long to wait for another writer"},
			formatFlag(),
			quietFlag("print the manifest's digest (as without -q)"),
		}, imageFlags()...),
		Action: func(c *cli.Context) error {
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() < 1 {
				return usagef("add: expected DST[:TAG] and files (see ocil add --help)")
			}
			if !c.IsSet("platform") {
				return usagef("add: --platform is required")
			}
			if err := checkImageFlags(c); err != nil {
				return err
			}
			p, err := platform.ParseWithBashbrew(c.String("platform"))
			if err != nil {
				return err
			}
			mtime, err := layout.SourceDateEpoch()
			if err != nil {
				return usagef("%v", err)
			}
			if _, err := layout.ParseOutput(c.Args().First()); err != nil {
				return fmt.Errorf("add to %w", err)
			}
			outOpts := layout.OutputOptions{LockTimeout: c.Duration("lock-timeout"), ModTime: mtime, Transfer: layout.TransferOptions{Verify: true}}
			ann, err := parseAnnotations("--annotation", c.StringSlice("annotation"))
			if err != nil {
				return err
			}
			descAnn, err := parseAnnotations("--descriptor-annotation", c.StringSlice("descriptor-annotation"))
			if err != nil {
				return err
			}
			if c.Bool("image") {
				opts, err := imageOptions(c)
				if err != nil {
					return err
				}
				opts.Platform, opts.Annotations, opts.DescriptorAnnotations = p, ann, descAnn
				return addImage(c, outOpts, opts, o)
			}
			opts := artifact.Options{Platform: p, ArtifactType: c.String("artifact-type"), Annotations: ann,
				DescriptorAnnotations: descAnn, PlatformConfig: c.Bool("platform-config")}
			if err := checkMediaTypeFlag("--artifact-type", opts.ArtifactType); err != nil {
				return err
			}
			if c.IsSet("config") {
				cf := splitMediaType(c.String("config"))
				if err := checkMediaTypeFlag("--config "+c.String("config"), cf.MediaType); err != nil {
					return err
				}
				opts.Config = &cf
			}
			opts.ModTime = mtime
			var files []artifact.File
			for _, a := range c.Args().Tail() {
				f := splitMediaType(a)
				if err := checkMediaTypeFlag(a, f.MediaType); err != nil {
					return err
				}
				files = append(files, f)
			}
			if c.IsSet("annotation-file") {
				af, err := readAnnotationFile(c.String("annotation-file"))
				if err != nil {
					return err
				}
				if err := af.applyToArtifact(&opts, files); err != nil {
					return err
				}
			}
			out, err := layout.OpenOutput(c.Context, c.Args().First(), outOpts)
			if err != nil {
				return err
			}
			defer out.Close()
			var m, entry ocispec.Descriptor
			var replaced *ocispec.Descriptor
			err = out.Write(c.Context, func(l *layout.Layout) error {
				var err error
				if m, err = artifact.Put(c.Context, l, files, opts); err != nil {
					return fmt.Errorf("add to %s: %w", c.Args().First(), err)
				}
				entry, replaced, err = l.AddToIndex(c.Context, out.Tag, m)
				return err
			})
			if err != nil {
				return err
			}
			if !o.text() {
				return o.print(c.App.Writer, map[string]any{"index": entry, "manifest": m, "replaced": replaced})
			}
			_, err = fmt.Fprintln(c.App.Writer, m.Digest)
			return err
		},
	}
}

// applyToArtifact puts the file's annotations where oras puts them: $manifest on the
// manifest (with --annotation's), $config on the config descriptor, and each other key
// on the layer of the file it names, by the path as given on the command line (as oras
// matches) or by its title, the base name. A key that names no file is an error, and so
// is a file named by two keys.
func (af *annotationFile) applyToArtifact(opts *artifact.Options, files []artifact.File) error {
	var err error
	if opts.Annotations, err = af.withFlags(annotationsOfManifest, "--annotation", opts.Annotations); err != nil {
		return err
	}
	opts.ConfigAnnotations = af.sets[annotationsOfConfig]
	used := map[string]bool{annotationsOfManifest: true, annotationsOfConfig: true}
	var names []string
	for i := range files {
		f := &files[i]
		title := artifact.Title(f.Path)
		names = append(names, title)
		var keys []string
		for _, k := range []string{f.Path, filepath.ToSlash(filepath.Clean(f.Path)), title} {
			if _, ok := af.sets[k]; ok && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		if len(keys) > 1 {
			return usagef("--annotation-file %s: %q and %q both name %s", af.path, keys[0], keys[1], f.Path)
		}
		if len(keys) == 1 {
			f.Annotations = af.sets[keys[0]]
			used[keys[0]] = true
		}
	}
	hint := fmt.Sprintf("names no file of this artifact (its files: %s; other keys: $manifest, $config)", strings.Join(names, ", "))
	if len(names) == 0 {
		hint = "names no file: this artifact has none (keys: $manifest, $config)"
	}
	return af.unknown(func(k string) bool { return used[k] }, hint)
}

// splitMediaType reads FILE[:MEDIATYPE]: a name that exists as a whole is a file; else
// the part after the last ':' is the media type when it looks like one (type/subtype).
func splitMediaType(a string) artifact.File {
	if _, err := os.Stat(a); err == nil {
		return artifact.File{Path: a}
	}
	if i := strings.LastIndexByte(a, ':'); i > 0 && strings.Contains(a[i+1:], "/") {
		return artifact.File{Path: a[:i], MediaType: a[i+1:]}
	}
	return artifact.File{Path: a}
}
