package main

import (
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
)

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "give what a reference selects more tags",
		ArgsUsage: "REF NEWTAG...",
		Description: `Adds index.json entries named NEWTAG for what REF selects (resolved as by
ocil resolve; with --platform, one manifest of an index). A tag that exists is moved.
Tags must follow the OCI ref.name grammar. Changes index.json in one locked step; a
layout tarball is rewritten whole, its other entries kept.
Prints the digest tagged; --format json prints {"descriptor": the entry written, "tags":
[NEWTAG...]}, and --format go-template=TEMPLATE runs a Go template over that object.

Examples:
  ocil tag ./out:1.2 1.2.0 latest
  ocil tag release.tar.gz:1.2 latest
  ocil tag ./out@sha256:0c59c9e6f0b4a4818672123392c966bc2ff641f4d0841da2e59ec2701457c0da arm64-el8`,
		Flags: []cli.Flag{
			platformFlag(),
			&cli.DurationFlag{Name: "lock-timeout", Value: layout.DefaultLockTimeout, Usage: "how long to wait for another writer"},
			formatFlag(),
			quietFlag("print the digest (as without -q)"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usagef("tag: expected REF and at least one NEWTAG (see ocil tag --help)")
			}
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			p, err := platformOpt(c)
			if err != nil {
				return err
			}
			ref, err := layout.ParseReference(c.Args().First())
			if err != nil {
				return err
			}
			out, err := openExisting(c, ref.Transport+ref.Path)
			if err != nil {
				return err
			}
			defer out.Close()
			var d ocispec.Descriptor
			err = out.Write(c.Context, func(l *layout.Layout) error {
				res, err := l.Resolve(c.Context, ref, layout.ResolveOptions{Platform: p})
				if err != nil {
					return err
				}
				d = res.Descriptor
				if res.PlatformSource != layout.FromDescriptor {
					d.Platform = nil // found in the config: index.json entries carry none
				}
				d.Annotations = nil
				if d.Digest == res.Root.Digest {
					d.Annotations, d.Platform = res.Root.Annotations, res.Root.Platform
				}
				return l.Tag(c.Context, d, c.Args().Tail()...)
			})
			if err != nil {
				return err
			}
			if !o.text() {
				return o.print(c.App.Writer, map[string]any{"descriptor": d, "tags": c.Args().Tail()})
			}
			_, err = fmt.Fprintln(c.App.Writer, d.Digest)
			return err
		},
	}
}

func untagCommand() *cli.Command {
	return &cli.Command{
		Name:      "untag",
		Usage:     "remove tags from a layout's index.json",
		ArgsUsage: "LAYOUT TAG...",
		Description: `Removes the index.json entries named TAG. A tag that is not there is an
error and nothing changes. The blobs stay in a folder (ocil gc removes what nothing
reaches); a layout tarball is rewritten with what its remaining entries reach.

Example:
  ocil untag ./out 1.2-rc1 1.2-rc2
  ocil untag release.tar 1.2-rc1`,
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "lock-timeout", Value: layout.DefaultLockTimeout, Usage: "how long to wait for another writer"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usagef("untag: expected LAYOUT and at least one TAG (see ocil untag --help)")
			}
			if _, err := layoutArg(c, c.Args().First()); err != nil {
				return err
			}
			out, err := openExisting(c, c.Args().First())
			if err != nil {
				return err
			}
			defer out.Close()
			return out.Write(c.Context, func(l *layout.Layout) error {
				return l.Untag(c.Context, c.Args().Tail()...)
			})
		},
	}
}

// openExisting opens the layout folder or tarball ref (a path, with any transport prefix,
// without a tag) for a change of its index.json (tag, untag, rm): it must exist already.
func openExisting(c *cli.Context, ref string) (*layout.Output, error) {
	mtime, err := layout.SourceDateEpoch()
	if err != nil {
		return nil, usagef("%v", err)
	}
	return layout.OpenOutput(c.Context, ref, layout.OutputOptions{Existing: true, LockTimeout: c.Duration("lock-timeout"),
		ModTime: mtime, Transfer: layout.TransferOptions{Verify: true}})
}
