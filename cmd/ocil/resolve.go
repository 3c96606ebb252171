package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
)

func resolveCommand() *cli.Command {
	return &cli.Command{
		Name:      "resolve",
		Usage:     "print the digest a reference and platform select",
		ArgsUsage: "REF",
		Description: `Resolves REF (PATH, PATH:TAG, PATH@DIGEST or PATH:TAG@DIGEST) and prints the
selected digest. A layout with one image needs no tag. With --platform, an index is
narrowed to its one manifest for that platform (read from the index entry, else from the
manifest's config). Several candidates, or none, is an error that lists them (exit 1).

--format json prints the selected descriptor; for a manifest whose index entry has no
platform, the platform found in its config is filled in. --format go-template=TEMPLATE
runs a Go template over that object, with its JSON field names (digest, mediaType,
size, platform, annotations, ...). -q prints the digest, as the text form does.

Examples:
  ocil resolve ./out:1.2 --platform linux/arm64/v8:el8
  ocil resolve ./layout --format json
  ocil resolve ./layout:v1 --platform linux/amd64 --format 'go-template={{.size}}'`,
		Flags: []cli.Flag{platformFlag(), formatFlag(), quietFlag("print the digest (as without -q)")},
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "reference")
			if err != nil {
				return err
			}
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			p, err := platformOpt(c)
			if err != nil {
				return err
			}
			res, err := layout.ResolveRef(c.Context, arg, layout.ResolveOptions{Platform: p})
			if err != nil {
				return err
			}
			defer res.Layout.Close()
			if !o.text() {
				return o.print(c.App.Writer, res.Descriptor)
			}
			_, err = fmt.Fprintln(c.App.Writer, res.Descriptor.Digest)
			return err
		},
	}
}
