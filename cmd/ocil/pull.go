package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/artifact"
)

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "write the files of an artifact into a folder",
		ArgsUsage: "REF -o DIR",
		Description: `Writes each titled layer (org.opencontainers.image.title) of the manifest REF
selects (with --platform, one manifest of an index) as a file in DIR, verified against
its digest before it gets its name; a packed folder is unpacked (regular files and
folders only). Every title and every entry of every packed folder is checked first: an
empty, absolute, ".", ".." or duplicate name, a NUL or backslash, or a link refuses the
whole pull, and DIR is left as it was. Existing files are not overwritten unless
--force. Prints the files written, one a line; --format json prints them as a list of
{"path", "layer", "folder"}, and --format go-template=TEMPLATE runs a Go template over
that list.

Examples:
  ocil pull ./mybinary:v1 --platform linux/arm64 -o ./bin
  ocil pull ./mybinary:v1 -p linux/arm64 -o ./bin --format 'go-template={{range .}}{{.layer.digest}}{{"\n"}}{{end}}'`,
		Flags: []cli.Flag{
			platformFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "the folder to write to"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite existing files"},
			formatFlag(),
			quietFlag("print the paths written (as without -q)"),
		},
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "reference")
			if err != nil {
				return err
			}
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			if c.String("output") == "" {
				return usagef("pull: -o DIR is required")
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
			files, err := artifact.Pull(c.Context, res.Layout, res.Descriptor, c.String("output"), c.Bool("force"))
			if err != nil {
				return err
			}
			if !o.text() {
				return o.print(c.App.Writer, files)
			}
			for _, f := range files {
				if _, err := fmt.Fprintln(c.App.Writer, f.Path); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
