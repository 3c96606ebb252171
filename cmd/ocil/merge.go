package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
	"github.com/ocil-dev/ocil/merge"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "combine layouts into one layout with a nested multi-platform index",
		ArgsUsage: "-o OUT[:TAG] IN[=PLATFORM]...",
		Description: `Merges the inputs into OUT: OUT's index.json gets one entry (tagged TAG) that
points at a new OCI image index listing every input's manifests with their platforms.
It is the fan-in step of a CI pipeline whose jobs each build one platform.

Each IN is a reference (PATH, PATH:TAG, PATH@DIGEST), resolved as by ocil resolve.
An input that is an index contributes its children, attestations included, with their
annotations (org.opencontainers.image.ref.name too). With --all-images, an input named
without :TAG or @DIGEST whose index.json lists several images (a flat layout, as jq
scripts write) contributes all of them. A manifest's platform is taken from its index
entry, else from its image config (as oras push --artifact-platform writes it), else
from the land.oras.artifact.platform.* annotations; none of these is an error.
IN=PLATFORM states it: it may add an os.version, but one that contradicts what the
manifest says (another os, architecture, variant or os.version) is an error naming both,
unless --override-platform.

Identity is (digest, platform): one manifest stated or listed for two platforms is two
children; the same manifest for the same platform is kept once. Two manifests for one
platform (os.version included) are an error unless --on-duplicate first|last. Children
are in canonical order, whatever the order of the inputs: by platform (normalized os,
architecture, variant, os.version, os.features, each compared byte by byte), then
digest; manifests without a platform after them, attestations last. --keep-order keeps
the order of the inputs instead.
OUT is a folder, or a tarball when it ends in .tar, .tar.gz, .tgz, .tar.zst or .tzst
(written anew beside the old one and renamed into place; its entries are kept as a
folder's are). --split-size SIZE writes a tarball OUT as parts OUT.001, OUT.002, ... of
at most SIZE bytes and their sums in OUT.sha256, as ocil copy --split-size does (see
ocil copy --help); an input that is such a tarball is read from its parts.
OUT is created when missing. With :TAG, that tag's entry is replaced and the other entries
are kept; without a tag, OUT must be new or empty. Nothing is time-stamped unless
--created (or SOURCE_DATE_EPOCH) says so: the same inputs give the same bytes.

Referrers come along, as with ocil copy: the signatures, SBOMs and other artifacts whose
subject is a manifest the merge brings, and theirs in turn; OUT records them both ways
(an untagged index.json entry and the sha256-<hex> fallback tag). Referrers of an input's
own index stay behind: the nested index is new. --no-referrers leaves them all.

Every blob is copied (reflink, hard link or copy, see --link) and, unless --no-verify,
every source byte is hashed once. A failure of any kind leaves OUT's index.json as it was.
Prints the nested index's digest; --format json prints the index.json entry, the
children with their platforms and the blob counts, and --format go-template=TEMPLATE
runs a Go template over that object. -q also drops the warnings.

--annotation KEY=VALUE annotates the nested index, the value taken as written (commas
and spaces included); --annotation-file FILE takes oras's format, where "$manifest" is
the nested index and any other member is an error; a key given both ways is an error.
--descriptor-annotation KEY=VALUE annotates the index.json entry.

Examples:
  ocil merge -o out:1.2 build-amd64 build-arm64
  ocil merge -o out:1.2 --annotation org.opencontainers.image.version=1.2 in-*
  ocil merge -o out:1.2 ./arm=linux/arm64/v8:el8 ./amd=linux/amd64,osver=el8
  ocil merge -o out:1.2 --all-images ./flat-layout
  ocil merge -o out:1.2 --annotation-file annotations.json in-*
  ocil merge -o release.tar.gz:1.2 build-*
  ocil merge -o release.tar:1.2 build-* --split-size 700M
  ocil merge -o out:1.2 --no-referrers build-*
  ocil merge -o out:1.2 build-* --format 'go-template={{.index.digest}}'`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "the output layout and tag, `OUT[:TAG]`"},
			&cli.StringFlag{Name: "on-duplicate", Value: "error", Usage: "two manifests for one platform: error, first or last"},
			&cli.StringSliceFlag{Name: "annotation", Usage: "`KEY=VALUE` annotation on the nested index (repeatable; the value is taken as written, commas included)"},
			annotationFileFlag("annotations for the nested index from `FILE`, as oras writes it: {\"$manifest\": {...}}"),
			&cli.StringSliceFlag{Name: "descriptor-annotation", Usage: "`KEY=VALUE` annotation on the index.json entry (repeatable)"},
			&cli.StringFlag{Name: "artifact-type", Usage: "artifactType of the nested index, a media type (type/subtype, RFC 6838)"},
			&cli.StringFlag{Name: "created", Usage: "set org.opencontainers.image.created to `TIME` (RFC 3339, Unix seconds, or now); default: SOURCE_DATE_EPOCH when set, else none"},
			&cli.BoolFlag{Name: "allow-no-platform", Usage: "keep manifests that have no platform anywhere (listed without one)"},
			&cli.BoolFlag{Name: "override-platform", Usage: "let IN=PLATFORM replace a platform the manifest states otherwise"},
			&cli.BoolFlag{Name: "all-images", Usage: "an input without :TAG or @DIGEST contributes every image its index.json lists"},
			&cli.BoolFlag{Name: "keep-order", Usage: "list the children in the order of the inputs, not the canonical order"},
			&cli.BoolFlag{Name: "no-referrers", Usage: "leave out the referrers (signatures, SBOMs) of the inputs' manifests"},
			splitSizeFlag("OUT"),
			&cli.StringFlag{Name: "link", Value: "auto", Usage: "how blobs are copied: auto (reflink, else hard link, else copy), reflink, hardlink or copy"},
			&cli.BoolFlag{Name: "no-verify", Usage: "trust the inputs: do not hash the blobs"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "blobs copied at once (default: number of CPUs)"},
			&cli.DurationFlag{Name: "lock-timeout", Value: layout.DefaultLockTimeout, Usage: "how long to wait for another writer of OUT"},
			quietFlag("print the digest (as without -q)"),
			formatFlag(),
		},
		Action: runMerge,
	}
}

func runMerge(c *cli.Context) error {
	o, err := parseFormat(c)
	if err != nil {
		return err
	}
	if c.String("output") == "" {
		return usagef("merge: -o OUT[:TAG] is required (see ocil merge --help)")
	}
	if c.NArg() == 0 {
		return usagef("merge: no inputs (see ocil merge --help)")
	}
	opts := merge.Options{
		Output:           c.String("output"),
		ArtifactType:     c.String("artifact-type"),
		AllowNoPlatform:  c.Bool("allow-no-platform"),
		OverridePlatform: c.Bool("override-platform"),
		KeepInputOrder:   c.Bool("keep-order"),
		Jobs:             c.Int("jobs"),
		LockTimeout:      c.Duration("lock-timeout"),
	}
	if opts.SplitSize, err = splitSizeOpt(c); err != nil {
		return err
	}
	if err := checkMediaTypeFlag("--artifact-type", opts.ArtifactType); err != nil {
		return err
	}
	if opts.OnDup, err = merge.ParseDuplicatePolicy(c.String("on-duplicate")); err != nil {
		return usagef("--on-duplicate: %v", err)
	}
	if opts.Annotations, err = parseAnnotations("--annotation", c.StringSlice("annotation")); err != nil {
		return err
	}
	if c.IsSet("annotation-file") {
		af, err := readAnnotationFile(c.String("annotation-file"))
		if err != nil {
			return err
		}
		if opts.Annotations, err = af.withFlags(annotationsOfManifest, "--annotation", opts.Annotations); err != nil {
			return err
		}
		known := func(k string) bool { return k == annotationsOfManifest }
		if err := af.unknown(known, "is not a key merge takes: it writes an index, annotated by \"$manifest\" only"); err != nil {
			return err
		}
	}
	if opts.DescriptorAnnotations, err = parseAnnotations("--descriptor-annotation", c.StringSlice("descriptor-annotation")); err != nil {
		return err
	}
	if opts.Created, err = createdTime(c.String("created"), c.IsSet("created")); err != nil {
		return err
	}
	if opts.TarModTime, err = layout.SourceDateEpoch(); err != nil {
		return usagef("%v", err)
	}
	mode, err := layout.ParseLinkMode(c.String("link"))
	if err != nil {
		return usagef("--link: %v", err)
	}
	opts.Transfer = layout.TransferOptions{Mode: mode}
	opts.NoVerify = c.Bool("no-verify")
	opts.NoReferrers = c.Bool("no-referrers")
	for _, a := range c.Args().Slice() {
		in, err := parseInput(a)
		if err != nil {
			return err
		}
		in.AllImages = c.Bool("all-images")
		opts.Inputs = append(opts.Inputs, in)
	}
	res, err := merge.Merge(c.Context, opts)
	if err != nil {
		return err
	}
	if !c.Bool("quiet") {
		for _, w := range res.Warnings {
			fmt.Fprintf(c.App.ErrWriter, "ocil: warning: %s\n", w)
		}
	}
	if !o.text() {
		return o.print(c.App.Writer, res)
	}
	_, err = fmt.Fprintln(c.App.Writer, res.Index.Digest)
	return err
}

// parseInput reads IN[=PLATFORM]. A path may itself contain '=', so the split is at the
// first '=' after which a valid platform follows, and a whole argument that exists on
// disk is never split.
func parseInput(a string) (merge.Input, error) {
	if ref, err := layout.ParseReference(a); err == nil {
		if layout.Exists(ref.Path) && !strings.Contains(a[len(ref.Transport)+len(ref.Path):], "=") {
			return merge.Input{Ref: a}, nil
		}
	}
	var firstErr error
	for i := strings.IndexByte(a, '='); i >= 0; {
		p, err := platform.Parse(a[i+1:])
		if err == nil {
			if i == 0 {
				return merge.Input{}, usagef("input %q: no reference before '='", a)
			}
			return merge.Input{Ref: a[:i], Platform: &p}, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		j := strings.IndexByte(a[i+1:], '=')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if firstErr != nil {
		return merge.Input{}, fmt.Errorf("input %q: %w", a, firstErr)
	}
	return merge.Input{Ref: a}, nil
}

func parseAnnotations(flag string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("%s %q: want KEY=VALUE", flag, kv)
		}
		if _, dup := m[k]; dup {
			return nil, usagef("%s: key %q given twice", flag, k)
		}
		m[k] = v
	}
	return m, nil
}

// createdTime reads --created, falling back to SOURCE_DATE_EPOCH; nil means no time stamp.
func createdTime(s string, set bool) (*time.Time, error) {
	if !set {
		t, err := layout.SourceDateEpoch()
		if err != nil {
			return nil, usagef("%v", err)
		}
		if t.IsZero() {
			return nil, nil
		}
		return &t, nil
	}
	switch {
	case s == "now":
		t := time.Now().UTC().Truncate(time.Second)
		return &t, nil
	case s == "":
		return nil, usagef("--created: empty")
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		t := time.Unix(sec, 0).UTC()
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, usagef("--created %q: want RFC 3339 (2026-01-02T15:04:05Z), Unix seconds or now", s)
	}
	t = t.UTC()
	return &t, nil
}
