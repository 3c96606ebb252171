package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves a command's flags in front of its positional arguments, so that
// `ocil resolve ./out:1.2 --platform linux/arm64` works as people type it (the flag
// package stops at the first positional argument). Everything after "--" stays positional.
func interspersed(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 || args[len(args)-1] == "--generate-bash-completion" {
		return args, nil
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		i++
	}
	if i >= len(args) {
		return args, nil
	}
	if args[i] == "help" {
		return args, nil
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return nil, usagef("unknown command %q (see ocil --help)", args[i])
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	rest := args[i+1:]
	var flags, positional []string
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			positional = append(positional, rest[j:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' || a[1] == ':' || a[1] == '@' {
			// "-", "-:TAG" and "-@DIGEST" name standard input or output.
			positional = append(positional, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if name == "h" || name == "help" {
			// Help wins over everything else, wherever it is.
			return append(append([]string{}, args[:i+1]...), "--help"), nil
		}
		flags = append(flags, a)
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue[name] {
			if j+1 >= len(rest) {
				return nil, usagef("%s: flag %s needs a value", cmd.Name, a)
			}
			flags = append(flags, rest[j+1])
			j++
		}
	}
	out := append(append([]string{}, args[:i+1]...), flags...)
	if len(positional) > 0 && positional[0] != "--" {
		out = append(out, "--")
	}
	return append(out, positional...), nil
}
