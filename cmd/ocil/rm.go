package main

import (
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
)

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove platforms from a tag's index",
		ArgsUsage: "LAYOUT:TAG --platform P...",
		Description: `Removes the manifests matching each --platform (and their attestations) from
the index TAG names: a new, smaller index is written and the tag moved to it; its other
annotations stay. A platform that matches nothing is an error and nothing changes. A
--platform value may list several, separated by ',' (a ',' before osver= belongs to the
platform: linux/arm64/v8,osver=el8 is one).
Their referrers (signatures, SBOMs: see ocil ls) go with them, as do those of the old
index, which is replaced: their index.json entries and sha256-<hex> fallback tags are
dropped, unless another entry still lists their subject.
The removed blobs stay in a folder until ocil gc; a layout tarball is rewritten with
what its entries reach. Prints the new index's digest; --format json prints {"index":
the new index.json entry, "removed": [the manifests removed, then the index.json
entries of the referrers dropped]}, and --format
go-template=TEMPLATE runs a Go template over that object.

Examples:
  ocil rm ./out:1.2 --platform linux/arm/v7 --platform linux/s390x
  ocil rm ./out:1.2 --platform linux/arm/v7,linux/s390x,osver=el8
  ocil rm ./out:1.2 -p linux/s390x --format 'go-template={{len .removed}}'`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "platform", Aliases: []string{"p"}, Usage: "remove manifests for `PLATFORM` (repeatable, or a list: linux/amd64,linux/arm64; at least one)"},
			&cli.DurationFlag{Name: "lock-timeout", Value: layout.DefaultLockTimeout, Usage: "how long to wait for another writer"},
			formatFlag(),
			quietFlag("print the digest (as without -q)"),
		},
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "LAYOUT:TAG")
			if err != nil {
				return err
			}
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			plats, err := platformsOpt(c)
			if err != nil {
				return err
			}
			if len(plats) == 0 {
				return usagef("rm: give at least one --platform")
			}
			ref, err := layout.ParseReference(arg)
			if err != nil {
				return err
			}
			if ref.Tag == "" || ref.Digest != "" {
				return usagef("rm: %s: name the index by its tag, LAYOUT:TAG", arg)
			}
			out, err := openExisting(c, ref.Transport+ref.Path)
			if err != nil {
				return err
			}
			defer out.Close()
			var d ocispec.Descriptor
			var removed []ocispec.Descriptor
			err = out.Write(c.Context, func(l *layout.Layout) error {
				d, removed, err = l.RemovePlatforms(c.Context, ref.Tag, plats)
				return err
			})
			if err != nil {
				return err
			}
			if !o.text() {
				return o.print(c.App.Writer, map[string]any{"index": d, "removed": removed})
			}
			_, err = fmt.Fprintln(c.App.Writer, d.Digest)
			return err
		},
	}
}
