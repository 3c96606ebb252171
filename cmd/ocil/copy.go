package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout"
)

func copyCommand() *cli.Command {
	return &cli.Command{
		Name:      "copy",
		Usage:     "copy an image or index between layout folders and tarballs, optionally keeping only some platforms",
		ArgsUsage: "SRC|- DST[:TAG]|-",
		Description: `Copies what SRC selects (resolved as by ocil resolve, without a platform) into DST.
SRC and DST are layout folders or tarballs (.tar, .tar.gz, .tgz, .tar.zst, .tzst; a
tarball's compression is detected from its bytes when reading, from its name when
writing). A DST with one of those endings is always a tarball, never a folder. DST's
tag is the one given, else the tag SRC was selected by, else none.

Without --platform the selected root and everything under it are copied byte for byte:
the same digests. With --platform (repeatable), only the manifests matching one of the
platforms are kept: the index is rewritten to list just them (a new digest), and only
their blobs are copied. Each platform must match something. A --platform value may list
several, separated by ',': linux/amd64,linux/arm64 is two platforms, while a ',' before
osver= belongs to the platform (linux/arm64/v8,osver=el8 is one). Attestations are dropped
unless --keep-attestations.

DST is created when missing and keeps its other entries, folder or tarball (an entry
with the same tag is replaced; without a tag, DST must be new or empty). Blobs are
copied several at a time (--jobs). A tarball DST is rewritten whole: relative names,
oci-layout and index.json first, blobs sorted, fixed mode, owner and time
(SOURCE_DATE_EPOCH, else 1970), so the same content gives the same bytes; it is
written beside DST and renamed at the end, under DST.lock. .tar.gz output is
compressed on all cores; .tar.zst with zstd.

SRC - reads a layout tarball (plain, gzip or zstd) from standard input: it is checked
whole and spooled to a temp file before anything is copied, within the bounds of a
compressed tarball. DST - writes the tarball, uncompressed, to standard output (never
a terminal); the result then goes to standard error, and -q drops it. A file named -
is ./-.

Prints the digest of the entry written; --format json prints the entry, the kept and
dropped manifests and the blob counts, --format go-template=TEMPLATE runs a Go
template over that object.

Examples:
  ocil copy ./out:1.2 out.tar
  ocil copy out.tar ./unpacked
  ocil copy ./out:1.2 arm64.tar.gz --platform linux/arm64 --platform linux/arm/v7
  ocil copy ./out:1.2 el8.tar --platform linux/amd64,osver=el8,linux/arm64/v8,osver=el8
  ocil copy ./out:1.2 site-b.tar.zst
  ocil copy ./out:1.2 out.tar --format 'go-template={{.descriptor.digest}} {{.blobs}}'
  ocil copy ./out:1.2 - | ssh host ocil copy - /srv/layout`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "platform", Aliases: []string{"p"}, Usage: "keep only manifests for `PLATFORM` (repeatable, or a list: linux/amd64,linux/arm64)"},
			&cli.BoolFlag{Name: "keep-attestations", Usage: "with --platform, keep the attestations of the kept manifests"},
			&cli.StringFlag{Name: "link", Value: "auto", Usage: "how blobs are copied: auto (reflink, else hard link, else copy), reflink, hardlink or copy"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "blobs copied at once (default: number of CPUs)"},
			&cli.BoolFlag{Name: "no-verify", Usage: "trust SRC: do not hash the blobs"},
			&cli.DurationFlag{Name: "lock-timeout", Value: layout.DefaultLockTimeout, Usage: "how long to wait for another writer of DST"},
			quietFlag("print the digest (as without -q)"),
			formatFlag(),
		},
		Action: func(c *cli.Context) error {
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() != 2 {
				return usagef("copy: expected SRC and DST, got %s (see ocil copy --help)", count(c.NArg(), "argument"))
			}
			plats, err := platformsOpt(c)
			if err != nil {
				return err
			}
			mode, err := layout.ParseLinkMode(c.String("link"))
			if err != nil {
				return usagef("--link: %v", err)
			}
			mtime, err := layout.SourceDateEpoch()
			if err != nil {
				return usagef("%v", err)
			}
			dst := c.Args().Get(1)
			out := c.App.Writer
			if ref, err := layout.ParseReference(dst); err == nil && ref.Path == layout.Stdio {
				if progress.IsTerminal(c.App.Writer) {
					return usagef("copy to %s: standard output is a terminal; redirect it to a file or pipe it (ocil copy SRC - | ocil copy - DST)", dst)
				}
				out = c.App.ErrWriter // standard output carries the tarball
			}
			src, err := layout.ResolveRef(c.Context, c.Args().Get(0), layout.ResolveOptions{}, layout.WithStdin(c.App.Reader))
			if err != nil {
				return err
			}
			defer src.Layout.Close()
			bar := progress.New(c.App.ErrWriter, "copy", c.Bool("quiet"))
			defer bar.Done()
			res, err := layout.Copy(c.Context, src, dst, layout.CopyOptions{
				Stdout:           c.App.Writer,
				Progress:         bar.Update,
				Platforms:        plats,
				KeepAttestations: c.Bool("keep-attestations"),
				Transfer:         layout.TransferOptions{Mode: mode, Verify: !c.Bool("no-verify")},
				Jobs:             c.Int("jobs"),
				ModTime:          mtime,
				LockTimeout:      c.Duration("lock-timeout"),
			})
			if err != nil {
				return err
			}
			if out != c.App.Writer && c.Bool("quiet") {
				return nil
			}
			if !o.text() {
				return o.print(out, res)
			}
			_, err = fmt.Fprintln(out, res.Descriptor.Digest)
			return err
		},
	}
}
