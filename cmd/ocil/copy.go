package main

import (
	"errors"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout"
)

func copyCommand() *cli.Command {
	return &cli.Command{
		Name:      "copy",
		Usage:     "copy an image or index between layout folders and tarballs, optionally keeping only some platforms",
		ArgsUsage: "SRC[=NAME]|- ... DST[:TAG]|-",
		Description: `Copies what SRC selects (resolved as by ocil resolve, without a platform) into DST.
SRC and DST are layout folders or tarballs (.tar, .tar.gz, .tgz, .tar.zst, .tzst; a
tarball's compression is detected from its bytes when reading, from its name when
writing). A DST with one of those endings is always a tarball, never a folder. DST's
tag is the one given, else the tag SRC was selected by, else none.

A SRC named without a tag or digest (or =NAME) that holds several images stands for all
of them, each copied under its own tag with its referrers (a tag on a manifest of an
index keeps its tag too): ocil copy bundle.tar ./site unpacks a bundle. An untagged image beside others, or a tag listed once per platform,
has no name of its own to copy it under and is refused, as are --platform, DST:TAG and
standard output as DST with such a SRC: name the images instead (SRC:TAG).

Several sources go into DST in one write: every entry lands, or none does and DST is left
as it was. SRC=NAME names that source's entry in DST; NAME may be a full image name
(registry.example.com/team/app:1.2), which is what docker load and ctr import use, and is
written as org.opencontainers.image.ref.name and io.containerd.image.name. Without =NAME
a source keeps the tag it was selected by. Two sources may not give the same name, and a
DST:TAG names the entry of a single source only. Standard output takes one source.

Without --platform the selected root and everything under it are copied byte for byte:
the same digests. With --platform (repeatable), only the manifests matching one of the
platforms are kept: the index is rewritten to list just them (a new digest), and only
their blobs are copied. Each platform must match something. A --platform value may list
several, separated by ',': linux/amd64,linux/arm64 is two platforms, while a ',' before
osver= belongs to the platform (linux/arm64/v8,osver=el8 is one). The attestations
docker buildx puts in the index (unknown/unknown children naming an image) are kept for
the kept manifests, as referrers are, and dropped with --no-referrers.

Referrers come along: the signatures, SBOMs and other artifacts whose subject is an
index or manifest the copy brings, and their own referrers in turn, found the ways
oras, regctl and cosign record them (see ocil ls). DST records each both ways: an
untagged index.json entry (as oras attach writes it) and an index under the fallback
tag sha256-<hex> (as regctl and the distribution spec's referrers tag schema keep it);
a cosign 2 signature keeps its sha256-<hex>.sig tag. With --platform only the referrers
of the kept manifests come; the rewritten index is new, so referrers of the old one stay
behind. --no-referrers leaves them all.

--docker also writes, into a tarball DST, the manifest.json and repositories docker save
writes since Docker 25, beside the OCI layout, so docker load, podman load and ctr import
load every tagged entry under its name (which must then be NAME:TAG). An entry with
images for several platforms needs one --platform; artifacts that are not container
images are refused.

--base OLD (repeatable; one folder or tarball per use, docker save archives too) makes
a delta: every layer that an OLD the far side already has holds is left out; indexes,
manifests and configs always travel. DST's index.json records the left-out blobs and
each OLD (its name and index.json digest) in the dev.ocil.delta.v1 annotation. On the
far side, ocil copy (or merge) from the delta into SITE checks first that SITE holds
every left-out blob the copy needs, and otherwise fails naming them, SITE unchanged.
ocil validate notes a delta's left-out blobs (delta.base); --for-push refuses it.

DST is created when missing and keeps its other entries, folder or tarball (an entry
with the same tag is replaced; without a tag, DST must be new or empty). Blobs are
copied several at a time (--jobs). A tarball DST is rewritten whole: relative names,
oci-layout and index.json first, blobs sorted, fixed mode, owner and time
(SOURCE_DATE_EPOCH, else 1970), so the same content gives the same bytes; it is
written beside DST and renamed at the end, under DST.lock. .tar.gz output is
compressed on all cores; .tar.zst with zstd. Both are seekable: each entry is a
gzip member or zstd frame of its own and the last entry, ocil-seek-index.json, says
where each is, so ocil reads one blob without decompressing the rest; tar, skopeo and
podman read them as any other.

--split-size SIZE writes a tarball DST as parts DST.001, DST.002, ... of at most SIZE
bytes, and DST.sha256 with their sums in sha256sum's format. SIZE is a whole number of
bytes, or one with a unit: K, M, G, T count 1000s and KiB, MiB, GiB, TiB 1024s (4G fits
a FAT32 stick and a DVD; 4GiB does not fit FAT32). cat DST.0* > DST gives the tarball
byte for byte, and sha256sum -c DST.sha256, run in DST's folder, checks the parts.
Part numbers have 3 digits while there are at most 99 parts, and one more digit than the
count has past that (DST.0001 to DST.0100 for 100 parts), so DST.0* lists every part in
order; 9999 parts at most. The parts are written beside DST and put in place when all
are complete and synced; a failure leaves none. They replace, as a set, the parts of an
older write of DST (none of those is left over) and DST itself. Every ocil command reads
DST from its parts when DST does not exist (when it does, DST is read); a later change
of DST (tag, add, copy without --split-size) keeps it split, in parts of its first
part's size. ocil validate DST hashes every part against DST.sha256.

SRC - reads a layout tarball (plain, gzip or zstd) from standard input: it is checked
whole and spooled to a temp file before anything is copied, within the bounds of a
compressed tarball. DST - writes the tarball, uncompressed, to standard output (never
a terminal); the result then goes to standard error, and -q drops it. A file named -
is ./-.

Prints the digest of the entry written; --format json prints the entry, the kept and
dropped manifests, the referrers copied and the blob counts, --format
go-template=TEMPLATE runs a Go template over that object.

Examples:
  ocil copy ./out:1.2 out.tar
  ocil copy out.tar ./unpacked
  ocil copy ./out:1.2 site-c.tar.gz --platform linux/arm64 --platform linux/amd64:el9
  ocil copy ./out:1.2 el8.tar --platform linux/amd64,osver=el8,linux/arm64/v8,osver=el8
  ocil copy ./out:1.2 site-b.tar.zst
  ocil copy ./out:1.2 bare.tar --no-referrers
  ocil copy ./out:1.2 out.tar --format 'go-template={{.descriptor.digest}} {{.blobs}}'
  ocil copy ./out:1.2 - | ssh host ocil copy - /srv/layout
  ocil copy ./out:1.2 bundle.tar --split-size 4G
  ocil copy ./app:1.2=registry.example.com/team/app:1.2 ./db:16=registry.example.com/team/db:16 bundle.tar
  ocil copy bundle.tar ./site
  ocil copy --docker --platform linux/amd64 ./app:1.2=registry.example.com/team/app:1.2 load-me.tar
  ocil copy --base bundle.tar ./db:16=registry.example.com/team/db:16 delta.tar`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "platform", Aliases: []string{"p"}, Usage: "keep only manifests for `PLATFORM` (repeatable, or a list: linux/amd64,linux/arm64)"},
			&cli.BoolFlag{Name: "keep-attestations", Usage: "with --platform, keep the attestations of the kept manifests (the default unless --no-referrers)"},
			&cli.BoolFlag{Name: "no-referrers", Usage: "leave out the referrers (signatures, SBOMs) of what is copied, and with --platform the attestations"},
			splitSizeFlag("DST"),
			baseFlag(),
			&cli.BoolFlag{Name: "docker", Usage: "also write docker save's manifest.json and repositories into the tarball DST, for docker load, podman load and ctr import"},
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
			if c.NArg() < 2 {
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
			splitSize, err := splitSizeOpt(c)
			if err != nil {
				return err
			}
			mtime, err := layout.SourceDateEpoch()
			if err != nil {
				return usagef("%v", err)
			}
			bases, closeBases, err := openBases(c)
			if err != nil {
				return err
			}
			defer closeBases()
			args := c.Args().Slice()
			dst := args[len(args)-1]
			out := c.App.Writer
			if ref, err := layout.ParseReference(dst); err == nil && ref.Path == layout.Stdio {
				if progress.IsTerminal(c.App.Writer) {
					return usagef("copy to %s: standard output is a terminal; redirect it to a file or pipe it (ocil copy SRC - | ocil copy - DST)", dst)
				}
				out = c.App.ErrWriter // standard output carries the tarball
			}
			var srcs []layout.CopySource
			stdin := false
			for _, a := range args[:len(args)-1] {
				ref, name, err := parseCopySource(a)
				if err != nil {
					return err
				}
				if r, err := layout.ParseReference(ref); err == nil && r.Path == layout.Stdio {
					if stdin {
						return usagef("copy: standard input (-) is given twice")
					}
					stdin = true
				}
				all, err := resolveCopySource(c, ref, name)
				if err != nil {
					return err
				}
				defer all[0].Layout.Close()
				if len(all) > 1 {
					// The whole layout: every image, under its own tag.
					switch {
					case len(plats) > 0:
						return usagef("copy %s: it holds %d images, and --platform selects within one: name each (%s:TAG)", ref, len(all), ref)
					case dstRef(dst).Path == layout.Stdio:
						return usagef("copy %s to -: it holds %d images, and standard output takes one: name it (%s:TAG), or write a tarball file", ref, len(all), ref)
					case dstRef(dst).Tag != "":
						return usagef("copy %s to %s: it holds %d images, each copied under its own tag; DST:TAG names the entry of a single image (%s:TAG)", ref, dst, len(all), ref)
					}
				}
				for _, src := range all {
					srcs = append(srcs, layout.CopySource{Src: src, Name: name})
				}
			}
			results, err := layout.CopyAll(c.Context, srcs, dst, layout.CopyOptions{
				Stdout:           c.App.Writer,
				Platforms:        plats,
				KeepAttestations: c.Bool("keep-attestations") || !c.Bool("no-referrers"),
				NoReferrers:      c.Bool("no-referrers"),
				Transfer:         layout.TransferOptions{Mode: mode, Verify: !c.Bool("no-verify")},
				Jobs:             c.Int("jobs"),
				ModTime:          mtime,
				LockTimeout:      c.Duration("lock-timeout"),
				Docker:           dockerOpt(c, plats),
				SplitSize:        splitSize,
				Bases:            bases,
			})
			if err != nil {
				if errors.Is(err, layout.ErrInvalidOption) {
					return usagef("%v", err)
				}
				return err
			}
			if out != c.App.Writer && c.Bool("quiet") {
				return nil
			}
			if !o.text() {
				if len(results) == 1 {
					return o.print(out, results[0])
				}
				return o.print(out, results)
			}
			for _, res := range results {
				if _, err := fmt.Fprintln(out, res.Descriptor.Digest); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// resolveCopySource resolves one SRC of copy. A SRC that names a layout alone (no tag,
// digest or =NAME) holding several images stands for all of them (Layout.ResolveAll):
// what unpacking a bundle on the far side of an air gap needs.
func resolveCopySource(c *cli.Context, s, name string) ([]*layout.Resolved, error) {
	ref, err := layout.ParseReference(s)
	if err != nil {
		return nil, err
	}
	l, err := layout.Open(ref.Path, layout.WithStdin(c.App.Reader))
	if err != nil {
		return nil, err
	}
	src, err := l.Resolve(c.Context, ref, layout.ResolveOptions{})
	if err == nil {
		return []*layout.Resolved{src}, nil
	}
	if errors.Is(err, layout.ErrAmbiguous) && name == "" && ref.Tag == "" && ref.Digest == "" {
		all, err := l.ResolveAll(c.Context, ref)
		if err == nil {
			return all, nil
		}
		l.Close()
		return nil, err
	}
	l.Close()
	return nil, err
}

// dstRef parses copy's DST, the zero Reference when it does not parse (CopyAll says why).
func dstRef(dst string) layout.Reference {
	r, _ := layout.ParseReference(dst)
	return r
}

// parseCopySource reads SRC[=NAME]. A path may itself contain '=', so the split is at the
// first '=' before which a reference to something on disk (or -) stands; a whole argument
// that exists on disk is never split.
func parseCopySource(a string) (ref, name string, err error) {
	exists := func(s string) bool {
		r, err := layout.ParseReference(s)
		if err != nil {
			return false
		}
		if r.Path == layout.Stdio {
			return true
		}
		return layout.Exists(r.Path)
	}
	if r, err := layout.ParseReference(a); err == nil && !strings.Contains(a[len(r.Transport)+len(r.Path):], "=") && exists(a) {
		return a, "", nil
	}
	for i := strings.IndexByte(a, '='); i >= 0; {
		if exists(a[:i]) {
			if a[i+1:] == "" {
				return "", "", usagef("source %q: no name after '='", a)
			}
			return a[:i], a[i+1:], nil
		}
		j := strings.IndexByte(a[i+1:], '=')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return a, "", nil
}

// dockerOpt reads --docker; a single --platform also chooses the image of each entry.
func dockerOpt(c *cli.Context, plats []ocispec.Platform) *layout.DockerOptions {
	if !c.Bool("docker") {
		return nil
	}
	o := &layout.DockerOptions{}
	if len(plats) == 1 {
		o.Platform = &plats[0]
	}
	return o
}
