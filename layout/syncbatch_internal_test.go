package layout

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// blobNames lists blobs/sha256 of dir: the names under a digest, and the temp files.
func blobNames(t *testing.T, dir string) (final, temp []string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), TempPrefix) {
			temp = append(temp, e.Name())
		} else {
			final = append(final, e.Name())
		}
	}
	return final, temp
}

// A Transfer into a folder writes every blob to a temp file and names none of them before
// all are synced: at any moment before its end (the hook stands for a crash there) no
// blob it writes is under its digest name. A failure after some blobs were written removes
// them all, temp files included, and leaves index.json as it was; without the failure
// every blob arrives whole and no temp file is left.
func TestTransferNamesBlobsOnlyOnceSynced(t *testing.T) {
	ctx := context.Background()
	src, ds, _ := kernelLayout(t, 3<<20, 100, kernelCopyMin, 5000, 2<<20)
	var jobs []TransferBlob
	for _, d := range ds {
		jobs = append(jobs, TransferBlob{From: src, Blob: d})
	}
	for _, failAt := range []int{1, 3, len(ds) - 1, -1} {
		dst := filepath.Join(t.TempDir(), "dst")
		l, err := Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		indexBefore, _ := os.ReadFile(filepath.Join(dst, IndexFile))
		injected := errors.New("injected failure")
		held := 0
		transferTestHook = func(n int) error {
			held = n
			if final, _ := blobNames(t, dst); len(final) != 0 {
				t.Errorf("fail at %d: after %d blobs written, %v are under their digest before the sync", failAt, n, final)
			}
			if n == failAt {
				return injected
			}
			return nil
		}
		o, err := OpenOutput(ctx, dst, OutputOptions{Transfer: TransferOptions{Mode: LinkCopy, Verify: true}, Existing: true})
		if err != nil {
			t.Fatal(err)
		}
		err = o.Write(ctx, func(*Layout) error {
			_, err := o.Transfer(ctx, jobs)
			return err
		})
		o.Close()
		transferTestHook = nil
		final, temp := blobNames(t, dst)
		if len(temp) != 0 {
			t.Errorf("fail at %d: temp files left: %v", failAt, temp)
		}
		if idx, _ := os.ReadFile(filepath.Join(dst, IndexFile)); !bytes.Equal(idx, indexBefore) {
			t.Errorf("fail at %d: index.json changed", failAt)
		}
		if failAt >= 0 {
			if !errors.Is(err, injected) || held != failAt {
				t.Errorf("fail at %d: %v after %d blobs", failAt, err, held)
			}
			if len(final) != 0 {
				t.Errorf("fail at %d: blobs left: %v", failAt, final)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(final) != len(ds) {
			t.Fatalf("%d blobs arrived, want %d", len(final), len(ds))
		}
		for _, d := range ds {
			got, _ := os.ReadFile(filepath.Join(dst, "blobs", "sha256", d.Digest.Encoded()))
			want, _ := os.ReadFile(blobFile(src, d))
			fi, _ := os.Stat(filepath.Join(dst, "blobs", "sha256", d.Digest.Encoded()))
			if !bytes.Equal(got, want) || fi.Mode().Perm() != 0o444 {
				t.Errorf("blob %s differs or has mode %v", d.Digest, fi.Mode())
			}
		}
	}
}

// A batch flushes itself once it holds syncBatchMax files, so a Transfer of many blobs
// keeps a bounded number of files open; every blob still arrives.
func TestTransferBatchBounded(t *testing.T) {
	ctx := context.Background()
	sizes := make([]int, syncBatchMax+7)
	for i := range sizes {
		sizes[i] = 10 + i
	}
	src, ds, _ := kernelLayout(t, sizes...)
	var jobs []TransferBlob
	for _, d := range ds {
		jobs = append(jobs, TransferBlob{From: src, Blob: d})
	}
	most := 0
	transferTestHook = func(n int) error { most = max(most, n); return nil }
	defer func() { transferTestHook = nil }()
	dst := filepath.Join(t.TempDir(), "dst")
	o, err := OpenOutput(ctx, dst, OutputOptions{Transfer: TransferOptions{Mode: LinkCopy, Verify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Write(ctx, func(l *Layout) error {
		if _, err := o.Transfer(ctx, jobs); err != nil {
			return err
		}
		_, err := l.PutBlob(ctx, ocispec.MediaTypeImageConfig, []byte("{}"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if most >= syncBatchMax {
		t.Errorf("a batch held %d files, the bound is %d", most, syncBatchMax)
	}
	final, temp := blobNames(t, dst)
	if len(final) != len(ds)+1 || len(temp) != 0 {
		t.Errorf("%d blobs and temp files %v, want %d blobs", len(final), temp, len(ds)+1)
	}
}
