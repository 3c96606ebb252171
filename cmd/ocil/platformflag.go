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

// platformsOpt parses a repeatable --platform flag whose every value may be a list,
// linux/amd64,linux/arm64: a ',' separates platforms except before an osver= option,
// which belongs to the platform before it (platform.ParseList).
func platformsOpt(c *cli.Context) ([]ocispec.Platform, error) {
	var out []ocispec.Platform
	for _, s := range c.StringSlice("platform") {
		ps, err := platform.ParseList(s)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}
