package validate

import (
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

// checkReferrers checks the referrers index.json records, the ways layout.Referrers
// reads them: untagged entries whose document has a subject, entries with the
// referrer.subject annotation, and sha256-<hex> fallback tags. It runs once the graph
// was read, so every document below index.json is known.
func (v *validator) checkReferrers(entries []child) {
	inLayout := func(d digest.Digest) bool {
		p, err := layout.BlobPath(d)
		return err == nil && present(v.src.fsys, p)
	}
	noType := map[digest.Digest]bool{}
	pushArtifactType := func(d digest.Digest, object string) {
		doc := v.docs[d]
		if !v.opts.ForPush || doc == nil || !doc.read || !doc.subject || doc.artifactType != "" || noType[d] {
			return
		}
		noType[d] = true
		v.add(checkPushArtifactType, object, "referrer %s has no artifactType; a registry's referrers API then reports its config's media type, and clients that filter by type do not find it", d)
	}
	// The referrers recorded by entries of their own, by subject.
	bySubject := map[digest.Digest][]digest.Digest{}
	for _, e := range entries {
		tag, tagged := e.d.Annotations[ocispec.AnnotationRefName]
		if !e.ok || layout.IsReferrersTag(tag) {
			continue
		}
		if s := layout.CosignTagSubject(tag); s != "" {
			if !inLayout(s) {
				v.add(checkReferrerSubject, tagObject(tag), "the subject %s of this cosign tag is not in the layout; ocil gc drops the tag", s)
			}
			continue
		}
		subject := digest.Digest("")
		if doc := v.docs[e.d.Digest]; doc != nil && doc.subjectDigest != "" {
			subject = doc.subjectDigest
		} else if a := digest.Digest(e.d.Annotations[layout.AnnotationReferrerSubject]); a != "" && layout.ValidateDigest(a) == nil {
			subject = a
		}
		if subject == "" {
			continue
		}
		bySubject[subject] = append(bySubject[subject], e.d.Digest)
		pushArtifactType(e.d.Digest, e.object)
		if !tagged && !inLayout(subject) {
			v.add(checkReferrerSubject, e.object, "referrer %s: its subject %s is not in the layout; ocil gc drops this entry", e.d.Digest, subject)
		}
	}
	for _, e := range entries {
		tag := layout.TagOf(e.d)
		if !e.ok || !layout.IsReferrersTag(tag) || !layout.IsIndex(e.d.MediaType) {
			continue
		}
		object := tagObject(tag)
		tagSubject := subjectOfTag(tag)
		if tagSubject != "" && !inLayout(tagSubject) {
			v.add(checkReferrerSubject, object, "the subject %s of this referrers tag is not in the layout; ocil gc drops the tag", tagSubject)
		}
		doc := v.docs[e.d.Digest]
		if doc == nil || !doc.read {
			continue // blob.* and index.* say why
		}
		listed := map[digest.Digest]bool{}
		for _, c := range doc.children {
			if !c.ok {
				continue
			}
			listed[c.d.Digest] = true
			pushArtifactType(c.d.Digest, c.object)
			cd := v.docs[c.d.Digest]
			if cd == nil || !cd.read {
				continue
			}
			switch {
			case cd.subjectDigest == "":
				v.add(checkReferrerFallback, c.object, "%s has no subject, so it is no referrer of the tag's subject", c.d.Digest)
			case layout.FallbackTag(cd.subjectDigest) != tag:
				v.add(checkReferrerFallback, c.object, "%s refers to %s, whose referrers tag is %s, not this one", c.d.Digest, cd.subjectDigest, layout.FallbackTag(cd.subjectDigest))
			}
			want := cd.artifactType
			if want == "" && cd.config != nil {
				want = cd.config.MediaType
			}
			if want != "" && c.d.ArtifactType != want {
				v.add(checkReferrerFallback, c.object, "lists %s with artifactType %q; the document says %q (regctl filters by the listed type)", c.d.Digest, c.d.ArtifactType, want)
			}
		}
		if tagSubject == "" {
			continue
		}
		for _, r := range bySubject[tagSubject] {
			if !listed[r] {
				v.add(checkReferrerFallback, object, "does not list %s, a referrer of %s in index.json; regctl, which reads only the tag, does not see it", r, tagSubject)
				listed[r] = true
			}
		}
	}
}

// subjectOfTag turns a fallback tag back into the digest it names, when it was not
// truncated (sha256-<64 hex>); "" otherwise.
func subjectOfTag(tag string) digest.Digest {
	alg, enc, ok := strings.Cut(tag, "-")
	if !ok {
		return ""
	}
	d := digest.Digest(alg + ":" + enc)
	if layout.ValidateDigest(d) != nil {
		return ""
	}
	return d
}
