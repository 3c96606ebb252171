package layout

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The annotations buildkit puts on an attestation manifest's entry in an index: its type,
// and the digest of the image it describes.
const (
	AnnotationReferenceType   = "vnd.docker.reference.type"
	AnnotationReferenceDigest = "vnd.docker.reference.digest"
	// ReferenceTypeAttestation is AnnotationReferenceType's value on an attestation.
	ReferenceTypeAttestation = "attestation-manifest"
)

// TagOf is d's tag: its org.opencontainers.image.ref.name annotation, or "".
func TagOf(d ocispec.Descriptor) string { return d.Annotations[ocispec.AnnotationRefName] }

// WithTag returns d with its own copy of the annotations, tagged tag (an empty tag drops
// the tag, as WithoutTag does).
func WithTag(d ocispec.Descriptor, tag string) ocispec.Descriptor {
	if tag == "" {
		return WithoutTag(d)
	}
	d.Annotations = copyAnnotations(d.Annotations)
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[ocispec.AnnotationRefName] = tag
	return d
}

// WithoutTag returns d with its own copy of the annotations, without a tag; annotations
// left empty become nil, so the descriptor encodes without them.
func WithoutTag(d ocispec.Descriptor) ocispec.Descriptor {
	d.Annotations = WithoutTagAnnotations(d.Annotations)
	return d
}

// WithoutTagAnnotations returns a copy of a without org.opencontainers.image.ref.name, or
// nil when nothing is left.
func WithoutTagAnnotations(a map[string]string) map[string]string {
	a = copyAnnotations(a)
	delete(a, ocispec.AnnotationRefName)
	if len(a) == 0 {
		return nil
	}
	return a
}

// AttestationOf is the digest of the image the attestation d describes, or "".
func AttestationOf(d ocispec.Descriptor) string { return d.Annotations[AnnotationReferenceDigest] }

// MixedTypes counts the Docker and OCI manifests and indexes among ds. An index listing
// both kinds (docker > 0 && oci > 0) is refused by some registries (quay, GCR).
func MixedTypes(ds []ocispec.Descriptor) (docker, oci int) {
	for _, d := range ds {
		switch d.MediaType {
		case MediaTypeDockerManifest, MediaTypeDockerManifestList:
			docker++
		case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex:
			oci++
		}
	}
	return docker, oci
}

func copyAnnotations(a map[string]string) map[string]string {
	if a == nil {
		return nil
	}
	out := make(map[string]string, len(a))
	for k, v := range a {
		out[k] = v
	}
	return out
}
