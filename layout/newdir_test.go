package layout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

// Write builds a missing layout in a stage folder and publishes it only on success; when
// another writer creates the layout meanwhile, fn runs again on that one, and its entries
// are kept.
func TestWriteNewLayout(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	t.Run("names that are never folders", func(t *testing.T) {
		tmp := t.TempDir()
		t.Chdir(tmp)
		for _, dir := range []string{"-", "out.tar", filepath.Join("a", "out.tar.zst")} {
			ran := false
			err := layout.Write(ctx, dir, func(*layout.Layout) error { ran = true; return nil })
			if err == nil || ran {
				t.Errorf("Write(%s) = %v, fn ran: %v; want a refusal before fn", dir, err, ran)
			}
		}
		if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
			t.Errorf("refused writes left %v", ents)
		}
	})
	t.Run("failure leaves nothing", func(t *testing.T) {
		tmp := t.TempDir()
		dir := filepath.Join(tmp, "x", "y", "new")
		err := layout.Write(ctx, dir, func(l *layout.Layout) error {
			if l.Path() != dir {
				t.Errorf("Path() = %s, want %s", l.Path(), dir)
			}
			if _, err := l.PutBlob(ctx, "text/plain", []byte("written before the failure")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("= %v", err)
		}
		if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
			t.Fatalf("left behind: %v", ents)
		}
	})
	t.Run("created meanwhile", func(t *testing.T) {
		tmp := t.TempDir()
		dir := filepath.Join(tmp, "new")
		calls := 0
		err := layout.Write(ctx, dir, func(l *layout.Layout) error {
			calls++
			if calls == 1 {
				// Another writer creates dir and tags an entry while this one is staging.
				other, err := layout.Create(dir)
				if err != nil {
					return err
				}
				d, err := other.PutBlob(ctx, ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2}`))
				if err != nil {
					return err
				}
				if err := other.SetEntry(ctx, "other", d); err != nil {
					return err
				}
			}
			d, err := l.PutBlob(ctx, "text/plain", []byte("mine"))
			if err != nil {
				return err
			}
			return l.SetEntry(ctx, "mine", d)
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 {
			t.Fatalf("fn ran %d times, want 2 (on the stage, then on the layout created meanwhile)", calls)
		}
		l, err := layout.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		idx, _ := l.Index(ctx)
		if len(idx.Manifests) != 2 || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "other" || idx.Manifests[1].Annotations[ocispec.AnnotationRefName] != "mine" {
			t.Fatalf("index.json = %+v, want other then mine", idx.Manifests)
		}
		if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
			t.Fatalf("beside the layout: %v, want it alone", ents)
		}
	})
	t.Run("trailing slash", func(t *testing.T) {
		tmp := t.TempDir()
		dir := filepath.Join(tmp, "new") + string(filepath.Separator)
		calls := 0
		err := layout.Write(ctx, dir, func(l *layout.Layout) error {
			calls++
			_, err := l.PutBlob(ctx, "text/plain", []byte("x"))
			return err
		})
		if err != nil || calls != 1 {
			t.Fatalf("= %v after %d calls, want success after one", err, calls)
		}
		if ents, _ := os.ReadDir(tmp); len(ents) != 1 || ents[0].Name() != "new" {
			t.Fatalf("beside the layout: %v", ents)
		}
		if _, err := layout.Open(dir); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("existing folder that is not a layout", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "src.go"), []byte("package x"), 0o644)
		err := layout.Write(ctx, dir, func(*layout.Layout) error { t.Error("fn ran"); return nil })
		if !errors.Is(err, layout.ErrNotLayout) {
			t.Fatalf("= %v, want ErrNotLayout", err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("the folder changed: %v", ents)
		}
	})
}
