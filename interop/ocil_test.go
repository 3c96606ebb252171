package interop

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// checkOcil reads the target back with ocil itself, the reference the other tools are
// compared with; for .tar.gz it is the reader that oras-go lacks: the tag resolves to the
// digest ocil printed when writing, `ocil cat` gives the index bytes of that digest, and
// each listed platform resolves to its manifest.
func checkOcil(t tb, tg *target) {
	c := checker{t: t, tool: toolOcil, tg: tg}
	ref := tg.Path + ":" + tg.Tag
	d, err := ocilRun("resolve", ref)
	if !c.ok("resolve tag", err) {
		return
	}
	c.equal("resolve tag", "digest", d, tg.Digest)
	raw, err := ocilRaw("cat", ref)
	if !c.ok("cat", err) {
		return
	}
	sum := sha256.Sum256(raw)
	c.equal("cat", "digest of the bytes", "sha256:"+hex.EncodeToString(sum[:]), tg.Digest)
	var idx ocispec.Index
	if !c.ok("cat", json.Unmarshal(raw, &idx)) {
		return
	}
	var plats []string
	for _, m := range idx.Manifests {
		p := platformOf(m.Platform)
		plats = append(plats, p)
		got, err := ocilRun("resolve", ref, "--platform", p)
		if c.ok("resolve --platform "+p, err) {
			c.equal("resolve --platform "+p, "digest", got, m.Digest)
		}
	}
	c.platforms("cat", plats)
}

// platformOf formats an OCI platform; a missing one is "-".
func platformOf(p *ocispec.Platform) string {
	if p == nil {
		return "-"
	}
	return formatPlatform(p.OS, p.Architecture, p.Variant, p.OSVersion)
}
