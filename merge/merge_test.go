package merge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
	"github.com/ocil-dev/ocil/lock"
	"github.com/ocil-dev/ocil/merge"
)

var fx = filepath.Join("..", "testdata", "fixtures")

var orasInputs = []string{"oras-linux-amd64-el8", "oras-linux-amd64-el9", "oras-linux-arm64-v8-el8", "oras-linux-arm64-v8-el9"}

func inputs(names ...string) []merge.Input {
	var in []merge.Input
	for _, n := range names {
		in = append(in, merge.Input{Ref: filepath.Join(fx, n)})
	}
	return in
}

func readJSON(t *testing.T, path string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func blobPath(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// configPlatform reads the platform a fixture's single manifest has in its config,
// straight from the files.
func configPlatform(t *testing.T, dir string) (digest.Digest, ocispec.Platform) {
	t.Helper()
	var idx ocispec.Index
	readJSON(t, filepath.Join(dir, "index.json"), &idx)
	var m ocispec.Manifest
	readJSON(t, blobPath(dir, idx.Manifests[0].Digest), &m)
	var p ocispec.Platform
	readJSON(t, blobPath(dir, m.Config.Digest), &p)
	return idx.Manifests[0].Digest, p
}

// The seed scenario: four untagged oras layouts into out:1.2.
func TestMergeOrasFanIn(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	res, err := merge.Merge(ctx, merge.Options{
		Output:                out + ":1.2",
		Inputs:                inputs(orasInputs...),
		Annotations:           map[string]string{"org.opencontainers.image.version": "1.2"},
		DescriptorAnnotations: map[string]string{"com.example.pipeline": "42"},
		Transfer:              layout.TransferOptions{Verify: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	readJSON(t, filepath.Join(out, "index.json"), &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("index.json has %d entries, want 1", len(idx.Manifests))
	}
	entry := idx.Manifests[0]
	if entry.MediaType != ocispec.MediaTypeImageIndex || entry.Annotations[ocispec.AnnotationRefName] != "1.2" ||
		entry.Annotations["com.example.pipeline"] != "42" || entry.Platform != nil || entry.Digest != res.Index.Digest {
		t.Fatalf("index.json entry = %+v", entry)
	}
	raw, err := os.ReadFile(blobPath(out, entry.Digest))
	if err != nil {
		t.Fatal(err)
	}
	if digest.FromBytes(raw) != entry.Digest || int64(len(raw)) != entry.Size {
		t.Fatal("nested index blob does not match its descriptor")
	}
	var nested ocispec.Index
	json.Unmarshal(raw, &nested)
	if nested.MediaType != ocispec.MediaTypeImageIndex || nested.Annotations["org.opencontainers.image.version"] != "1.2" {
		t.Fatalf("nested index = %s", raw)
	}
	if _, ok := nested.Annotations[ocispec.AnnotationCreated]; ok {
		t.Fatal("created annotation added without --created")
	}
	if len(nested.Manifests) != 4 {
		t.Fatalf("nested index has %d manifests, want 4", len(nested.Manifests))
	}
	for i, name := range orasInputs {
		d, p := configPlatform(t, filepath.Join(fx, name))
		got := nested.Manifests[i]
		if got.Digest != d || got.Platform == nil || !platform.Equal(*got.Platform, p) || got.Platform.OSVersion == "" {
			t.Fatalf("child %d = %+v (platform %+v), want %s with %+v", i, got, got.Platform, d, p)
		}
		if got.ArtifactType != "application/vnd.example.rpmrepo.v1" {
			t.Fatalf("child %d lost its artifactType: %+v", i, got)
		}
	}
	// Every blob of every input is in OUT, byte for byte.
	for _, name := range orasInputs {
		ents, _ := os.ReadDir(filepath.Join(fx, name, "blobs", "sha256"))
		for _, e := range ents {
			a, _ := os.ReadFile(filepath.Join(fx, name, "blobs", "sha256", e.Name()))
			b, err := os.ReadFile(filepath.Join(out, "blobs", "sha256", e.Name()))
			if err != nil || !bytes.Equal(a, b) {
				t.Fatalf("blob %s of %s: %v", e.Name(), name, err)
			}
		}
	}
	// ocil resolves the result for each platform.
	want, _ := configPlatform(t, filepath.Join(fx, "oras-linux-arm64-v8-el8"))
	p, _ := platform.Parse("linux/arm64/v8:el8")
	r, err := layout.ResolveRef(ctx, out+":1.2", layout.ResolveOptions{Platform: &p})
	if err != nil || r.Descriptor.Digest != want {
		t.Fatalf("resolve out:1.2 linux/arm64/v8:el8 = %+v, %v; want %s", r, err, want)
	}
}

// Inputs that are indexes (regctl nested index, Docker manifest list) mixed with artifacts.
func TestMergeIndexInputs(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	// regctl-index and docker-list both hold linux/amd64 and linux/arm64: a conflict.
	_, err := merge.Merge(ctx, merge.Options{Output: out + ":v1", Inputs: []merge.Input{
		{Ref: filepath.Join(fx, "regctl-index:v1")}, {Ref: filepath.Join(fx, "docker-list:v1")}}})
	if !errors.Is(err, layout.ErrConflict) || !strings.Contains(err.Error(), "regctl-index") || !strings.Contains(err.Error(), "docker-list") {
		t.Fatalf("= %v, want a conflict naming both inputs", err)
	}
	if _, err := os.Stat(filepath.Join(out, "index.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed merge into a new OUT created it: %v", err)
	}

	res, err := merge.Merge(ctx, merge.Options{Output: out + ":v1", OnDup: merge.DuplicateFirst, Inputs: []merge.Input{
		{Ref: filepath.Join(fx, "regctl-index:v1")}, {Ref: filepath.Join(fx, "docker-list:v1")},
		{Ref: filepath.Join(fx, "oras-linux-arm64-v8-el8")}}})
	if err != nil {
		t.Fatal(err)
	}
	var regIdx, nested ocispec.Index
	var top ocispec.Index
	readJSON(t, filepath.Join(fx, "regctl-index", "index.json"), &top)
	readJSON(t, blobPath(filepath.Join(fx, "regctl-index"), top.Manifests[0].Digest), &regIdx)
	readJSON(t, blobPath(out, res.Index.Digest), &nested)
	el8, _ := configPlatform(t, filepath.Join(fx, "oras-linux-arm64-v8-el8"))
	if len(res.Warnings) != 0 {
		t.Fatalf("warnings for an OCI-only index: %v", res.Warnings)
	}
	if len(nested.Manifests) != 3 || nested.Manifests[0].Digest != regIdx.Manifests[0].Digest ||
		nested.Manifests[1].Digest != regIdx.Manifests[1].Digest || nested.Manifests[2].Digest != el8 {
		t.Fatalf("nested = %+v", nested.Manifests)
	}
	// regctl's descriptors are kept as they were (annotations, artifactType, platform).
	for i := 0; i < 2; i++ {
		a, _ := json.Marshal(regIdx.Manifests[i])
		b, _ := json.Marshal(nested.Manifests[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("child %d changed:\n%s\n%s", i, a, b)
		}
	}
	// With "last", docker-list's manifests win.
	res, err = merge.Merge(ctx, merge.Options{Output: out + ":v2", OnDup: merge.DuplicateLast, Inputs: []merge.Input{
		{Ref: filepath.Join(fx, "regctl-index:v1")}, {Ref: filepath.Join(fx, "docker-list:v1")}}})
	if err != nil {
		t.Fatal(err)
	}
	readJSON(t, blobPath(out, res.Index.Digest), &nested)
	for _, m := range nested.Manifests {
		if m.MediaType != layout.MediaTypeDockerManifest {
			t.Fatalf("with last, %s (%s) was kept", m.Digest, m.MediaType)
		}
	}
	// D43: Docker and OCI children in one index draw a warning.
	res, err = merge.Merge(ctx, merge.Options{Output: out + ":v3", Inputs: []merge.Input{
		{Ref: filepath.Join(fx, "docker-list:v1")}, {Ref: filepath.Join(fx, "oras-linux-arm64-v8-el8")}}})
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "mixes 2 Docker and 1 OCI") {
		t.Fatalf("mixed types: %+v, %v", res, err)
	}
	// All three tags are in OUT.
	var idx ocispec.Index
	readJSON(t, filepath.Join(out, "index.json"), &idx)
	if len(idx.Manifests) != 3 {
		t.Fatalf("OUT has %d entries, want v1, v2 and v3", len(idx.Manifests))
	}
}

func TestMergeReproducible(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var indexJSON, blob [][]byte
	for i := 0; i < 2; i++ {
		out := filepath.Join(t.TempDir(), "out")
		res, err := merge.Merge(ctx, merge.Options{Output: out + ":1.2", Inputs: inputs(orasInputs...), Created: &created,
			Annotations: map[string]string{"b": "2", "a": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		ij, _ := os.ReadFile(filepath.Join(out, "index.json"))
		bl, _ := os.ReadFile(blobPath(out, res.Index.Digest))
		indexJSON, blob = append(indexJSON, ij), append(blob, bl)
	}
	if !bytes.Equal(indexJSON[0], indexJSON[1]) || !bytes.Equal(blob[0], blob[1]) {
		t.Fatalf("two merges differ:\n%s\n%s", blob[0], blob[1])
	}
	if !bytes.Contains(blob[0], []byte(`"org.opencontainers.image.created":"2026-01-02T03:04:05Z"`)) {
		t.Fatalf("created missing: %s", blob[0])
	}
}

func TestMergeUserPlatformAndNoPlatform(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	art := b.Manifest(ocispec.Manifest{ArtifactType: "application/vnd.example", Config: b.Blob("application/vnd.example.config", []byte(`{"os":"linux","architecture":"amd64"}`)),
		Layers: []ocispec.Descriptor{b.Blob("text/plain", []byte("payload"))}})
	b.SetIndex(art)
	out := filepath.Join(t.TempDir(), "out")
	// A custom config type is opaque: no platform anywhere.
	_, err := merge.Merge(ctx, merge.Options{Output: out + ":v1", Inputs: []merge.Input{{Ref: b.Dir}}})
	if !errors.Is(err, layout.ErrNotFound) || !strings.Contains(err.Error(), b.Dir) || !strings.Contains(err.Error(), "--allow-no-platform") {
		t.Fatalf("= %v, want an error naming the input and the fix", err)
	}
	res, err := merge.Merge(ctx, merge.Options{Output: out + ":v1", Inputs: []merge.Input{{Ref: b.Dir}}, AllowNoPlatform: true})
	if err != nil || res.Children[0].Descriptor.Platform != nil {
		t.Fatalf("allow-no-platform = %+v, %v", res, err)
	}
	p, _ := platform.Parse("linux/riscv64:el9")
	res, err = merge.Merge(ctx, merge.Options{Output: out + ":v2", Inputs: []merge.Input{{Ref: b.Dir, Platform: &p}}})
	if err != nil || res.Children[0].PlatformSource != layout.FromUser || platform.Format(*res.Children[0].Descriptor.Platform) != "linux/riscv64:el9" {
		t.Fatalf("stated platform = %+v, %v", res, err)
	}
	// A stated platform overrides a descriptor's own.
	p2, _ := platform.Parse("linux/arm64")
	if _, err = merge.Merge(ctx, merge.Options{Output: out + ":v3", Inputs: []merge.Input{{Ref: filepath.Join(fx, "regctl-index:v1"), Platform: &p2}}}); !errors.Is(err, layout.ErrInvalidOption) {
		t.Fatalf("a platform for an index input = %v, want ErrInvalidOption", err)
	}
}

func TestMergeAttestations(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	img := b.Image(tl.P("linux", "amd64", "", ""), "amd")
	att := b.Image(nil, "provenance")
	attD := tl.WithPlatform(att, *tl.P("unknown", "unknown", "", ""))
	attD.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": string(img.Digest)}
	b.SetIndex(tl.Tag(b.Index(tl.WithPlatform(img, *tl.P("linux", "amd64", "", "")), attD), "v1"))
	b2 := tl.New(t)
	img2 := b2.Image(tl.P("linux", "arm64", "", ""), "arm")
	att2 := b2.Image(nil, "provenance arm")
	att2D := tl.WithPlatform(att2, *tl.P("unknown", "unknown", "", ""))
	att2D.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": string(img2.Digest)}
	b2.SetIndex(tl.Tag(b2.Index(tl.WithPlatform(img2, *tl.P("linux", "arm64", "", "")), att2D), "v1"))

	out := filepath.Join(t.TempDir(), "out")
	res, err := merge.Merge(ctx, merge.Options{Output: out + ":v1", Inputs: []merge.Input{{Ref: b.Dir + ":v1"}, {Ref: b2.Dir + ":v1"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []digest.Digest
	for _, c := range res.Children {
		got = append(got, c.Descriptor.Digest)
	}
	// Canonical order: the images by platform, then their attestations in the images' order.
	want := []digest.Digest{img.Digest, img2.Digest, att.Digest, att2.Digest}
	if fmt.Sprint(got) != fmt.Sprint(want) || !res.Children[2].Attestation || !res.Children[3].Attestation {
		t.Fatalf("children %v, want %v with attestations kept", got, want)
	}
	// The inputs the other way round: the same index.
	res2, err := merge.Merge(ctx, merge.Options{Output: out + ":v2", Inputs: []merge.Input{{Ref: b2.Dir + ":v1"}, {Ref: b.Dir + ":v1"}}})
	if err != nil || res2.Index.Digest != res.Index.Digest {
		t.Fatalf("swapped inputs: %v, %v; want %s", res2, err, res.Index.Digest)
	}
	// --keep-order: each input's children where the input put them.
	res3, err := merge.Merge(ctx, merge.Options{Output: out + ":v3", KeepInputOrder: true, Inputs: []merge.Input{{Ref: b2.Dir + ":v1"}, {Ref: b.Dir + ":v1"}}})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, c := range res3.Children {
		got = append(got, c.Descriptor.Digest)
	}
	if want := []digest.Digest{img2.Digest, att2.Digest, img.Digest, att.Digest}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("keep order: children %v, want %v", got, want)
	}
	// The attestation's blobs came along too.
	if _, err := os.Stat(blobPath(out, att2.Digest)); err != nil {
		t.Fatal(err)
	}
}

// Failures of every kind leave an existing OUT's index.json byte for byte as it was.
func TestMergeFailuresLeaveOutput(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	if _, err := merge.Merge(ctx, merge.Options{Output: out + ":keep", Inputs: inputs("oras-linux-amd64-el8")}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(out, "index.json"))

	corrupt := tl.New(t)
	m := corrupt.Image(tl.P("linux", "amd64", "", ""), "layer")
	corrupt.SetIndex(m)
	var man ocispec.Manifest
	readJSON(t, blobPath(corrupt.Dir, m.Digest), &man)
	layer := blobPath(corrupt.Dir, man.Layers[0].Digest)
	os.WriteFile(layer, []byte("LAYER"), 0o644) // same size, other bytes

	missing := tl.New(t)
	m2 := missing.Image(tl.P("linux", "arm64", "", ""), "gone")
	missing.SetIndex(m2)
	var man2 ocispec.Manifest
	readJSON(t, blobPath(missing.Dir, m2.Digest), &man2)
	os.Remove(blobPath(missing.Dir, man2.Layers[0].Digest))

	tests := []struct {
		name   string
		opts   merge.Options
		want   error
		naming string
	}{
		{"bad digest", merge.Options{Inputs: []merge.Input{{Ref: corrupt.Dir}}, Transfer: layout.TransferOptions{Verify: true}}, layout.ErrDigestMismatch, corrupt.Dir},
		{"missing blob", merge.Options{Inputs: []merge.Input{{Ref: missing.Dir}}}, layout.ErrNotFound, string(man2.Layers[0].Digest)},
		{"ambiguous input", merge.Options{Inputs: inputs("umoci-image")}, layout.ErrAmbiguous, "umoci-image"},
		{"duplicate platform", merge.Options{Inputs: inputs("oras-linux-amd64-el8", "crane-flat@sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64", "regctl-index:v1", "docker-list:v1")}, layout.ErrConflict, "docker-list"},
		{"no tag into a used OUT", merge.Options{Inputs: inputs("oras-linux-amd64-el9")}, layout.ErrConflict, out},
		{"missing input", merge.Options{Inputs: inputs("nope")}, layout.ErrNotFound, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Output = out + ":new"
			if tt.name == "no tag into a used OUT" {
				opts.Output = out
			}
			_, err := merge.Merge(ctx, opts)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.naming) {
				t.Fatalf("= %v, want %v naming %s", err, tt.want, tt.naming)
			}
			now, _ := os.ReadFile(filepath.Join(out, "index.json"))
			if !bytes.Equal(before, now) {
				t.Fatalf("index.json changed:\n%s", now)
			}
		})
	}
	t.Run("lock held by another process", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "OCIL_TEST_HOLD_LOCK="+filepath.Join(out, "index.json.lock"), "GORACE=atexit_sleep_ms=0")
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		buf := make([]byte, 6)
		if _, err := stdout.Read(buf); err != nil || string(buf) != "locked" {
			t.Fatalf("holder said %q, %v", buf, err)
		}
		_, err := merge.Merge(ctx, merge.Options{Output: out + ":new", Inputs: inputs("oras-linux-amd64-el9"), LockTimeout: 300 * time.Millisecond})
		if !errors.Is(err, layout.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprint(cmd.Process.Pid)) {
			t.Fatalf("= %v, want ErrLocked naming the holder's pid", err)
		}
		now, _ := os.ReadFile(filepath.Join(out, "index.json"))
		if !bytes.Equal(before, now) {
			t.Fatalf("index.json changed:\n%s", now)
		}
	})
}

func TestMergeReplacesTagKeepsOthers(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	for _, step := range []struct{ tag, in string }{{"a", "oras-linux-amd64-el8"}, {"b", "oras-linux-amd64-el9"}, {"a", "oras-linux-arm64-v8-el8"}} {
		if _, err := merge.Merge(ctx, merge.Options{Output: out + ":" + step.tag, Inputs: inputs(step.in)}); err != nil {
			t.Fatal(err)
		}
	}
	var idx ocispec.Index
	readJSON(t, filepath.Join(out, "index.json"), &idx)
	if len(idx.Manifests) != 2 || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "a" || idx.Manifests[1].Annotations[ocispec.AnnotationRefName] != "b" {
		t.Fatalf("index.json = %+v", idx.Manifests)
	}
	var nested ocispec.Index
	readJSON(t, blobPath(out, idx.Manifests[0].Digest), &nested)
	el8, _ := configPlatform(t, filepath.Join(fx, "oras-linux-arm64-v8-el8"))
	if len(nested.Manifests) != 1 || nested.Manifests[0].Digest != el8 {
		t.Fatalf("tag a was not replaced in place: %+v", nested.Manifests)
	}
}

// Two merge processes into one OUT with different tags at once: both tags are there.
func TestMergeConcurrentProcesses(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	start := filepath.Join(t.TempDir(), "start")
	var cmds []*exec.Cmd
	for i, in := range orasInputs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "OCIL_TEST_MERGE_OUT="+fmt.Sprintf("%s:t%d", out, i), "OCIL_TEST_MERGE_IN="+filepath.Join(fx, in),
			"OCIL_TEST_MERGE_START="+start, "GORACE=atexit_sleep_ms=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		defer func() {
			if t.Failed() {
				t.Log(stderr.String())
			}
		}()
	}
	os.WriteFile(start, nil, 0o644)
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("a merge process failed: %v", err)
		}
	}
	var idx ocispec.Index
	readJSON(t, filepath.Join(out, "index.json"), &idx)
	tags := map[string]bool{}
	for _, d := range idx.Manifests {
		tags[d.Annotations[ocispec.AnnotationRefName]] = true
	}
	if len(idx.Manifests) != len(orasInputs) || len(tags) != len(orasInputs) {
		t.Fatalf("OUT has %v", tags)
	}
}

func TestMain(m *testing.M) {
	if p := os.Getenv("OCIL_TEST_HOLD_LOCK"); p != "" {
		lk, err := lock.Acquire(context.Background(), p, lock.Exclusive, 5*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Print("locked")
		time.Sleep(time.Minute)
		lk.Release()
		os.Exit(0)
	}
	if out := os.Getenv("OCIL_TEST_MERGE_OUT"); out != "" {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, err := os.Stat(os.Getenv("OCIL_TEST_MERGE_START")); err == nil || time.Now().After(deadline) {
				break
			}
		}
		_, err := merge.Merge(context.Background(), merge.Options{Output: out, Inputs: []merge.Input{{Ref: os.Getenv("OCIL_TEST_MERGE_IN")}},
			Transfer: layout.TransferOptions{Verify: true}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A merge that OUT's state rules out is refused before any blob is transferred: OUT's
// blobs and index.json stay byte for byte as they were, and a tarball OUT gets nothing
// beside it but its lock.
func TestMergeRefusedByOutputTransfersNothing(t *testing.T) {
	ctx := context.Background()
	snapshot := func(t *testing.T, dir string) string {
		t.Helper()
		var b strings.Builder
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s ", strings.TrimPrefix(p, dir))
			if d.Type().IsRegular() && d.Name() != "index.json.lock" && d.Name() != "ocil-ingest.lock" {
				data, _ := os.ReadFile(p)
				fmt.Fprintf(&b, "%s\n", digest.FromBytes(data))
			}
			return nil
		})
		return b.String()
	}
	t.Run("untagged folder OUT with an entry", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		if _, err := merge.Merge(ctx, merge.Options{Output: out, Inputs: inputs("oras-linux-amd64-el8")}); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, out)
		_, err := merge.Merge(ctx, merge.Options{Output: out, Inputs: inputs("oras-linux-arm64-v8-el9", "oras-linux-amd64-el9")})
		if !errors.Is(err, layout.ErrConflict) || !strings.Contains(err.Error(), out) {
			t.Fatalf("= %v, want ErrConflict naming %s", err, out)
		}
		if now := snapshot(t, out); now != before {
			t.Fatalf("OUT changed:\n%s\nwas\n%s", now, before)
		}
	})
	t.Run("untagged tarball OUT with an entry", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "out.tar")
		if _, err := merge.Merge(ctx, merge.Options{Output: out, Inputs: inputs("oras-linux-amd64-el8")}); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, dir)
		_, err := merge.Merge(ctx, merge.Options{Output: out, Inputs: inputs("oras-linux-arm64-v8-el9")})
		if !errors.Is(err, layout.ErrConflict) || !strings.Contains(err.Error(), out) {
			t.Fatalf("= %v, want ErrConflict naming %s", err, out)
		}
		if now := snapshot(t, dir); now != before {
			t.Fatalf("beside OUT:\n%s\nwas\n%s", now, before)
		}
	})
	t.Run("OUT with a corrupt index.json", func(t *testing.T) {
		b := tl.New(t)
		b.WriteFile("index.json", []byte(`{"schemaVersion":2,"manifests":{}}`))
		before := snapshot(t, b.Dir)
		_, err := merge.Merge(ctx, merge.Options{Output: b.Dir + ":v1", Inputs: inputs("oras-linux-amd64-el8")})
		if !errors.Is(err, layout.ErrInvalidDocument) || !strings.Contains(err.Error(), filepath.Join(b.Dir, "index.json")) {
			t.Fatalf("= %v, want ErrInvalidDocument naming %s/index.json", err, b.Dir)
		}
		if now := snapshot(t, b.Dir); now != before {
			t.Fatalf("OUT changed:\n%s\nwas\n%s", now, before)
		}
	})
}
