package validate

// Check identifiers. They are stable: CI reports, dashboards and scripts key on them, and
// docs/validate.md lists each with its severity (a test keeps the two in step).
const (
	checkLayoutRead     = "layout.read"
	checkLayoutHeader   = "layout.header"
	checkLayoutVersion  = "layout.version"
	checkLayoutIndex    = "layout.index"
	checkLayoutBlobs    = "layout.blobs"
	checkLayoutBlobName = "layout.blob-name"
	checkLayoutTemp     = "layout.temp"
	checkLayoutUnknown  = "layout.unknown"
	checkLayoutParts    = "layout.parts"
	checkLayoutPartSums = "layout.part-sums"

	checkIndexSchema    = "index.schema"
	checkIndexMediaType = "index.mediatype"
	checkIndexMismatch  = "index.mediatype-mismatch"
	checkIndexAmbiguous = "index.ambiguous"
	checkIndexDepth     = "index.depth"
	checkIndexNull      = "index.null-manifests"

	checkManifestSchema       = "manifest.schema"
	checkManifestMismatch     = "manifest.mediatype-mismatch"
	checkManifestAmbiguous    = "manifest.ambiguous"
	checkManifestArtifactType = "manifest.artifact-type"
	checkManifestLayers       = "manifest.layers"

	checkDescriptorDigest       = "descriptor.digest"
	checkDescriptorAlgorithm    = "descriptor.algorithm"
	checkDescriptorSize         = "descriptor.size"
	checkDescriptorMediaType    = "descriptor.mediatype"
	checkDescriptorArtifactType = "descriptor.artifact-type"
	checkDescriptorData         = "descriptor.data"
	checkDescriptorAnnotations  = "descriptor.annotations"
	checkDescriptorURLs         = "descriptor.urls"
	checkDescriptorPlatform     = "descriptor.platform"

	checkBlobMissing         = "blob.missing"
	checkBlobMissingExternal = "blob.missing-external"
	checkBlobSize            = "blob.size"
	checkBlobDigest          = "blob.digest"
	checkBlobUnreferenced    = "blob.unreferenced"
	checkBlobSymlink         = "blob.symlink"

	checkPlatformDuplicate = "platform.duplicate"
	checkPlatformUnknown   = "platform.unknown"
	checkPlatformMissing   = "platform.missing"
	checkPlatformConfig    = "platform.config"
	checkPlatformOras      = "platform.oras-annotations"
	checkPlatformUnmarked  = "platform.unmarked-unknown"

	checkAnnotationCreated = "annotation.created"

	checkRefName          = "ref.name"
	checkRefConflict      = "ref.conflict"
	checkRefNested        = "ref.nested"
	checkRefUntaggedRoots = "ref.untagged-roots"

	checkSubjectMissing = "subject.missing"

	checkDeltaBase   = "delta.base"
	checkDeltaRecord = "delta.record"

	checkReferrerSubject  = "referrer.subject-missing"
	checkReferrerFallback = "referrer.fallback-mismatch"

	checkPushTag          = "push.tag"
	checkPushAlgorithm    = "push.algorithm"
	checkPushDocumentSize = "push.document-size"
	checkPushMixedTypes   = "push.mixed-types"
	checkPushURLs         = "push.urls"
	checkPushSubject      = "push.subject"
	checkPushPlatform     = "push.platform"
	checkPushArtifactType = "push.referrer-artifact-type"
	checkPushDelta        = "push.delta"
)

// CheckInfo describes one check: its stable identifier, the severity of what it finds
// (before Options.Strict turns warnings into errors) and what it looks at.
type CheckInfo struct {
	ID          string   `json:"id"`
	Severity    Severity `json:"severity"`
	Description string   `json:"description"`
}

// when says in which runs a check takes part.
type when int

const (
	always      when = iota
	forPushOnly      // only with Options.ForPush
	notForPush       // replaced by a push.* check with Options.ForPush
)

var checkTable = []struct {
	CheckInfo
	when when
}{
	{CheckInfo{checkLayoutRead, SeverityError, "the path is a layout that can be read: a folder with oci-layout or index.json, or a layout tarball"}, always},
	{CheckInfo{checkLayoutHeader, SeverityError, "oci-layout is present and is a JSON object"}, always},
	{CheckInfo{checkLayoutVersion, SeverityError, `oci-layout's imageLayoutVersion is the string "1.0.0"`}, always},
	{CheckInfo{checkLayoutIndex, SeverityError, "index.json is present and readable (at most 64 MiB, which a layout of 100,000 tags fits)"}, always},
	{CheckInfo{checkLayoutBlobs, SeverityError, "blobs/ is present and is a folder"}, always},
	{CheckInfo{checkLayoutBlobName, SeverityWarning, "every name under blobs/ is blobs/<algorithm>/<encoded> in the digest grammar (x.tmp, .DS_Store, SHA256/ are not)"}, always},
	{CheckInfo{checkLayoutTemp, SeverityNote, "no temp file or stage folder (.ocil-tmp-*) was left by an interrupted ocil write, in a layout folder or beside a tarball; ocil gc removes those in a folder"}, always},
	{CheckInfo{checkLayoutUnknown, SeverityNote, "files and folders the layout format does not define (manifest.json, ingest/, README) are listed; they are ignored"}, always},
	{CheckInfo{checkLayoutParts, SeverityError, "every part of a split tarball (PATH.001, PATH.002, ...) hashes to the sha256 PATH.sha256 lists for it (not with --fast); a missing, unlisted or cut-short part is a layout.read error"}, always},
	{CheckInfo{checkLayoutPartSums, SeverityNote, "a split tarball has its checksum file PATH.sha256, without which its parts cannot be checked (by sha256sum -c or by validate)"}, always},

	{CheckInfo{checkIndexSchema, SeverityError, "index.json and every index are image indexes: JSON without duplicate or case-variant member names, schemaVersion 2, a manifests array, members of the right types"}, always},
	{CheckInfo{checkIndexMediaType, SeverityError, "index.json's mediaType is absent or the OCI index type (a Docker manifest list is not allowed there)"}, always},
	{CheckInfo{checkIndexMismatch, SeverityError, "an index's own mediaType matches the descriptor that points to it"}, always},
	{CheckInfo{checkIndexAmbiguous, SeverityError, "no index also has config or layers (CVE-2021-41190)"}, always},
	{CheckInfo{checkIndexDepth, SeverityError, "indexes nest at most 16 levels deep"}, always},
	{CheckInfo{checkIndexNull, SeverityError, `no index has "manifests": null (docker and containerd refuse it, moby#47210; an empty index has "manifests": [])`}, always},

	{CheckInfo{checkManifestSchema, SeverityError, "every manifest is an image manifest: JSON without duplicate or case-variant member names, schemaVersion 2, a config, members of the right types"}, always},
	{CheckInfo{checkManifestMismatch, SeverityError, "a manifest's own mediaType matches the descriptor that points to it"}, always},
	{CheckInfo{checkManifestAmbiguous, SeverityError, "no manifest also has manifests (CVE-2021-41190)"}, always},
	{CheckInfo{checkManifestArtifactType, SeverityError, "a manifest whose config is the empty descriptor (application/vnd.oci.empty.v1+json) has an artifactType"}, always},
	{CheckInfo{checkManifestLayers, SeverityWarning, "every manifest has at least one layer (the schema's minItems 1)"}, always},

	{CheckInfo{checkDescriptorDigest, SeverityError, "every descriptor's digest is in the OCI digest grammar, with 64 (sha256) or 128 (sha512) lowercase hex characters"}, always},
	{CheckInfo{checkDescriptorAlgorithm, SeverityWarning, "every digest uses an algorithm ocil can verify (sha256, sha512); blake3, sha384 and multihash digests cannot be checked"}, notForPush},
	{CheckInfo{checkDescriptorSize, SeverityError, "every descriptor's size is a non-negative integer"}, always},
	{CheckInfo{checkDescriptorMediaType, SeverityError, "every descriptor has a mediaType in the RFC 6838 grammar (no parameters, no spaces)"}, always},
	{CheckInfo{checkDescriptorArtifactType, SeverityError, "an artifactType, where present, is in the RFC 6838 grammar"}, always},
	{CheckInfo{checkDescriptorData, SeverityError, "embedded data is standard base64 and matches the descriptor's size and digest"}, always},
	{CheckInfo{checkDescriptorAnnotations, SeverityError, "annotations map strings to strings"}, always},
	{CheckInfo{checkDescriptorURLs, SeverityError, "urls, where present, are absolute URLs"}, always},
	{CheckInfo{checkDescriptorPlatform, SeverityError, "a platform, where present, has os and architecture"}, always},

	{CheckInfo{checkBlobMissing, SeverityError, "every blob reachable from index.json is in the layout"}, always},
	{CheckInfo{checkBlobMissingExternal, SeverityWarning, "a missing layer that has urls or a non-distributable media type (registries must allow its urls)"}, always},
	{CheckInfo{checkBlobSize, SeverityError, "every reachable blob has the size its descriptors give"}, always},
	{CheckInfo{checkBlobDigest, SeverityError, "every blob's bytes hash to its digest, unreferenced blobs included, in folders and tarballs (not with --fast, except indexes and manifests)"}, always},
	{CheckInfo{checkBlobUnreferenced, SeverityNote, "blobs nothing in index.json reaches are listed; ocil gc removes them"}, always},
	{CheckInfo{checkBlobSymlink, SeverityError, "no blob (nor blobs/ or blobs/<algorithm>/) is a symlink that resolves outside the layout; links inside it are fine"}, always},

	{CheckInfo{checkPlatformDuplicate, SeverityError, "no index lists two different manifests for the same normalized platform (clients pick the first; attestations excluded)"}, always},
	{CheckInfo{checkPlatformUnknown, SeverityWarning, "platform os and architecture are known GOOS/GOARCH values, spelled as OCI spells them (arm64, not aarch64)"}, always},
	{CheckInfo{checkPlatformMissing, SeverityWarning, "every image manifest in an index (index.json aside) has a descriptor platform: oras, regctl, docker and containerd select by it and do not read the config"}, notForPush},
	{CheckInfo{checkPlatformConfig, SeverityWarning, "a descriptor platform agrees with the image config's os, architecture, variant and os.version"}, always},
	{CheckInfo{checkPlatformOras, SeverityWarning, "oras land.oras.artifact.platform.* manifest annotations agree with the image config (ocil reads the config, oras the annotations)"}, always},
	{CheckInfo{checkPlatformUnmarked, SeverityWarning, "an unknown/unknown child of an index is marked as an attestation (vnd.docker.reference.type: attestation-manifest)"}, always},

	{CheckInfo{checkAnnotationCreated, SeverityWarning, "every org.opencontainers.image.created annotation is an RFC 3339 date and time (oras refuses 2023-08-07)"}, always},

	{CheckInfo{checkRefName, SeverityWarning, "every index.json ref.name is in the OCI ref.name grammar"}, always},
	{CheckInfo{checkRefConflict, SeverityError, "no ref.name names two different digests in index.json"}, always},
	{CheckInfo{checkRefNested, SeverityNote, "ref.name annotations inside nested indexes are listed; only index.json's count"}, always},
	{CheckInfo{checkRefUntaggedRoots, SeverityWarning, "index.json has at most one untagged image (tools that take the layout's only image cannot choose otherwise)"}, always},

	{CheckInfo{checkSubjectMissing, SeverityNote, "the manifest a subject points to is in the layout"}, notForPush},

	{CheckInfo{checkDeltaBase, SeverityNote, "a delta (made by ocil copy --base) lacks the blobs its index.json records as left out; they are listed as expected from its base, not as missing"}, notForPush},
	{CheckInfo{checkDeltaRecord, SeverityError, "the delta record in index.json (the dev.ocil.delta.v1 annotation) is well formed, and its sizes agree with the descriptors"}, always},

	{CheckInfo{checkReferrerSubject, SeverityWarning, "a referrer index.json records (an untagged entry with a subject, an org.opencontainers.image.referrer.subject annotation, a sha256-<hex> fallback tag, a cosign sha256-<hex>.sig tag) has its subject in the layout; ocil gc drops it otherwise"}, always},
	{CheckInfo{checkReferrerFallback, SeverityWarning, "a sha256-<hex> fallback tag's index agrees with the referrers present: each child's subject is the tag's, and every referrer of that subject in index.json is listed (regctl reads only the tag, oras only the documents)"}, always},

	{CheckInfo{checkPushTag, SeverityError, "every index.json ref.name is a registry tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"}, forPushOnly},
	{CheckInfo{checkPushAlgorithm, SeverityError, "every digest uses an algorithm ocil can verify (sha256, sha512)"}, forPushOnly},
	{CheckInfo{checkPushDocumentSize, SeverityError, "every index and manifest is at most 4 MiB, the size registries must accept"}, forPushOnly},
	{CheckInfo{checkPushMixedTypes, SeverityWarning, "no index mixes Docker and OCI manifests (quay and GCR refuse such lists)"}, forPushOnly},
	{CheckInfo{checkPushURLs, SeverityWarning, "descriptors with urls are listed (a registry refuses them unless it allows the URLs)"}, forPushOnly},
	{CheckInfo{checkPushSubject, SeverityWarning, "the manifest a subject points to is in the layout (a registry accepts a missing subject, but the referrer then points nowhere)"}, forPushOnly},
	{CheckInfo{checkPushArtifactType, SeverityWarning, "every referrer has an artifactType: a registry's referrers API otherwise reports its config's media type, which does not say what it is"}, forPushOnly},
	{CheckInfo{checkPushDelta, SeverityError, "the layout is not a delta lacking blobs its base holds: a registry needs every blob (ocil copy it onto the base first)"}, forPushOnly},
	{CheckInfo{checkPushPlatform, SeverityError, "every image manifest in an index (index.json aside) has a descriptor platform: oras, regctl, docker and containerd select by it and do not read the config"}, forPushOnly},
}

// Checks lists every check Layout can report, in a stable order.
var Checks = func() []CheckInfo {
	out := make([]CheckInfo, len(checkTable))
	for i, c := range checkTable {
		out[i] = c.CheckInfo
	}
	return out
}()

// ChecksFor lists the checks that take part in a run with opts: the push.* checks only
// with ForPush, where they replace descriptor.algorithm and subject.missing. A check that
// took part and has no finding in a report passed.
func ChecksFor(opts Options) []CheckInfo {
	var out []CheckInfo
	for _, c := range checkTable {
		switch {
		case c.when == forPushOnly && !opts.ForPush,
			c.when == notForPush && opts.ForPush:
			continue
		}
		out = append(out, c.CheckInfo)
	}
	return out
}

var severityOf = func() map[string]Severity {
	m := make(map[string]Severity, len(checkTable))
	for _, c := range checkTable {
		m[c.ID] = c.Severity
	}
	return m
}()
