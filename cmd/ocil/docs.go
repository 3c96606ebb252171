package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// commandDoc renders one command's reference page (docs/cli/ocil_NAME.md) from the
// command tree, so the pages cannot drift from --help: a test fails when they are stale.
func commandDoc(c *cli.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# ocil %s\n\n%s\n\n", c.Name, c.Usage)
	fmt.Fprintf(&b, "```\nocil %s %s\n```\n\n", c.Name, c.ArgsUsage)
	if c.Description != "" {
		desc, examples, _ := strings.Cut(c.Description, "\nExample")
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(desc))
		if examples != "" {
			lines := strings.Split(examples, "\n")[1:]
			fmt.Fprintf(&b, "## Examples\n\n```sh\n")
			for _, l := range lines {
				if t := strings.TrimSpace(l); t != "" {
					fmt.Fprintln(&b, t)
				}
			}
			fmt.Fprintf(&b, "```\n\n")
		}
	}
	if len(c.Flags) > 0 {
		fmt.Fprintf(&b, "## Flags\n\n| flag | default | meaning |\n| --- | --- | --- |\n")
		for _, f := range c.Flags {
			names := f.Names()
			var parts []string
			for _, n := range names {
				if len(n) == 1 {
					parts = append(parts, "`-"+n+"`")
				} else {
					parts = append(parts, "`--"+n+"`")
				}
			}
			usage, def := "", ""
			if df, ok := f.(cli.DocGenerationFlag); ok {
				usage = df.GetUsage()
				if df.TakesValue() {
					def = df.GetDefaultText()
					if def == "" {
						def = df.GetValue()
					}
				}
			}
			usage = strings.ReplaceAll(usage, "`", "")
			usage = strings.ReplaceAll(usage, "|", `\|`)
			if def != "" {
				def = "`" + def + "`"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.Join(parts, ", "), def, usage)
		}
		b.WriteString("\n")
	}
	b.WriteString("See also: [all commands](README.md).\n")
	return b.String()
}

// commandIndex renders docs/cli/README.md.
func commandIndex(app *cli.App) string {
	var b strings.Builder
	b.WriteString("# ocil command reference\n\nGenerated from the command tree (`go test ./cmd/ocil -update` rewrites it; a test fails when it is stale).\n\n")
	cmds := append([]*cli.Command{}, app.Commands...)
	sort.SliceStable(cmds, func(i, j int) bool { return false })
	b.WriteString("| command | what it does |\n| --- | --- |\n")
	for _, c := range cmds {
		if c.Hidden || c.Name == "help" {
			continue
		}
		fmt.Fprintf(&b, "| [`ocil %s`](ocil_%s.md) | %s |\n", c.Name, c.Name, c.Usage)
	}
	b.WriteString("\nExit codes: 0 success, 1 the operation failed (not found, ambiguous, mismatch, conflict, invalid layout, lock timeout), 2 bad usage or bad input syntax.\n")
	return b.String()
}
