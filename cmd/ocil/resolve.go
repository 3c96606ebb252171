package main

import (
	"bytes"
	"fmt"
	"text/template"

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
platform, the platform found in its config is filled in. --format '{{...}}' runs a Go
template over that descriptor (fields Digest, MediaType, Size, Platform, Annotations, ...).

Examples:
  ocil resolve ./out:1.2 --platform linux/arm64/v8:el8
  ocil resolve ./layout --format json
  ocil resolve ./layout:v1 --platform linux/amd64 --format '{{.Size}}'`,
		Flags: []cli.Flag{platformFlag(), formatFlag(true)},
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "reference")
			if err != nil {
				return err
			}
			format := c.String("format")
			var tmpl *template.Template
			if err := checkFormat(format, true); err != nil {
				return err
			}
			if format != "text" && format != "json" {
				if tmpl, err = template.New("format").Option("missingkey=error").Parse(format); err != nil {
					return usagef("--format: %v", err)
				}
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
			out := c.App.Writer
			switch {
			case format == "json":
				return writeJSON(out, res.Descriptor)
			case tmpl != nil:
				// Into a buffer first: a template that fails half-way prints nothing.
				var buf bytes.Buffer
				if err := tmpl.Execute(&buf, res.Descriptor); err != nil {
					return usagef("--format: %v", err)
				}
				_, err = fmt.Fprintln(out, buf.String())
				return err
			}
			_, err = fmt.Fprintln(out, res.Descriptor.Digest)
			return err
		},
	}
}
