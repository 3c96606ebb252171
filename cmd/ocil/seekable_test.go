package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ocil-dev/ocil/layout/tarfs"
)

// TestCopySeekableTarball: ocil copy to .tar.gz and .tar.zst writes seekable archives
// (read in place by ocil) that GNU tar extracts into the same layout files, skopeo reads
// as an oci-archive, that copy brings back to a folder blob for blob, and from which ls
// and pull give what they give on the folder.
func TestCopySeekableTarball(t *testing.T) {
	src := fixture("oras-linux-amd64-el9")
	wantDir := filepath.Join(t.TempDir(), "p")
	runOcil(t, "pull", "-q", src, "-o", wantDir)
	wantFiles := readTree(t, wantDir)
	if len(wantFiles) == 0 {
		t.Fatal("the fixture pulls no file")
	}
	for _, ext := range []string{".tar.gz", ".tar.zst"} {
		t.Run(ext, func(t *testing.T) {
			tmp := t.TempDir()
			out := filepath.Join(tmp, "x"+ext)
			runOcil(t, "copy", src, out)
			fsys, err := tarfs.Open(out, tarfs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			seekable := fsys.Seekable()
			fsys.Close()
			if !seekable {
				t.Fatal("not written seekable")
			}

			// GNU tar: the layout's files, byte for byte, and the index entry.
			x := filepath.Join(tmp, "x")
			os.Mkdir(x, 0o755)
			flag := "-xzf"
			if ext == ".tar.zst" {
				flag = "--zstd -xf"
			}
			if b, err := exec.Command("sh", "-c", "tar -C "+x+" "+flag+" "+out).CombinedOutput(); err != nil {
				t.Fatalf("tar: %v\n%s", err, b)
			}
			err = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(src, p)
				want, _ := os.ReadFile(p)
				got, err := os.ReadFile(filepath.Join(x, rel))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: tar extracted %d bytes (%v), the layout holds %d", rel, len(got), err, len(want))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(x, tarfs.SeekIndexName)); err != nil {
				t.Errorf("the index entry: %v", err)
			}

			// skopeo: the manifest the index lists.
			raw := runTool(t, skopeoPath(t), "inspect", "--raw", "oci-archive:"+out)
			sum := sha256.Sum256([]byte(raw))
			if want := fixtureIndex(t, "oras-linux-amd64-el9").Manifests[0].Digest.Encoded(); hex.EncodeToString(sum[:]) != want {
				t.Fatalf("skopeo inspect --raw: sha256 %x, want %s", sum, want)
			}

			// Back to a folder, several blobs at a time from their own pieces: the same
			// blobs as the source.
			back := filepath.Join(tmp, "back")
			runOcil(t, "copy", out, back)
			if got, want := readTree(t, filepath.Join(back, "blobs")), readTree(t, filepath.Join(src, "blobs")); !maps.Equal(got, want) {
				t.Errorf("copied back: %d blobs, the source has %d", len(got), len(want))
			}

			// ls and pull, as on the folder.
			if got, want := runOcil(t, "ls", out), runOcil(t, "ls", src); got != want {
				t.Errorf("ls:\n%s\nwant\n%s", got, want)
			}
			dir := filepath.Join(tmp, "p")
			runOcil(t, "pull", "-q", out, "-o", dir)
			if got := readTree(t, dir); !maps.Equal(got, wantFiles) {
				t.Errorf("pull wrote %q, want %q", got, wantFiles)
			}
		})
	}
}

// readTree maps the files under dir, by relative path, to their contents.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
