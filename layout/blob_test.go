package layout_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

func blobFile(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func TestOpenBlobVerifies(t *testing.T) {
	ctx := context.Background()
	b := testlayout.New(t)
	good := b.Blob("application/octet-stream", []byte("hello world"))
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.ReadBlob(ctx, good)
	if err != nil || string(got) != "hello world" {
		t.Fatalf("ReadBlob = %q, %v", got, err)
	}

	// Same length, other bytes: only the hash can tell.
	corrupt := b.Blob("application/octet-stream", []byte("hello there"))
	os.Chmod(blobFile(b.Dir, corrupt.Digest), 0o644)
	os.WriteFile(blobFile(b.Dir, corrupt.Digest), []byte("hello THERE"), 0o644)

	tests := []struct {
		name string
		d    ocispec.Descriptor
		want error
	}{
		{"digest mismatch", corrupt, layout.ErrDigestMismatch},
		{"descriptor longer than blob", ocispec.Descriptor{Digest: good.Digest, Size: good.Size + 1}, layout.ErrSizeMismatch},
		{"descriptor shorter than blob", ocispec.Descriptor{Digest: good.Digest, Size: good.Size - 1}, layout.ErrSizeMismatch},
		{"missing", ocispec.Descriptor{Digest: digest.FromString("nope"), Size: 4}, layout.ErrNotFound},
		{"unverifiable algorithm", ocispec.Descriptor{Digest: "blake3:" + digest.Digest(strings.Repeat("a", 64)), Size: 1}, layout.ErrUnsupportedAlgorithm},
		{"invalid digest", ocispec.Descriptor{Digest: "sha256:../../etc/passwd", Size: 1}, layout.ErrInvalidDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.ReadBlob(ctx, tt.d)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadBlob = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), string(tt.d.Digest)) {
				t.Fatalf("error %q does not name the digest", err)
			}
		})
	}
}

// The verifier must also catch a blob that grows or shrinks after the size check at open,
// which a stat-only check would miss.
func TestOpenBlobDetectsTrailingDataWhileReading(t *testing.T) {
	ctx := context.Background()
	b := testlayout.New(t)
	d := b.Blob("application/octet-stream", []byte("0123456789"))
	l, _ := layout.Open(b.Dir)
	rc, err := l.OpenBlob(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	p := blobFile(b.Dir, d.Digest)
	os.Chmod(p, 0o644)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("extra")
	f.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, layout.ErrSizeMismatch) {
		t.Fatalf("ReadAll = %v, want ErrSizeMismatch", err)
	}
}

func TestWriteBlob(t *testing.T) {
	ctx := context.Background()
	b := testlayout.New(t)
	l, _ := layout.Open(b.Dir)
	data := []byte("layer bytes")
	d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(data), Size: int64(len(data))}

	written, err := l.WriteBlob(ctx, d, bytes.NewReader(data))
	if err != nil || !written {
		t.Fatalf("WriteBlob = %v, %v", written, err)
	}
	fi, err := os.Stat(blobFile(b.Dir, d.Digest))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o444 {
		t.Fatalf("mode %v, want 0444", fi.Mode().Perm())
	}
	onDisk, _ := os.ReadFile(blobFile(b.Dir, d.Digest))
	if !bytes.Equal(onDisk, data) {
		t.Fatalf("blob holds %q", onDisk)
	}
	// Present with the right size: not written again, and the reader is not read.
	written, err = l.WriteBlob(ctx, d, errReader{})
	if err != nil || written {
		t.Fatalf("second WriteBlob = %v, %v; want skipped", written, err)
	}

	other := []byte("other bytes")
	od := ocispec.Descriptor{Digest: digest.FromBytes(other), Size: int64(len(other))}
	fails := []struct {
		name string
		d    ocispec.Descriptor
		r    io.Reader
		want error
	}{
		{"wrong bytes", od, bytes.NewReader([]byte("OTHER bytes")), layout.ErrDigestMismatch},
		{"short", od, bytes.NewReader(other[:3]), layout.ErrSizeMismatch},
		{"long", od, bytes.NewReader(append(other, 'x')), layout.ErrSizeMismatch},
		{"invalid digest", ocispec.Descriptor{Digest: "sha256:../x", Size: 1}, bytes.NewReader(nil), layout.ErrInvalidDigest},
		{"unverifiable", ocispec.Descriptor{Digest: "blake3:" + digest.Digest(strings.Repeat("a", 64)), Size: 1}, bytes.NewReader([]byte("x")), layout.ErrUnsupportedAlgorithm},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := l.WriteBlob(ctx, tt.d, tt.r); !errors.Is(err, tt.want) {
				t.Fatalf("WriteBlob = %v, want %v", err, tt.want)
			}
			if _, err := os.Stat(blobFile(b.Dir, od.Digest)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a failed write left the blob file: %v", err)
			}
		})
	}
	// Nothing but the one good blob: no temp files left behind.
	ents, _ := os.ReadDir(filepath.Join(b.Dir, "blobs", "sha256"))
	if len(ents) != 1 || ents[0].Name() != d.Digest.Encoded() {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("blobs/sha256 holds %v", names)
	}
}

func TestWriteBlobCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := testlayout.New(t)
	l, _ := layout.Open(b.Dir)
	data := []byte("x")
	_, err := l.WriteBlob(ctx, ocispec.Descriptor{Digest: digest.FromBytes(data), Size: 1}, bytes.NewReader(data))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteBlob = %v, want context.Canceled", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("must not be read") }
