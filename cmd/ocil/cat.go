package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
)

func catCommand() *cli.Command {
	return &cli.Command{
		Name:      "cat",
		Usage:     "print the manifest, index or config a reference selects",
		ArgsUsage: "REF",
		Description: `Prints the raw bytes of the index or manifest REF selects (resolved as by
ocil resolve), or with --config the bytes of that manifest's config. The bytes are
verified against their digest and size before anything is printed.

Examples:
  ocil cat ./out:1.2
  ocil cat ./out:1.2 --platform linux/arm64 --config | jq .architecture`,
		Flags: []cli.Flag{
			platformFlag(),
			&cli.BoolFlag{Name: "config", Usage: "print the selected manifest's config instead"},
		},
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "reference")
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
			l, d := res.Layout, res.Descriptor
			raw, _, m, err := l.ReadDocument(c.Context, d)
			if err != nil {
				return fmt.Errorf("cat %s: %w", arg, err)
			}
			if c.Bool("config") {
				if m == nil {
					return fmt.Errorf("cat %s: %s is an index, not a manifest; choose one with --platform or @DIGEST: %w", arg, d.Digest, layout.ErrAmbiguous)
				}
				if raw, err = l.ReadBlob(c.Context, m.Config); err != nil {
					return fmt.Errorf("cat %s: config: %w", arg, err)
				}
			}
			_, err = c.App.Writer.Write(raw)
			return err
		},
	}
}
