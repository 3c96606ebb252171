package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

// lsEntry is one index.json entry in `ls --format json`.
type lsEntry struct {
	Tag string `json:"tag,omitempty"`
	// Root is false for entries that are part of another entry, referrers, referrers
	// tags or of an unknown media type; NotRoot says which.
	Root    bool   `json:"root"`
	NotRoot string `json:"notRoot,omitempty"`
	*layout.TreeNode
}

type lsOutput struct {
	Layout  string    `json:"layout"`
	Entries []lsEntry `json:"entries"`
}

func lsCommand() *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list the tags, indexes and manifests of a layout",
		ArgsUsage: "REF",
		Description: `Lists REF as a tree: each index.json entry (its tag, or "(untagged)"), the
indexes under it and their manifests, with platform (os/arch[/variant][:os.version]),
artifact type or media type, size and digest. A platform missing from a descriptor
is read from the manifest's config or its oras platform annotations, and marked with
where it came from, as in "linux/arm64 (config)": clients that select by platform
(oras, regctl, docker) see only descriptor platforms, so such an image in an index
cannot be selected by them. With :TAG or @DIGEST only that entry is listed.
Entries that are not images of their own (children also listed at the top, referrers,
sha256-<hex> referrers tags, unknown media types) are marked.

Referrers (signatures, SBOMs, attestations whose subject is a listed index or manifest)
are listed under their subject as "referrer", with their artifact type and digest, and
their own referrers under them. They are found however they were recorded: untagged
index.json entries with a subject (oras attach), sha256-<hex> fallback tags (regctl),
sha256-<hex>.sig, .att and .sbom tags (cosign 2), or the
org.opencontainers.image.referrer.subject annotation.

--format json prints {"layout": PATH, "entries": [...]}, each entry with "tag",
"root", "descriptor", "platform", "platformSource" (descriptor, config or
annotations), "children" and "referrers" (each node alike, its descriptor carrying
"artifactType"); --format go-template=TEMPLATE runs a Go template over that
object. -q prints only the digest of each listed entry, one a line.

Examples:
  ocil ls ./out
  ocil ls ./out:1.2 --format json
  ocil ls ./out --format 'go-template={{range .entries}}{{.tag}} {{.descriptor.digest}}{{"\n"}}{{end}}'`,
		Flags: []cli.Flag{formatFlag(), quietFlag("print only the digest of each entry")},
		Action: func(c *cli.Context) error {
			arg, err := oneArg(c, "reference")
			if err != nil {
				return err
			}
			o, err := parseFormat(c)
			if err != nil {
				return err
			}
			ref, err := layout.ParseReference(arg)
			if err != nil {
				return err
			}
			l, err := layout.Open(ref.Path, layout.WithStdin(c.App.Reader))
			if err != nil {
				return err
			}
			defer l.Close()
			var entries []layout.Entry
			var trees []*layout.TreeNode
			var rs *layout.Referrers
			if ref.Tag != "" || ref.Digest != "" {
				res, err := l.Resolve(c.Context, ref, layout.ResolveOptions{})
				if err != nil {
					return err
				}
				entries = []layout.Entry{{Tag: res.Tag, Descriptor: res.Root, Root: true}}
				if layout.IsIndex(res.Root.MediaType) || layout.IsManifest(res.Root.MediaType) {
					tree, err := l.Tree(c.Context, []ocispec.Descriptor{res.Root})
					if err != nil {
						return fmt.Errorf("ls %s: %w", arg, err)
					}
					trees = tree
				} else {
					trees = []*layout.TreeNode{nil}
				}
				// Referrers of this entry may be recorded anywhere in index.json.
				if rs, err = l.Referrers(c.Context); err != nil {
					return fmt.Errorf("ls %s: %w", arg, err)
				}
			} else {
				if entries, trees, err = l.EntryTrees(c.Context); err != nil {
					return fmt.Errorf("ls %s: %w", arg, err)
				}
				// From the documents the trees read: each manifest is read once.
				if rs, err = l.EntryReferrers(c.Context, entries, trees); err != nil {
					return fmt.Errorf("ls %s: %w", arg, err)
				}
			}
			out := lsOutput{Layout: ref.Path, Entries: []lsEntry{}}
			for i, e := range entries {
				if trees[i] == nil {
					continue // unknown media types (application/xml...) are not listed
				}
				tree := []*layout.TreeNode{trees[i]}
				if err := l.AddReferrers(c.Context, rs, tree); err != nil {
					return fmt.Errorf("ls %s: %w", arg, err)
				}
				out.Entries = append(out.Entries, lsEntry{Tag: e.Tag, Root: e.Root, NotRoot: e.NotRoot, TreeNode: tree[0]})
			}
			switch {
			case !o.text():
				return o.print(c.App.Writer, out)
			case c.Bool("quiet"):
				bw := bufio.NewWriterSize(c.App.Writer, 64<<10)
				for _, e := range out.Entries {
					if _, err := fmt.Fprintln(bw, e.Descriptor.Digest); err != nil {
						return err
					}
				}
				return bw.Flush()
			}
			return printTree(c.App.Writer, out)
		},
	}
}

func printTree(w io.Writer, out lsOutput) error {
	// tabwriter writes every cell on its own: buffered, 100,000 entries are a few
	// writes instead of a million.
	bw := bufio.NewWriterSize(w, 64<<10)
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tPLATFORM\tTYPE\tSIZE\tDIGEST")
	for _, e := range out.Entries {
		name := e.Tag
		if name == "" {
			name = "(untagged)"
		}
		printNode(tw, name, "", e.TreeNode, e.NotRoot)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

func printNode(tw io.Writer, name, indent string, n *layout.TreeNode, note string) {
	plat := "-"
	if n.Platform != nil {
		plat = platform.Format(*n.Platform)
		if src := n.PlatformSource; src != "" && src != layout.FromDescriptor {
			// Not on the descriptor: clients that select by platform do not see it.
			plat += " (" + string(src) + ")"
		}
	}
	var notes []string
	if note != "" {
		notes = append(notes, note)
	}
	if n.Missing {
		notes = append(notes, "blob missing")
	}
	if n.Repeated {
		notes = append(notes, "listed above")
	}
	suffix := ""
	if len(notes) > 0 {
		suffix = "\t(" + strings.Join(notes, "; ") + ")"
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\n", name, plat, layout.DisplayType(n.Descriptor), progress.Bytes(n.Descriptor.Size), n.Descriptor.Digest, suffix)
	below := append(append([]*layout.TreeNode{}, n.Children...), n.Referrers...)
	for i, ch := range below {
		branch, next := "├── ", "│   "
		if i == len(below)-1 {
			branch, next = "└── ", "    "
		}
		label := kind(ch.Descriptor)
		if i >= len(n.Children) {
			label = "referrer"
		}
		printNode(tw, indent+branch+label, indent+next, ch, "")
	}
}

func kind(d ocispec.Descriptor) string {
	if layout.IsIndex(d.MediaType) {
		return "index"
	}
	return "manifest"
}
