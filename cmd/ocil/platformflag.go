package main

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout/platform"
)

func platformFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "platform", Aliases: []string{"p"},
		Usage: "select the manifest for `PLATFORM`: os/arch[/variant][:os.version] or os(os.version)/arch[/variant]"}
}

// platformOpt parses --platform; nil when it was not given.
func platformOpt(c *cli.Context) (*ocispec.Platform, error) {
	s := c.String("platform")
	if !c.IsSet("platform") {
		return nil, nil
	}
	p, err := platform.Parse(s)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// platformsOpt parses a repeatable --platform flag.
func platformsOpt(c *cli.Context) ([]ocispec.Platform, error) {
	var out []ocispec.Platform
	for _, s := range c.StringSlice("platform") {
		p, err := platform.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
