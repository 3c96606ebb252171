package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is stamped by the build (-ldflags "-X main.version=v1.2.3"); otherwise it is
// taken from the module version that go install recorded.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version of ocil",
		Description: `Prints "ocil VERSION OS/ARCH GOVERSION"; -q prints the version only;
--format json prints {"version", "os", "arch", "go"}, and --format
go-template=TEMPLATE runs a Go template over that object.

Examples:
  ocil version
  ocil version --format 'go-template={{.version}}'`,
		Flags: []cli.Flag{formatFlag(), quietFlag("print the version only")},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("version: takes no arguments")
			}
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			switch {
			case !o.text():
				return o.print(c.App.Writer, map[string]string{"version": versionString(), "os": runtime.GOOS, "arch": runtime.GOARCH, "go": runtime.Version()})
			case c.Bool("quiet"):
				_, err = fmt.Fprintln(c.App.Writer, versionString())
				return err
			}
			_, err = fmt.Fprintf(c.App.Writer, "ocil %s %s/%s %s\n", versionString(), runtime.GOOS, runtime.GOARCH, runtime.Version())
			return err
		},
	}
}
