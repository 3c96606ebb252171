package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// manPage renders docs/ocil.1, the section 1 man page, from the command tree and the
// program's documentation (about.go). It writes roff itself rather than converting
// markdown, so that every character of the help texts reaches the reader as written:
// a platform such as windows(10.0.17763)/amd64 is not taken for a link.
func manPage(app *cli.App) string {
	var b strings.Builder
	b.WriteString(".\\\" Generated from the command tree by go test ./cmd/ocil -update; do not edit.\n")
	b.WriteString(".TH OCIL 1 \"\" \"ocil\" \"User Commands\"\n.nh\n.ad l\n")
	fmt.Fprintf(&b, ".SH NAME\nocil \\- %s\n", roffText(app.Usage))
	b.WriteString(".SH SYNOPSIS\n")
	b.WriteString(".B ocil\n.I command\n[\\fIoptions\\fR] [\\fIarguments\\fR]\n")
	b.WriteString(".SH DESCRIPTION\n")
	roffParagraphs(&b, aboutText)
	b.WriteString(".SH COMMANDS\n")
	for _, c := range app.Commands {
		if c.Hidden || c.Name == "help" {
			continue
		}
		fmt.Fprintf(&b, ".SS \"ocil %s %s\"\n", c.Name, roffText(c.ArgsUsage))
		b.WriteString(roffText(c.Usage) + ".\n")
		desc, ex, _ := strings.Cut(c.Description, "\nExample")
		if d := strings.TrimSpace(desc); d != "" {
			b.WriteString(".PP\n")
			roffParagraphs(&b, d)
		}
		if ex != "" {
			b.WriteString(".PP\nExamples:\n.RS\n.nf\n")
			for _, l := range strings.Split(ex, "\n")[1:] {
				if t := strings.TrimSpace(l); t != "" {
					b.WriteString(roffLine(t) + "\n")
				}
			}
			b.WriteString(".fi\n.RE\n")
		}
		for _, f := range c.Flags {
			roffFlag(&b, f)
		}
	}
	b.WriteString(".SH \"EXIT STATUS\"\n")
	for _, s := range exitStatuses {
		fmt.Fprintf(&b, ".TP\n.B %d\n%s\n", s.code, roffText(s.meaning))
	}
	b.WriteString(".SH ENVIRONMENT\n")
	for _, e := range environment {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", e.name, roffText(e.meaning))
	}
	b.WriteString(".SH EXAMPLES\n.nf\n")
	for _, e := range appExamples {
		b.WriteString(roffLine(e) + "\n")
	}
	b.WriteString(".fi\n.SH \"SEE ALSO\"\n")
	b.WriteString("ocil \\fIcommand\\fR \\-\\-help; the reference pages in docs/cli and the design notes in docs/design\\-notes.md of the source tree.\n")
	return b.String()
}

// roffFlag renders one flag as a tagged paragraph: its names, its value, its meaning.
func roffFlag(b *strings.Builder, f cli.Flag) {
	var names []string
	for _, n := range f.Names() {
		dash := "\\-\\-"
		if len(n) == 1 {
			dash = "\\-"
		}
		names = append(names, "\\fB"+dash+roffText(n)+"\\fR")
	}
	usage, def, takes := "", "", false
	if df, ok := f.(cli.DocGenerationFlag); ok {
		usage, takes = df.GetUsage(), df.TakesValue()
		if takes {
			if def = df.GetDefaultText(); def == "" {
				def = df.GetValue()
			}
		}
	}
	head := strings.Join(names, ", ")
	if takes {
		head += " \\fIVALUE\\fR"
	}
	usage = strings.ReplaceAll(usage, "`", "")
	fmt.Fprintf(b, ".TP\n%s\n%s", head, roffText(usage))
	if def != "" && def != "0" && def != `""` {
		fmt.Fprintf(b, " (default: %s)", roffText(def))
	}
	b.WriteString("\n")
}

// roffParagraphs renders plain help text: blank lines separate paragraphs, and a line
// indented by two spaces is shown as written, unfilled.
func roffParagraphs(b *strings.Builder, text string) {
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		verbatim := false
		for _, l := range strings.Split(para, "\n") {
			indented := strings.HasPrefix(l, "  ")
			switch {
			case indented && !verbatim:
				b.WriteString(".RS\n.nf\n")
			case !indented && verbatim:
				b.WriteString(".fi\n.RE\n")
			}
			verbatim = indented
			if indented {
				l = strings.TrimSpace(l)
			}
			b.WriteString(roffLine(l) + "\n")
		}
		if verbatim {
			b.WriteString(".fi\n.RE\n")
		}
	}
}

// roffLine escapes one line of text for roff, including a leading . or ' that would
// otherwise make it a request.
func roffLine(s string) string {
	s = roffText(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = "\\&" + s
	}
	return s
}

// roffText escapes backslashes and hyphens (so that options copy and paste as ASCII
// hyphen-minus) within a line.
func roffText(s string) string {
	return strings.NewReplacer("\\", "\\e", "-", "\\-").Replace(s)
}
