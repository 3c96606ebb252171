package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout"
)

func gcCommand() *cli.Command {
	return &cli.Command{
		Name:      "gc",
		Usage:     "remove blobs nothing in index.json reaches, and temp files of killed writers",
		ArgsUsage: "LAYOUT",
		Description: `Removes every blob that no index.json entry reaches and the temp files
(.ocil-tmp-*) that killed writers left, and prints each with its size and the bytes
freed. It is safe beside running ocil writers: they hold the layout's ingest lock shared
from their first blob to their index.json change, and gc takes it exclusively, so a blob
written but not yet referenced is never taken. Tools that do not know that lock (oras,
buildkit) are covered by --grace: files changed more recently are kept.

Referrers (signatures, SBOMs: see ocil ls) are kept while their subject is reachable.
Those whose subject nothing reaches any more are dropped from index.json first, with
their sha256-<hex> fallback tags and their own referrers, and their blobs removed; a
referrer with a tag of its own (not a fallback tag) is kept as an image of its own.

gc removes nothing when an index or manifest is missing or unreadable (it names it),
or when blobs/ or a folder in it is a symbolic link. It removes regular files only:
in blobs/<alg>/ for sha256, sha512 and blake3, names that are the algorithm's hex
digest or .ocil-tmp-*; in the layout folder, the .ocil-tmp-* files of index.json and
oci-layout. Symbolic links, and the files those in blobs/ lead to, are kept.
--format json prints what was (or would be) removed, the index.json entries of
referrers dropped ("referrers") and the bytes freed;
--format go-template=TEMPLATE runs a Go template over that object.

Examples:
  ocil gc ./out --dry-run
  ocil gc ./out --grace 0
  ocil gc ./out --dry-run -q`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print what would be removed; remove nothing"},
			&cli.DurationFlag{Name: "grace", Value: 0, Usage: "keep unreachable files changed less than `DURATION` ago (for writers other than ocil)"},
			&cli.DurationFlag{Name: "lock-timeout", Value: layout.DefaultLockTimeout, Usage: "how long to wait for running writers"},
			formatFlag(),
			quietFlag("print only the paths removed, one a line"),
		},
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "layout")
			if err != nil {
				return err
			}
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			if arg, err = layoutArg(c, arg); err != nil {
				return err
			}
			l, err := layout.Open(arg, layout.WithLockTimeout(c.Duration("lock-timeout")))
			if err != nil {
				return err
			}
			defer l.Close()
			res, err := l.GC(c.Context, layout.GCOptions{DryRun: c.Bool("dry-run"), Grace: c.Duration("grace")})
			if err != nil {
				return err
			}
			w := c.App.Writer
			if !o.text() {
				return o.print(w, res)
			}
			if c.Bool("quiet") {
				for _, r := range res.Removed {
					if _, err := fmt.Fprintln(w, r.Path); err != nil {
						return err
					}
				}
				return nil
			}
			verb := "removed"
			if c.Bool("dry-run") {
				verb = "would remove"
			}
			for _, d := range res.Referrers {
				what := "referrer entry"
				if tag := layout.TagOf(d); tag != "" {
					what = "referrers tag " + tag
				}
				fmt.Fprintf(w, "%s %s %s (its subject is gone)\n", verb, what, d.Digest)
			}
			for _, r := range res.Removed {
				fmt.Fprintf(w, "%s %s %s (%s)\n", verb, r.Kind, r.Path, progress.Bytes(r.Size))
			}
			_, err = fmt.Fprintf(w, "%s %s, %s", verb, count(len(res.Removed), "file"), progress.Bytes(res.Bytes))
			if err == nil && res.Spared > 0 {
				_, err = fmt.Fprintf(w, "; kept %d younger than --grace", res.Spared)
			}
			if err == nil {
				_, err = fmt.Fprintln(w)
			}
			return err
		},
	}
}
