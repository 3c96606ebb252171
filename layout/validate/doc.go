// Package validate checks an OCI image layout, folder or tarball, before it is pushed or
// shipped: every file, document, descriptor, blob, platform and reference in it.
//
//	rep, err := validate.Layout(ctx, "out", validate.Options{ForPush: true})
//	if err != nil {
//		return err // not found, or not a layout at all
//	}
//	for _, f := range rep.Findings {
//		fmt.Println(f.Severity, f.Check, f.Object, f.Message)
//	}
//	if rep.Errors > 0 { ... }
//
// # What is checked
//
// Layout reads the layout the way a registry or a careful client would, and goes on past
// every problem, so that one run lists them all:
//
//   - the layout's files: oci-layout (imageLayoutVersion "1.0.0"), index.json, blobs/,
//     and every name under blobs/ (stray x.tmp, .DS_Store or SHA256/ are warnings, files
//     the format does not define are notes);
//   - index.json and every index and manifest reachable from it, against the image
//     spec's schemas and the rules the layout package reads by (duplicate member names,
//     CVE-2021-41190 ambiguity, the document's mediaType against its descriptor's,
//     artifacts with the empty config and no artifactType);
//   - every descriptor, member by member: digest grammar and algorithm, size, media type,
//     artifactType, urls, annotations, embedded data, platform;
//   - every reachable blob: present, of the size every descriptor gives, and hashing to
//     its digest (Options.Jobs at a time, each byte once; with Options.Fast, sizes only);
//   - platforms inside each index (no two manifests for the same normalized platform,
//     known os and architecture values, a descriptor platform on every image manifest,
//     no contradiction with the image config or oras's platform annotations,
//     unknown/unknown only on marked attestations), created annotations in RFC 3339,
//     and the ref.name annotations of index.json (grammar, one digest per name, at most
//     one untagged image);
//   - blobs under blobs/ nothing reaches: listed, and hashed against their names; and
//     symlinks out of a layout folder, which are never read;
//   - with Options.ForPush, what registries enforce: tags in the registry grammar,
//     documents of at most 4 MiB, verifiable digests, a descriptor platform on every
//     image manifest in an index, no Docker and OCI types mixed in an index, no urls,
//     subjects present.
//
// Each check has a stable identifier and a severity; Checks lists them, and
// docs/validate.md explains each. A layout passes when its report has no error.
// Options.Strict makes every warning an error; notes never fail a layout.
//
// # Findings
//
// A Finding names its check, its severity, the object it concerns inside the layout and
// what is wrong. Objects are written so that they can be found: "oci-layout",
// "index.json", "index.json manifests[2]", a digest ("sha256:..."), a descriptor inside
// a document ("sha256:... layers[0]"), a path under blobs/, or a tag (`tag "v1"`). The
// findings of a report are sorted (errors first, then by object and check), so the same
// layout and options always give the same report.
//
// # What it does not do
//
// Config blobs are checked as blobs; of an image config only the platform members are
// read. Layout never writes and takes no lock: a layout changed while it is checked may
// give findings that hold for neither state.
package validate
