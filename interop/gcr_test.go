package interop

import (
	"archive/tar"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// gcrLayerContent is what go-containerregistry's full validation says of a layer typed
// application/vnd.oci.image.layer.v1.tar that holds a plain file: it gunzips and untars
// every layer to compute diff IDs.
var gcrLayerContent = []string{
	"validating layers: gzip: invalid header",
	"validating layers: undersized layer[",
	"validating layers: archive/tar: invalid tar header",
	"validating layers: unexpected EOF",
}

// checkGCR reads the target with go-containerregistry: layout.FromPath (a tarball is
// unpacked first with archive/tar, gcr reads folders only), ImageIndex, the tagged
// nested index and its platforms, each image, then validate.Index on the whole layout.
func checkGCR(t tb, tg *target) {
	c := checker{t: t, tool: toolGCR, tg: tg}
	dir := tg.Path
	if tg.Form != folderForm {
		var err error
		if dir, err = extract(t, tg.Path); err != nil {
			c.fatalf("extract with archive/tar", "%v", err)
		}
	}
	p, err := layout.FromPath(dir)
	if !c.ok("layout.FromPath", err) {
		return
	}
	root, err := p.ImageIndex()
	if !c.ok("ImageIndex", err) {
		return
	}
	rm, err := root.IndexManifest()
	if !c.ok("IndexManifest", err) {
		return
	}
	var tagged *v1.Descriptor
	for i, d := range rm.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] == tg.Tag {
			tagged = &rm.Manifests[i]
		}
	}
	if tagged == nil {
		c.errorf("tag", "no index.json entry has %s=%s", ocispec.AnnotationRefName, tg.Tag)
		return
	}
	c.equal("tag", "digest", tagged.Digest, tg.Digest)
	c.equal("tag", "mediaType", tagged.MediaType, types.OCIImageIndex)
	nested, err := root.ImageIndex(tagged.Digest)
	if !c.ok("ImageIndex(tag)", err) {
		return
	}
	if d, err := nested.Digest(); c.ok("ImageIndex(tag).Digest", err) {
		c.equal("ImageIndex(tag).Digest", "digest", d, tg.Digest)
	}
	nm, err := nested.IndexManifest()
	if !c.ok("ImageIndex(tag).IndexManifest", err) {
		return
	}
	var plats []string
	var images []v1.Image
	var names []string
	for _, d := range nm.Manifests {
		plat := "-"
		if d.Platform != nil {
			plat = formatPlatform(d.Platform.OS, d.Platform.Architecture, d.Platform.Variant, d.Platform.OSVersion)
		}
		plats = append(plats, plat)
		if !d.MediaType.IsImage() {
			c.errorf("child "+plat, "mediaType %s is not an image manifest", d.MediaType)
			continue
		}
		img, err := nested.Image(d.Digest)
		if !c.ok("Image "+plat, err) {
			continue
		}
		if got, err := img.Digest(); c.ok("Image "+plat, err) {
			c.equal("Image "+plat, "digest", got, d.Digest)
		}
		images = append(images, img)
		names = append(names, plat)
	}
	c.platforms("ImageIndex(tag).IndexManifest", plats)

	// Each tar-typed layer that is a tar archive, validated as a layer on its own
	// (gunzip, untar, no duplicate paths, digest and diff ID consistent), which does not
	// depend on the config listing diff IDs as an artifact's config does not.
	plain := make([]string, len(images))
	archives := 0
	for i, img := range images {
		check := "validate.Layer " + names[i]
		layers, err := img.Layers()
		if !c.ok(check, err) {
			continue
		}
		for _, l := range layers {
			d, err := l.Digest()
			if !c.ok(check, err) {
				continue
			}
			mt, err := l.MediaType()
			if !c.ok(check, err) || !mt.IsLayer() {
				continue
			}
			if !isTarArchive(l) {
				if plain[i] == "" {
					plain[i] = d.String()
				}
				continue
			}
			own, err := tarball.LayerFromOpener(l.Compressed)
			if !c.ok(check+" "+d.String(), err) {
				continue
			}
			if c.ok(check+" "+d.String(), validate.Layer(own)) {
				archives++
				got, err := own.Digest()
				if c.ok(check+" "+d.String(), err) {
					c.equal(check+" "+d.String(), "digest", got, d)
				}
			}
		}
	}

	if archives > 0 {
		c.logf("validate.Layer", "%d tar layers valid on their own", archives)
	}

	if !tg.OpaqueLayers {
		// Everything, layer content included.
		c.expect("validate.Index", validate.Index(root))
		for i, p := range plain {
			if p != "" {
				c.errorf("validate.Layer "+names[i], "layer %s is typed as a tar layer but is not a tar archive", p)
			}
		}
		return
	}
	// validate.Index untars every layer typed as one. Where such layers hold plain files,
	// validate.Fast checks the rest of the whole layout (index and manifest digests,
	// sizes and media types, configs, every layer present); then each manifest whose
	// tar-typed layers are all tar archives is validated in full, and each one with a
	// plain-file layer must fail the full validation on layer content and nothing else.
	c.expect("validate.Index", validate.Index(root, validate.Fast))
	opaque := 0
	for i, img := range images {
		check := "validate.Image " + names[i]
		full := validate.Image(img)
		if plain[i] == "" {
			c.expect(check, full)
			continue
		}
		opaque++
		if full == nil {
			c.errorf(check, "passes in full although layer %s is not a tar archive", plain[i])
			continue
		}
		c.logf(check, "full validation fails on the plain-file layer %s, as expected: %v", plain[i], full)
		c.expect(check, full, gcrLayerContent...)
	}
	if opaque == 0 {
		c.logf("validate.Image", "no manifest has a plain-file layer any more: OpaqueLayers can go")
	}
}

// isTarArchive says whether a layer's uncompressed content reads as a tar archive to
// its end.
func isTarArchive(l v1.Layer) bool {
	rc, err := l.Uncompressed()
	if err != nil {
		return false
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		if _, err := tr.Next(); err != nil {
			return err == io.EOF
		}
	}
}
