//go:build unix

package layout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

// within runs f, failing the test if it has not returned by the bound: on a FIFO a read
// that waits for a writer would never return.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("still waiting after 60 s: a FIFO was opened or read")
		return nil
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
}

// FIFOs are never opened: as a blob, index.json, oci-layout or a tarball, each is refused
// with an error naming it, at once; reading one used to wait for a writer for ever.
func TestFIFOsAreRefused(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	m := b.Image(tl.P("linux", "amd64", "", ""), "the layer")
	b.SetIndex(tl.Tag(m, "v1"))
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	mkfifo(t, filepath.Join(b.Dir, "blobs", "sha256", m.Digest.Encoded()))
	err = within(t, func() error { _, err := l.ReadBlob(ctx, m); return err })
	if !errors.Is(err, layout.ErrUnsafeFile) || !strings.Contains(err.Error(), m.Digest.String()) || !strings.Contains(err.Error(), "is a FIFO") {
		t.Errorf("blob: %v", err)
	}
	err = within(t, func() error { _, err := l.GC(ctx, layout.GCOptions{DryRun: true}); return err })
	if !errors.Is(err, layout.ErrUnsafeFile) || !strings.Contains(err.Error(), m.Digest.String()) {
		t.Errorf("gc over a FIFO manifest: %v", err)
	}

	mkfifo(t, filepath.Join(b.Dir, "index.json"))
	err = within(t, func() error { _, err := l.Index(ctx); return err })
	if !errors.Is(err, layout.ErrUnsafeFile) || !strings.Contains(err.Error(), "index.json is a FIFO") {
		t.Errorf("index.json: %v", err)
	}
	mkfifo(t, filepath.Join(b.Dir, "oci-layout"))
	err = within(t, func() error { _, err := layout.Open(b.Dir); return err })
	if !errors.Is(err, layout.ErrUnsafeFile) || !strings.Contains(err.Error(), "oci-layout is a FIFO") {
		t.Errorf("oci-layout: %v", err)
	}
	tarball := filepath.Join(t.TempDir(), "in.tar")
	mkfifo(t, tarball)
	err = within(t, func() error { _, err := layout.Open(tarball); return err })
	if !errors.Is(err, layout.ErrInvalidArchive) || !strings.Contains(err.Error(), tarball) || !strings.Contains(err.Error(), "a FIFO, not a regular file") {
		t.Errorf("tarball: %v", err)
	}
}
