package layout

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseReference(t *testing.T) {
	const dg = "sha256:0c59c9e6f0b4a4818672123392c966bc2ff641f4d0841da2e59ec2701457c0da"
	onDisk := map[string]bool{"out": true, "dir:with:colons": true, "build/out": true, "a@b": true, "oci:x": true, "oci": true}
	exists := func(p string) bool { return onDisk[p] }
	tests := []struct {
		in   string
		want Reference
		err  bool
	}{
		{in: "out", want: Reference{Path: "out"}},
		{in: "out:v1", want: Reference{Path: "out", Tag: "v1"}},
		{in: "out@" + dg, want: Reference{Path: "out", Digest: dg}},
		{in: "out:v1@" + dg, want: Reference{Path: "out", Tag: "v1", Digest: dg}},
		// A tag may hold ':' and '/' (C26): the path is what exists on disk.
		{in: "out:docker.io/library/alpine:3.19", want: Reference{Path: "out", Tag: "docker.io/library/alpine:3.19"}},
		{in: "out:team/app:1.2@" + dg, want: Reference{Path: "out", Tag: "team/app:1.2", Digest: dg}},
		// A tag with '@' that is not followed by a digest stays a tag.
		{in: "out:a@b+c", want: Reference{Path: "out", Tag: "a@b+c"}},
		// The longest existing prefix wins: a folder whose name has ':' or '@'.
		{in: "dir:with:colons", want: Reference{Path: "dir:with:colons"}},
		{in: "dir:with:colons:v2", want: Reference{Path: "dir:with:colons", Tag: "v2"}},
		{in: "a@b", want: Reference{Path: "a@b"}},
		{in: "build/out:1.2", want: Reference{Path: "build/out", Tag: "1.2"}},
		// Paths that do not exist (new outputs) end at the first ':' or '@'.
		{in: "new:1.2", want: Reference{Path: "new", Tag: "1.2"}},
		{in: "new/sub:team/app", want: Reference{Path: "new/sub", Tag: "team/app"}},
		{in: "new", want: Reference{Path: "new"}},
		// The transports of skopeo, regctl and buildx are dropped; a path on disk that
		// includes one (oci:x) still wins, a path that is only the scheme's name (oci) not.
		{in: "oci:out:v1", want: Reference{Transport: "oci:", Path: "out", Tag: "v1"}},
		{in: "oci:out", want: Reference{Transport: "oci:", Path: "out"}},
		{in: "oci:new", want: Reference{Transport: "oci:", Path: "new"}},
		{in: "oci-archive:new.img:1.2", want: Reference{Transport: "oci-archive:", Path: "new.img", Tag: "1.2"}},
		{in: "ocidir://out@" + dg, want: Reference{Transport: "ocidir://", Path: "out", Digest: dg}},
		{in: "oci-layout://build/out:1.2", want: Reference{Transport: "oci-layout://", Path: "build/out", Tag: "1.2"}},
		{in: "oci:dir:with:colons:v2", want: Reference{Transport: "oci:", Path: "dir:with:colons", Tag: "v2"}},
		{in: "oci:/abs/new:team/app:1", want: Reference{Transport: "oci:", Path: "/abs/new", Tag: "team/app:1"}},
		{in: "oci:x", want: Reference{Path: "oci:x"}},
		{in: "oci:x:v1", want: Reference{Path: "oci:x", Tag: "v1"}},
		{in: "oci:oci:v1", want: Reference{Transport: "oci:", Path: "oci", Tag: "v1"}},
		// "-" is standard input or output.
		{in: "-", want: Reference{Path: "-"}},
		{in: "-:1.2", want: Reference{Path: "-", Tag: "1.2"}},
		{in: "oci:", err: true},
		{in: "ocidir://", err: true},
		{in: "oci::v1", err: true},
		{in: "oci-archive:out:", err: true},
		{in: "", err: true},
		{in: "out:", err: true},
		{in: "out:@" + dg, err: true},
		{in: "out@", err: true},
		{in: "out@sha256:abc", err: true},
		{in: "out@sha256:../../etc/passwd", err: true},
		{in: ":tag", err: true},
		{in: "@" + dg, err: true},
		{in: "out\x00:v1", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseReference(tt.in, exists)
			if tt.err {
				if !errors.Is(err, ErrInvalidReference) {
					t.Fatalf("parseReference(%q) = %+v, %v; want ErrInvalidReference", tt.in, got, err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
					t.Fatalf("error %q does not quote the input", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseReference(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestValidateRefName(t *testing.T) {
	valid := []string{"latest", "v1.0.0-vendor.0", "docker.io/library/alpine:3.19", "foo--bar", "a@b+c", "1.0", "alpine@sha256:abc", "A_b"}
	invalid := []string{"", "-x", "x-", "a__b", "a---b", "a//b", "/a", "a/", "a b", "tag:", "ümlaut", "_foo", "a\nb"}
	for _, s := range valid {
		if err := ValidateRefName(s); err != nil {
			t.Errorf("C26 ValidateRefName(%q) = %v, want valid", s, err)
		}
	}
	for _, s := range invalid {
		if err := ValidateRefName(s); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("C27 ValidateRefName(%q) = %v, want ErrInvalidReference", s, err)
		}
	}
}

// FuzzParseReference: never panics; whatever parses formats back to the same text and
// parses again to the same reference, and its digest is valid.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"out", "out:v1", "out:a/b:c@sha256:0c59c9e6f0b4a4818672123392c966bc2ff641f4d0841da2e59ec2701457c0da", "x@y", ":", "a:b:c", "out:a@b",
		"oci:out:v1", "oci-archive:a:b:c", "ocidir://out@sha256:0c59c9e6f0b4a4818672123392c966bc2ff641f4d0841da2e59ec2701457c0da",
		"oci-layout://x:y", "oci:", "oci:oci:x", "oci-archive:oci:a:b", "-", "-:v1", "oci:-"} {
		f.Add(s)
	}
	onDisk := map[string]bool{"out": true, "a:b": true, "oci:a": true}
	exists := func(p string) bool { return onDisk[p] }
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseReference(s, exists)
		if err != nil {
			if !errors.Is(err, ErrInvalidReference) {
				t.Fatalf("error %v is not ErrInvalidReference", err)
			}
			return
		}
		if r.Path == "" {
			t.Fatalf("%q: empty path", s)
		}
		if r.Digest != "" {
			if err := ValidateDigest(r.Digest); err != nil {
				t.Fatalf("%q: accepted digest %q", s, r.Digest)
			}
		}
		if r.String() != s {
			t.Fatalf("%q formats back as %q", s, r.String())
		}
		again, err := parseReference(r.String(), exists)
		if err != nil || again != r {
			t.Fatalf("%q: reparse gives %+v, %v; want %+v", s, again, err, r)
		}
	})
}
