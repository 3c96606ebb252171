package interop

import (
	"context"
	"encoding/json"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/content/oci"
)

// Config media types that carry a platform, which oras-go reads when asked to match a
// platform against a single manifest.
const dockerConfigMediaType = "application/vnd.docker.container.image.v1+json"

// checkORAS reads the target with oras-go's OCI store: oci.New for a folder, oci.NewFromTar
// for a tarball. oras-go reads uncompressed tarballs only: for .tar.gz the check asserts
// that oci.NewFromTar refuses it (ocil's own reader is checked by the ocil column) and
// goes on with the gunzipped stream, which is what ocil wrote inside the gzip.
func checkORAS(t tb, tg *target) {
	c := checker{t: t, tool: toolORAS, tg: tg}
	ctx := context.Background()
	var store oras.ReadOnlyTarget
	switch tg.Form {
	case folderForm:
		s, err := oci.NewWithContext(ctx, tg.Path)
		if !c.ok("oci.New", err) {
			return
		}
		store = s
	case tarForm:
		s, err := oci.NewFromTar(ctx, tg.Path)
		if !c.ok("oci.NewFromTar", err) {
			return
		}
		store = s
	case tarGzForm:
		if s, err := oci.NewFromTar(ctx, tg.Path); err == nil {
			c.logf("oci.NewFromTar", "reads a gzip tarball now; checking it directly")
			store = s
			break
		} else {
			c.logf("oci.NewFromTar", "refuses the gzip tarball, as expected (oras-go reads uncompressed tar only): %v; checking the gunzipped stream instead", err)
		}
		p, err := gunzip(t, tg.Path)
		if !c.ok("gunzip", err) {
			return
		}
		s, err := oci.NewFromTar(ctx, p)
		if !c.ok("oci.NewFromTar(gunzipped)", err) {
			return
		}
		store = s
	}

	// The tag.
	desc, err := store.Resolve(ctx, tg.Tag)
	if !c.ok("Resolve tag", err) {
		return
	}
	c.equal("Resolve tag", "digest", desc.Digest, tg.Digest)
	c.equal("Resolve tag", "mediaType", desc.MediaType, ocispec.MediaTypeImageIndex)
	if lister, ok := store.(interface {
		Tags(context.Context, string, func([]string) error) error
	}); ok {
		var tags []string
		err := lister.Tags(ctx, "", func(ts []string) error { tags = append(tags, ts...); return nil })
		if c.ok("Tags", err) && !slices.Contains(tags, tg.Tag) {
			c.errorf("Tags", "%q not in %v", tg.Tag, tags)
		}
	}

	// The nested index and each of its platforms.
	raw, err := content.FetchAll(ctx, store, desc)
	if !c.ok("FetchAll index", err) {
		return
	}
	var idx ocispec.Index
	if !c.ok("decode index", json.Unmarshal(raw, &idx)) {
		return
	}
	var plats []string
	for _, m := range idx.Manifests {
		plat := platformOf(m.Platform)
		plats = append(plats, plat)
		if m.Platform == nil {
			c.errorf("Resolve TargetPlatform", "child %s has no platform", m.Digest)
			continue
		}
		check := "Resolve TargetPlatform " + plat
		got, err := oras.Resolve(ctx, store, tg.Tag, oras.ResolveOptions{TargetPlatform: m.Platform})
		if !c.ok(check, err) {
			continue
		}
		c.equal(check, "digest", got.Digest, m.Digest)

		// What oras copy --platform does: copy the one manifest into another store.
		check = "Copy TargetPlatform " + plat
		mem := memory.New()
		opts := oras.DefaultCopyOptions
		opts.WithTargetPlatform(m.Platform)
		got, err = oras.Copy(ctx, store, tg.Tag, mem, tg.Tag, opts)
		if !c.ok(check, err) {
			continue
		}
		c.equal(check, "digest", got.Digest, m.Digest)

		// A manifest whose config is an image config carries its platform there too:
		// oras-go matches the platform from the config when the tag names that manifest.
		mraw, err := content.FetchAll(ctx, store, m)
		if !c.ok("FetchAll manifest "+plat, err) {
			continue
		}
		var man ocispec.Manifest
		if !c.ok("decode manifest "+plat, json.Unmarshal(mraw, &man)) {
			continue
		}
		if man.Config.MediaType == ocispec.MediaTypeImageConfig || man.Config.MediaType == dockerConfigMediaType {
			check = "platform from config " + plat
			got, err = oras.Resolve(ctx, mem, tg.Tag, oras.ResolveOptions{TargetPlatform: m.Platform})
			if c.ok(check, err) {
				c.equal(check, "digest", got.Digest, m.Digest)
			}
		}
	}
	c.platforms("index platforms", plats)

	// Every blob reachable from the tag: content.Successors down the graph, each node
	// fetched whole with FetchAll, which checks its size and digest.
	seen := map[string]bool{}
	queue := []ocispec.Descriptor{desc}
	failed := 0
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d.Digest.String()] {
			continue
		}
		seen[d.Digest.String()] = true
		if _, err := content.FetchAll(ctx, store, d); !c.ok("FetchAll "+d.Digest.String(), err) {
			failed++
			continue
		}
		succ, err := content.Successors(ctx, store, d)
		if !c.ok("Successors "+d.Digest.String(), err) {
			failed++
			continue
		}
		queue = append(queue, succ...)
	}
	if failed == 0 {
		c.logf("walk", "%d blobs reachable from %s, all fetched and verified", len(seen), tg.Tag)
	}

	// The whole graph copied into a memory store.
	mem := memory.New()
	got, err := oras.Copy(ctx, store, tg.Tag, mem, tg.Tag, oras.DefaultCopyOptions)
	if c.ok("Copy", err) {
		c.equal("Copy", "digest", got.Digest, tg.Digest)
	}
}
