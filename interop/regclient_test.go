package interop

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/regclient/regclient"
	"github.com/regclient/regclient/types/descriptor"
	"github.com/regclient/regclient/types/manifest"
	"github.com/regclient/regclient/types/ref"
)

// checkRegclient reads the target with regclient's ocidir scheme. ocidir:// reads
// folders only; a tarball goes through regclient.ImageImport (what `regctl image import`
// does; it reads plain and gzip tarballs) into a new ocidir folder, which is then read
// like a folder target and must hold the same digest under the tag.
func checkRegclient(t tb, tg *target) {
	c := checker{t: t, tool: toolRegclient, tg: tg}
	ctx := context.Background()
	rc := regclient.New()
	dir := tg.Path
	if tg.Form != folderForm {
		dir = filepath.Join(plainTempDir(t), "imported")
		r, err := ref.New("ocidir://" + dir + ":" + tg.Tag)
		if !c.ok("ref.New", err) {
			return
		}
		f, err := os.Open(tg.Path)
		if !c.ok("ImageImport", err) {
			return
		}
		err = rc.ImageImport(ctx, r, f, regclient.ImageWithImportName(tg.Tag))
		f.Close()
		if !c.ok("ImageImport", err) {
			return
		}
		if !c.ok("Close", rc.Close(ctx, r)) {
			return
		}
	}
	r, err := ref.New("ocidir://" + dir + ":" + tg.Tag)
	if !c.ok("ref.New", err) {
		return
	}

	head, err := rc.ManifestHead(ctx, r)
	if c.ok("ManifestHead", err) {
		c.equal("ManifestHead", "digest", head.GetDescriptor().Digest, tg.Digest)
	}
	m, err := rc.ManifestGet(ctx, r)
	if !c.ok("ManifestGet", err) {
		return
	}
	c.equal("ManifestGet", "digest", m.GetDescriptor().Digest, tg.Digest)
	mi, ok := m.(manifest.Indexer)
	if !ok || !m.IsList() {
		c.errorf("ManifestGet", "%s is not an index", m.GetDescriptor().MediaType)
		return
	}
	dl, err := mi.GetManifestList()
	if !c.ok("GetManifestList", err) {
		return
	}
	var plats []string
	for _, d := range dl {
		plat := "-"
		if d.Platform != nil {
			plat = formatPlatform(d.Platform.OS, d.Platform.Architecture, d.Platform.Variant, d.Platform.OSVersion)
		}
		plats = append(plats, plat)
		if d.Platform == nil {
			c.errorf("WithManifestPlatform", "child %s has no platform", d.Digest)
			continue
		}
		check := "ManifestGet WithManifestPlatform " + plat
		pm, err := rc.ManifestGet(ctx, r, regclient.WithManifestPlatform(*d.Platform))
		if !c.ok(check, err) {
			continue
		}
		c.equal(check, "digest", pm.GetDescriptor().Digest, d.Digest)
		if pd, err := manifest.GetPlatformDesc(m, d.Platform); c.ok("GetPlatformDesc "+plat, err) {
			c.equal("GetPlatformDesc "+plat, "digest", pd.Digest, d.Digest)
		}
		// The config and every layer, read through regclient's digest-checking reader.
		img, ok := pm.(manifest.Imager)
		if !ok {
			c.errorf(check, "%s is not an image manifest", pm.GetDescriptor().MediaType)
			continue
		}
		var blobs []descriptor.Descriptor
		if cd, err := img.GetConfig(); c.ok("GetConfig "+plat, err) {
			blobs = append(blobs, cd)
		}
		if layers, err := img.GetLayers(); c.ok("GetLayers "+plat, err) {
			blobs = append(blobs, layers...)
		}
		for _, b := range blobs {
			c.ok("BlobGet "+plat+" "+b.Digest.String(), readBlob(ctx, rc, r, b))
		}
	}
	c.platforms("GetManifestList", plats)

	// regctl image copy into another ocidir folder: every manifest and blob, same digest.
	dst, err := ref.New("ocidir://" + filepath.Join(plainTempDir(t), "copied") + ":" + tg.Tag)
	if !c.ok("ImageCopy", err) {
		return
	}
	if !c.ok("ImageCopy", rc.ImageCopy(ctx, r, dst)) {
		return
	}
	if !c.ok("ImageCopy", rc.Close(ctx, dst)) {
		return
	}
	if got, err := rc.ManifestHead(ctx, dst, regclient.WithManifestRequireDigest()); c.ok("ImageCopy ManifestHead", err) {
		c.equal("ImageCopy", "digest of the copy", got.GetDescriptor().Digest, tg.Digest)
	}
}

// readBlob reads a blob to its end and closes it; regclient's reader fails on a digest
// or size mismatch.
func readBlob(ctx context.Context, rc *regclient.RegClient, r ref.Ref, d descriptor.Descriptor) error {
	br, err := rc.BlobGet(ctx, r, d)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		br.Close()
		return err
	}
	return br.Close()
}

// plainTempDir is a new temporary folder whose name regclient's ocidir:// references
// accept (t.TempDir() takes characters from the test's name that they may not).
func plainTempDir(t tb) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ocil-interop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
