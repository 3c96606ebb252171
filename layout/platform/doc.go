// Package platform reads, prints, normalizes and matches OCI platforms: the os,
// architecture, variant, os.version and os.features of a manifest, as written on the
// command line (--platform) and found in index descriptors.
//
// The same string gives the same result on every machine: nothing is ever filled in from
// the host the code runs on.
//
// # Writing a platform
//
// Parse accepts three spellings, which may not be mixed for the os.version:
//
//	os[(osversion[+feature...])]/arch[/variant]   containerd form
//	os/arch[/variant]:osversion                   oras and crane form
//	os/arch[/variant],osver=osversion             regclient form (also ",osversion=")
//
// Examples:
//
//	linux/amd64                               {linux amd64}
//	linux/arm64/v8                            {linux arm64 v8}
//	linux/arm64/v8:el8                        {linux arm64 v8, os.version el8}
//	windows/amd64:10.0.17763.5458             {windows amd64, os.version 10.0.17763.5458}
//	windows/amd64,osver=10.0.17763.5458       the same
//	windows(10.0.17763.5458)/amd64            the same
//	windows(10.0.17763%2Bbuild.42+win32k)/amd64
//	                                          {windows amd64, os.version 10.0.17763+build.42,
//	                                           os.features [win32k]}
//	linux(+gpu)/amd64                         {linux amd64, os.features [gpu]}
//	darwin/arm64:macOS 12.6                   {darwin arm64, os.version "macOS 12.6"}
//	darwin/arm64,osver=macOS 12.6             the same
//	darwin(macOS 12.6)/arm64                  the same
//	darwin(macOS%2012.6)/arm64                the same
//
// The rules:
//
//   - Both os and architecture are required. A single word such as "arm64" or "linux" is
//     an error ("specify os/arch"); containerd would take the other half from the host.
//     ParseWithBashbrew, for flags that name the platform of what is written (ocil add),
//     also takes docker-library's bashbrew architecture names: amd64, arm32v5, arm32v6,
//     arm32v7, arm64v8, i386, mips64le, ppc64le, riscv64, s390x (linux) and windows-amd64.
//   - The os is letters, digits, '_' and '-'; architecture and variant may also contain
//     '.' (so linux/arm64/v8.2 is accepted), but are not "." or "..".
//   - Empty components, a leading or trailing '/', more than three components, '*'
//     wildcards and non-printable characters are errors. A space is accepted in the
//     os.version and os.features only (macOS 12.6), in every form, and kept as written;
//     anywhere else, and any other whitespace (tab, newline, no-break space), is an error.
//   - Inside the parentheses, the os.version comes first and each feature follows a '+'.
//     Any other byte than letters, digits, '_', '.', '-' and a space is percent-encoded
//     there: "%2B" for '+', "%28" and "%29" for the parentheses, "%2F" for '/', "%25" for
//     '%', "%2C" for ','; "%20" for a space is decoded too. This is containerd's encoding
//     (v1.0.0-rc.3 and later).
//   - After ':', the os.version is taken verbatim, up to the end or to the first ','.
//     Only the first ':' splits: linux/amd64:a:b has os.version "a:b". It may not be
//     empty. Percent-encoding is not decoded here, and a '%' followed by two hex digits
//     is an error rather than stored as written: darwin/arm64:macOS%2012.6 would
//     otherwise name an os.version no manifest has. Write the space itself, or use the
//     os(...) form.
//   - After ',', options are key=value pairs separated by ','. The only keys are osver
//     and osversion (in any case); any other key is an error. The value is verbatim,
//     with the same rule for '%' as after ':', and may not be empty.
//   - An os.version given two ways (windows(1)/amd64:2, windows(1)/amd64,osver=2,
//     linux/amd64:1,osver=2) is an error. windows()/amd64:2 is accepted: the parentheses
//     hold no version there.
//   - The architectures armhf, armel and i386 already name a variant and take none:
//     linux/armhf/v6 is an error (containerd would silently answer arm/v7).
//
// # Lists
//
// ParseList reads the value of a flag that selects several platforms: platforms
// separated by ','. A ',' followed by NAME=VALUE (NAME of letters) continues the platform
// before it as an option instead, so the regclient form fits in a list unambiguously:
//
//	linux/amd64,linux/arm64                   two platforms
//	linux/arm64/v8,osver=el8                  one platform, os.version el8
//	linux/arm64/v8,osver=el8,linux/amd64      two platforms, the first with os.version el8
//
// No platform begins with NAME=: a platform has a '/', and its os holds no '='. No
// os.version holds a raw ',' (it ends the ':' form and is %2C inside os(...)).
//
// Every error wraps ErrInvalidPlatform and quotes the input, for example
//
//	parse platform "linux//v8": empty component
//	parse platform "arm64": specify os/arch
//
// # What Parse returns
//
// The os and architecture are lower-cased and their aliases resolved, so that what is
// written into a descriptor uses the names the OCI image spec expects (x86_64 becomes
// amd64). The variant is kept as written, lower-cased, with containerd's spelling rules:
//
//	written                  Parse returns        Normalize returns
//	Linux/X86_64             linux/amd64          linux/amd64
//	linux/x86-64             linux/amd64          linux/amd64
//	linux/amd64/v1           linux/amd64          linux/amd64
//	linux/amd64/v3           linux/amd64/v3       linux/amd64/v3
//	linux/i386               linux/386            linux/386
//	linux/aarch64            linux/arm64          linux/arm64
//	linux/arm64/v8           linux/arm64/v8       linux/arm64
//	linux/arm64/8, /v8.0     linux/arm64/v8       linux/arm64
//	linux/arm64/9, /v9.0     linux/arm64/v9       linux/arm64/v9
//	linux/arm64/v8.2         linux/arm64/v8.2     linux/arm64/v8.2
//	linux/arm                linux/arm            linux/arm/v7
//	linux/arm/7              linux/arm/v7         linux/arm/v7
//	linux/arm/6              linux/arm/v6         linux/arm/v6
//	linux/armhf              linux/arm            linux/arm/v7
//	linux/armel              linux/arm/v6         linux/arm/v6
//	macos/arm64              darwin/arm64         darwin/arm64
//
// The os.version is never changed. os.features are sorted and de-duplicated.
//
// # Normalization
//
// Normalize applies the rules of containerd/platforms, shown in the last column above:
// everything lower-cased; macos is darwin; x86_64 and x86-64 are amd64, and amd64/v1 is
// amd64; i386 is 386 with no variant; aarch64 is arm64, and arm64 with variant 8, v8 or
// v8.0 has no variant, 9, 9.0 or v9.0 is v9; armhf is arm/v7 and armel arm/v6; arm with
// no variant or 7 is arm/v7, and 5, 6, 8 are v5, v6, v8; os.features are sorted and
// de-duplicated. One difference: containerd replaces an empty os with the host's, while
// Normalize leaves it empty, so a descriptor that lacks an os never turns into a platform
// of the machine reading it.
//
// Matching and Equal normalize both sides, so linux/arm64/v8, linux/arm64 and
// linux/aarch64 are the same platform, and so are linux/arm, linux/arm/v7 and
// linux/armhf.
//
// # Printing
//
// Format prints os/arch[/variant][:osversion], the form ocil lists platforms in, the
// os.version as it is (spaces included). A platform with os.features, or with an
// os.version containing other characters than letters, digits, spaces and ". _ - + ~ :",
// is printed in the containerd form with percent-encoding instead:
//
//	{linux arm64 v8, os.version el8}                 linux/arm64/v8:el8
//	{windows amd64, os.version 10.0.17763+build.42}  windows/amd64:10.0.17763+build.42
//	{windows amd64, os.version 10.0.17763, [win32k]} windows(10.0.17763+win32k)/amd64
//	{darwin arm64, os.version macOS 12.6}            darwin/arm64:macOS 12.6
//	{linux amd64, os.version a,b}                    linux(a%2Cb)/amd64
//
// Parse(Format(p)) is p for every p that Parse returns. Format prints fields as they are
// and does not normalize.
//
// # Matching
//
// NewMatcher(want).Match(have) has containerd's OnlyStrict semantics for os, architecture
// and variant: after normalization they must be equal, with no fallback to a lesser
// platform. A request for linux/amd64 never selects linux/386, and linux/arm/v7 never
// selects linux/arm/v6. linux/arm64/v8 selects arm64, arm64/v8 and aarch64 entries;
// linux/arm64/v8.2 selects only arm64/v8.2.
//
// os.version: a request without one accepts any os.version. A request with one requires
// it on every operating system, Windows or not: have's os.version must be equal, or
// start with the same whole dot-separated components and continue with more. So
// 10.0.17763 selects 10.0.17763 and 10.0.17763.5458 but not 10.0.20348.1, and 10.0.1776
// does not select 10.0.17763.5458 (components are compared, not characters). el8 selects
// el8 only, not el9 or el. An entry without an os.version never satisfies a request that
// has one. Comparison is case-sensitive.
//
// os.features: every feature of the request must be among the entry's; a request without
// features accepts any. linux(+gpu)/amd64 selects {linux amd64 [gpu]} and
// {linux amd64 [gpu simd]}, not {linux amd64}.
//
// An entry whose platform lacks an os or an architecture matches nothing; the zero
// Matcher, or one built from a platform lacking either, matches nothing either.
//
// Equal(a, b) is the stricter test for duplicates: the same normalized os, architecture
// and variant, exactly the same os.version and the same set of os.features.
//
// # Attestations
//
// buildkit stores attestation manifests in an index with the platform unknown/unknown.
// IsUnknown recognizes them, so that callers can skip them or keep them with the image
// they describe. A Matcher matches unknown/unknown only when asked for exactly
// unknown/unknown. A missing platform (nil) is not unknown/unknown.
//
// # Differences from other tools
//
// containerd/platforms: a single component is an error here instead of a host default;
// Normalize never inserts the host os; os.version is matched on every os, by components,
// instead of only on Windows with build-number ranges; for os.features the request's
// must be a subset of the entry's, where containerd requires the entry's to be a subset
// of the matcher's (the host's); Format includes the os.version and features (like
// containerd's FormatAll) but prefers the os/arch:osversion spelling; armhf, armel and i386
// take no variant; "." and ".." are not components; the ':' and ',osver=' forms are
// accepted, and a space in the os.version may be written as is inside os(...).
//
// oras: names are lower-cased and normalized on both sides, so aarch64 matches arm64 and
// a linux/arm64/v8 request matches an entry without a variant; a single component is an
// error instead of taking the host architecture; os.version matches by leading
// components instead of exact equality.
//
// regclient: '.' is accepted in components (linux/arm64/v8.2); "local" is not the host
// platform; os.version is compared on Linux too, and on Windows every component of the
// request must match where regclient compares only the first three (10.0.17763.1234 does
// not select 10.0.17763.5678 here, 10.0.17763 does); no lower variant is accepted as
// compatible.
package platform
