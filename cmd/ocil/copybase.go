package main

import (
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
)

// baseFlag is copy's --base: one layout or tarball per use, the path as typed.
func baseFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "base", Usage: "make a delta: leave out every layer `OLD` (a layout or tarball the far side has) holds, and record it (repeatable)"}
}

// openBases opens every --base before anything is read or written, so an unreadable
// base fails naming it; close them with the returned function.
func openBases(c *cli.Context) ([]*layout.Base, func(), error) {
	var bases []*layout.Base
	closeAll := func() {
		for _, b := range bases {
			b.Layout.Close()
		}
	}
	for _, p := range c.StringSlice("base") {
		b, err := layout.OpenBase(c.Context, p)
		if err != nil {
			closeAll()
			return nil, func() {}, err
		}
		bases = append(bases, b)
	}
	return bases, closeAll, nil
}
