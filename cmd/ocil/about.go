package main

import (
	"fmt"
	"strings"
)

// The program's own documentation, shared by ocil --help and the man page (docs/ocil.1),
// so that the two say the same.

// aboutText is what ocil works on: references, formats and platforms.
const aboutText = `ocil reads OCI image layouts: folders with oci-layout, index.json and blobs/.
A reference names a layout (a folder or tarball) and optionally an entry in it:
  PATH  PATH:TAG  PATH@DIGEST  PATH:TAG@DIGEST
The prefixes other tools print are accepted: oci:PATH[:TAG] and oci-archive:PATH[:TAG]
(skopeo), ocidir://PATH[:TAG] (regctl), oci-layout://PATH[:TAG] (buildx); a path on
disk that starts so still wins. PATH - is a tarball on standard input or output.
--format json or go-template=TEMPLATE, and -q, work on every command that prints a
result (cat prints the document itself).
A platform is os/arch[/variant][:os.version] (linux/arm64/v8:el8),
os/arch[/variant],osver=os.version (linux/arm64/v8,osver=el8) or
os(os.version)/arch[/variant] (windows(10.0.17763)/amd64); an os.version may hold
spaces ("darwin/arm64:macOS 14"). Flag values are taken as written: never split at
commas, except where a flag takes a list of platforms (copy, rm).`

// exitStatuses are the exit codes and what each means.
var exitStatuses = []struct {
	code           int
	short, meaning string
}{
	{exitOK, "success", "success"},
	{exitFailed, "failed: not found, not an OCI image layout, an unsafe or damaged tarball,\n     ambiguous, digest or size mismatch, conflict, lock timeout, errors found by\n     validate",
		"the operation failed: not found, not an OCI image layout, an unsafe or damaged tarball, ambiguous, digest or size mismatch, conflict, lock timeout, errors found by validate; or a first SIGINT or SIGTERM stopped it (temp files removed, locks released)"},
	{exitUsage, "bad usage or syntax: an unknown command or flag, a reference, platform, digest\n     or option value that does not parse",
		"bad usage or syntax: an unknown command or flag, a reference, platform, digest or option value (an environment variable too) that does not parse"},
	{128 + 2, "a second SIGINT", "a second SIGINT ended ocil at once, even mid system call; ocil gc removes what it left"},
	{128 + 15, "a second SIGTERM", "a second SIGTERM, likewise"},
}

// environment lists the variables ocil reads.
var environment = []struct {
	name, meaning string
}{
	{"SOURCE_DATE_EPOCH", "Unix seconds: the time stamp of tarball entries ocil writes (else 1970) and the default of merge --created (else none), for reproducible output."},
	{"TMPDIR", "where a tarball read from standard input is spooled and where the layout files of a compressed tarball are unpacked (default /tmp)."},
	{"OCIL_TAR_MAX_RATIO", "how many times its size a compressed tarball may expand before it is refused as a decompression bomb (default 100; 64 MiB is always allowed)."},
	{"OCIL_TAR_MAX_BYTES", "how many bytes a compressed tarball may expand to in all (default 256GiB; a number of bytes, or with KiB, MiB, GiB or TiB). A value of either that is not a number is a usage error (exit 2)."},
	{"TERM", "dumb: no progress bar is drawn."},
}

// appExamples are the examples of ocil --help and the man page.
var appExamples = []string{
	"ocil ls ./out",
	"ocil resolve ./out:1.2 --platform linux/arm64/v8:el8",
	"ocil resolve oci:./out:1.2 --platform linux/amd64:el9 --format 'go-template={{.digest}} {{.size}}'",
	"ocil copy ./out:1.2 - | ssh host ocil copy - /srv/layout",
}

// appDescription is the text of ocil --help.
func appDescription() string {
	var b strings.Builder
	b.WriteString(aboutText)
	b.WriteString("\n\nExit codes, the same for the same error from every command:\n")
	for _, s := range exitStatuses[:3] {
		fmt.Fprintf(&b, "  %d  %s\n", s.code, s.short)
	}
	b.WriteString(`A first SIGINT or SIGTERM stops ocil cleanly (temp files removed, locks released,
exit 1); a second one ends it at once, even mid system call, with 130 (SIGINT) or
143 (SIGTERM), and ocil gc removes what it left.

A compressed tarball is refused as a decompression bomb when it expands to more than
100 times its size (64 MiB always allowed) or 256 GiB; OCIL_TAR_MAX_RATIO and
OCIL_TAR_MAX_BYTES (bytes, or with KiB, MiB, GiB, TiB) raise the bounds.
SOURCE_DATE_EPOCH sets the time stamps of what ocil writes; TMPDIR is where it spools.
See man ocil (docs/ocil.1) for the environment in full.

Examples:
`)
	for _, e := range appExamples {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
