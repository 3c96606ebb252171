package main

import (
	"fmt"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
)

func addCommand() *cli.Command {
	return &cli.Command{
		Name:      "add",
		Usage:     "store files as an artifact for one platform in a tag's multi-platform index",
		ArgsUsage: "DST[:TAG] --platform P FILE[:MEDIATYPE]...",
		Description: `Stores each FILE as a layer titled with its base name
(org.opencontainers.image.title) of an artifact manifest for --platform, and puts that
manifest into the OCI index TAG names, replacing the entry for the same platform
(os.version included) or adding one; TAG's index is created when missing, other tags are
untouched. A folder is packed as a reproducible tar.gz layer (marked for unpacking, as
oras does). DST is created when missing; an add that fails leaves no DST behind.

The manifest's config is the empty {} with --artifact-type (default
application/vnd.unknown.artifact.v1), or --config FILE[:TYPE], or with --platform-config
an image config holding the platform, as oras push --artifact-platform writes it, for
clients that only look there. Nothing is time-stamped: the same files and flags give the
same digests. Concurrent adds to one tag all land.

Examples:
  ocil add ./mybinary:v1 --platform linux/amd64 --artifact-type application/vnd.example.tool.v1 dist/amd64/tool
  ocil add ./mybinary:v1 --platform linux/arm64 dist/arm64/tool README.md:text/markdown
  ocil add ./repo:el8 --platform linux/amd64:el8 --platform-config rpms/`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "platform", Aliases: []string{"p"}, Usage: "the artifact's `PLATFORM` (required)"},
			&cli.StringFlag{Name: "artifact-type", Usage: "the manifest's artifactType"},
			&cli.StringSliceFlag{Name: "annotation", Usage: "`KEY=VALUE` annotation on the manifest (repeatable)"},
			&cli.StringFlag{Name: "config", Usage: "use `FILE[:TYPE]` as the config blob"},
			&cli.BoolFlag{Name: "platform-config", Usage: "write the platform into an image-config-typed config"},
			&cli.DurationFlag{Name: "lock-timeout", Value: layout.DefaultLockTimeout, Usage: "how long to wait for another writer"},
			formatFlag(false),
		},
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if err := checkFormat(format, false); err != nil {
				return err
			}
			if c.NArg() < 1 {
				return usagef("add: expected DST[:TAG] and files (see ocil add --help)")
			}
			if !c.IsSet("platform") {
				return usagef("add: --platform is required")
			}
			p, err := platformOpt(c)
			if err != nil {
				return err
			}
			ref, err := layout.ParseReference(c.Args().First())
			if err != nil {
				return err
			}
			if ref.Digest != "" {
				return usagef("add: %s: a destination takes a tag, not a digest", c.Args().First())
			}
			if ref.Tag != "" {
				if err := layout.ValidateRefName(ref.Tag); err != nil {
					return err
				}
			}
			ann, err := parseAnnotations("--annotation", c.StringSlice("annotation"))
			if err != nil {
				return err
			}
			opts := layout.ArtifactOptions{Platform: *p, ArtifactType: c.String("artifact-type"), Annotations: ann, PlatformConfig: c.Bool("platform-config")}
			if c.IsSet("config") {
				cf := splitMediaType(c.String("config"))
				opts.Config = &cf
			}
			if opts.ModTime, err = layout.SourceDateEpoch(); err != nil {
				return usagef("%v", err)
			}
			var files []layout.ArtifactFile
			for _, a := range c.Args().Tail() {
				files = append(files, splitMediaType(a))
			}
			var m, entry ocispec.Descriptor
			var replaced *ocispec.Descriptor
			err = layout.Write(c.Context, ref.Path, func(l *layout.Layout) error {
				var err error
				if m, err = l.PutArtifact(c.Context, files, opts); err != nil {
					return fmt.Errorf("add to %s: %w", c.Args().First(), err)
				}
				entry, replaced, err = l.AddToIndex(c.Context, ref.Tag, m)
				return err
			}, layout.WithLockTimeout(c.Duration("lock-timeout")))
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(c.App.Writer, map[string]any{"index": entry, "manifest": m, "replaced": replaced})
			}
			_, err = fmt.Fprintln(c.App.Writer, m.Digest)
			return err
		},
	}
}

// splitMediaType reads FILE[:MEDIATYPE]: a name that exists as a whole is a file; else
// the part after the last ':' is the media type when it looks like one (type/subtype).
func splitMediaType(a string) layout.ArtifactFile {
	if _, err := os.Stat(a); err == nil {
		return layout.ArtifactFile{Path: a}
	}
	if i := strings.LastIndexByte(a, ':'); i > 0 && strings.Contains(a[i+1:], "/") {
		return layout.ArtifactFile{Path: a[:i], MediaType: a[i+1:]}
	}
	return layout.ArtifactFile{Path: a}
}
