package validate

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

// knownOS and knownArch are the values of GOOS and GOARCH that Go ports to (go tool
// dist list), which the image spec takes its platform values from, and "unknown", which
// buildkit puts on attestation manifests.
var (
	knownOS = set("aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js",
		"linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "unknown")
	knownArch = set("386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le",
		"mipsle", "ppc64", "ppc64le", "riscv64", "s390x", "wasm", "unknown")
)

func set(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, s := range values {
		m[s] = true
	}
	return m
}

// platformValues warns about an os or architecture that is not a GOOS or GOARCH value.
// An alias that normalizes to one (aarch64, x86_64, Linux) gets the spelling to use:
// oras and other tools compare platforms exactly and would not match it.
func (v *validator) platformValues(p ocispec.Platform, object string) {
	n := platform.Normalize(p)
	check := func(field, goName, value, normalized string, known map[string]bool) {
		switch {
		case known[value]:
		case known[normalized]:
			v.add(checkPlatformUnknown, object, "platform %s %q is spelled %q in OCI platforms; tools that compare exactly (oras) will not match it", field, value, normalized)
		default:
			v.add(checkPlatformUnknown, object, "platform %s %q is not a known %s value", field, value, goName)
		}
	}
	check("os", "GOOS", p.OS, n.OS, knownOS)
	check("architecture", "GOARCH", p.Architecture, n.Architecture, knownArch)
}

// Annotations with which oras carries an artifact's platform on its manifest.
const (
	orasPlatformOS           = "land.oras.artifact.platform.os"
	orasPlatformArchitecture = "land.oras.artifact.platform.architecture"
	orasPlatformVariant      = "land.oras.artifact.platform.variant"
	orasPlatformOSVersion    = "land.oras.artifact.platform.osversion"
)

// imageConfig holds the platform members of an OCI or Docker image config.
type imageConfig struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
	OSVersion    string `json:"os.version"`
}

func (c *imageConfig) platform() ocispec.Platform {
	return ocispec.Platform{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant, OSVersion: c.OSVersion}
}

// checkPlatforms checks, once the whole graph was read, what needs an index's children
// and their manifests and configs together: image manifests without a descriptor
// platform, descriptor platforms and oras annotations against the image config, and
// unknown/unknown children not marked as attestations.
func (v *validator) checkPlatforms() {
	for _, l := range v.listings {
		for _, c := range l.children {
			if !c.ok {
				continue
			}
			p := c.d.Platform
			if p != nil && platform.IsUnknown(p) && c.d.Annotations[layout.AnnotationReferenceType] != layout.ReferenceTypeAttestation {
				v.add(checkPlatformUnmarked, c.object, "platform unknown/unknown without the annotation %s: %s; clients and users take it for an image of its own", layout.AnnotationReferenceType, layout.ReferenceTypeAttestation)
			}
			if !layout.IsManifest(c.d.MediaType) || layout.IsAttestation(c.d) {
				continue
			}
			doc := v.docs[c.d.Digest]
			if doc == nil || !doc.read || doc.config == nil || !layout.IsImageConfig(doc.config.MediaType) {
				continue
			}
			cfg := v.imageConfigOf(*doc.config)
			switch {
			case p == nil && !l.top:
				says := ""
				if cfg != nil {
					says = fmt.Sprintf(" (its config says %s)", platform.Format(cfg.platform()))
				}
				check := checkPlatformMissing
				if v.opts.ForPush {
					check = checkPushPlatform
				}
				v.add(check, c.object, "an image manifest with no platform on its descriptor%s; oras, regctl, docker and containerd select by the descriptor and find no match: put the platform on the descriptor (ocil merge does)", says)
			case p != nil && cfg != nil:
				if diff := platformConflicts(*p, cfg.platform()); diff != "" {
					v.add(checkPlatformConfig, c.object, "the descriptor says %s, the image config %s (%s differs); clients that select %s get an image for %s",
						platform.Format(*p), platform.Format(cfg.platform()), diff, platform.Format(*p), platform.Format(cfg.platform()))
				}
			}
		}
	}
	for _, b := range v.order {
		doc := v.docs[b.digest]
		if doc == nil || !doc.read || doc.config == nil {
			continue
		}
		a := doc.annotations
		ap := ocispec.Platform{OS: a[orasPlatformOS], Architecture: a[orasPlatformArchitecture], Variant: a[orasPlatformVariant], OSVersion: a[orasPlatformOSVersion]}
		if ap.OS == "" && ap.Architecture == "" && ap.Variant == "" && ap.OSVersion == "" {
			continue
		}
		cfg := v.imageConfigOf(*doc.config)
		if cfg == nil {
			continue
		}
		if diff := platformConflicts(ap, cfg.platform()); diff != "" {
			v.add(checkPlatformOras, string(b.digest), "the land.oras.artifact.platform.* annotations say %s, the image config %s (%s differs); oras selects by the annotations, ocil and others by the config",
				platform.Format(ap), platform.Format(cfg.platform()), diff)
		}
	}
}

// hasOrasPlatform tells whether a holds any of the land.oras.artifact.platform.*
// annotations checkPlatforms compares with the image config.
func hasOrasPlatform(a map[string]string) bool {
	for _, k := range []string{orasPlatformOS, orasPlatformArchitecture, orasPlatformVariant, orasPlatformOSVersion} {
		if _, ok := a[k]; ok {
			return true
		}
	}
	return false
}

// platformConflicts names the members in which have contradicts the image config's
// platform cfg, "" when none does. Both sides are normalized (arm64/v8 is arm64); a
// member empty on either side contradicts nothing, and a variant only when the config
// has one.
func platformConflicts(have, cfg ocispec.Platform) string {
	h, c := platform.Normalize(have), platform.Normalize(cfg)
	var diff []string
	if have.OS != "" && cfg.OS != "" && h.OS != c.OS {
		diff = append(diff, "os")
	}
	switch {
	case have.Architecture != "" && cfg.Architecture != "" && h.Architecture != c.Architecture:
		diff = append(diff, "architecture")
	case have.Architecture != "" && cfg.Variant != "" && h.Variant != c.Variant:
		diff = append(diff, "variant")
	}
	if have.OSVersion != "" && cfg.OSVersion != "" && have.OSVersion != cfg.OSVersion {
		diff = append(diff, "os.version")
	}
	return strings.Join(diff, ", ")
}

// imageConfigOf reads the image config d describes, once, and returns its platform
// members; nil when it cannot be read, does not hash to its digest, is not JSON or has
// no os and architecture (the blob checks report the first two).
func (v *validator) imageConfigOf(d ocispec.Descriptor) *imageConfig {
	if c, ok := v.configs[d.Digest]; ok {
		return c
	}
	v.configs[d.Digest] = nil
	b := v.blobs[d.Digest]
	if b == nil || b.hashed || layout.VerifiableDigest(d.Digest) != nil || d.Size > layout.MaxJSONSize || !v.blobInside(d.Digest) {
		return nil
	}
	p, _ := layout.BlobPath(d.Digest)
	fi, err := fs.Stat(v.src.fsys, p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != d.Size {
		return nil
	}
	raw := v.readVerified(d)
	var c imageConfig
	if raw == nil || json.Unmarshal(raw, &c) != nil || c.OS == "" || c.Architecture == "" {
		return nil
	}
	v.configs[d.Digest] = &c
	return &c
}

// checkCreated warns about an org.opencontainers.image.created annotation that is not
// an RFC 3339 date and time.
func (v *validator) checkCreated(a map[string]string, object string) {
	s, ok := a[ocispec.AnnotationCreated]
	if !ok {
		return
	}
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		v.add(checkAnnotationCreated, object, "%s %q is not an RFC 3339 date and time (such as 2024-05-01T12:00:00Z); oras and other tools that parse it fail", ocispec.AnnotationCreated, s)
	}
}
