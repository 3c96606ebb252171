//go:build !windows

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

// 24 writer processes (12 adds into one tag, 12 merges into tags of their own) and a gc
// loop run while another loop keeps deleting index.json.lock and ocil-ingest.lock: every
// write lands and ocil validate finds no error. Before writers locked the layout folder
// and blobs/ as well, about one add in six was lost this way, and gc removed blobs that
// index.json went on to reference (TestIndexLockSurvivesDeletedLockFile and
// TestIngestLockSurvivesDeletedLockFile in package layout show each failure in isolation).
func TestWritersSurviveDeletedLockFiles(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "layout")
	if code, _, stderr := runCLI(t, "add", dst+":seed", "--platform", "linux/amd64", filepath.Join("..", "..", "README.md")); code != 0 {
		t.Fatal(stderr)
	}

	stop := make(chan struct{})
	var deleted atomic.Int64
	deleterDone := make(chan struct{})
	go func() {
		defer close(deleterDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, name := range []string{layout.LockFile, layout.IngestLockFile} {
				if err := os.Remove(filepath.Join(dst, name)); err == nil {
					deleted.Add(1)
				} else if !errors.Is(err, fs.ErrNotExist) {
					t.Error(err)
				}
			}
			time.Sleep(200 * time.Microsecond) // leave the writers some CPU
		}
	}()
	gcDone := make(chan error, 1)
	go func() {
		runs := 0
		for {
			select {
			case <-stop:
				if runs == 0 {
					gcDone <- errors.New("gc never ran")
				} else {
					gcDone <- nil
				}
				return
			default:
			}
			if out, err := ocilProcess(t, "gc", dst, "--lock-timeout", "120s").CombinedOutput(); err != nil {
				gcDone <- fmt.Errorf("gc: %v\n%s", err, out)
				return
			}
			runs++
		}
	}()

	const writers = 24
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for i := range writers {
		var cmd *exec.Cmd
		if i%2 == 0 {
			f := filepath.Join(tmp, fmt.Sprintf("w%02d", i))
			os.WriteFile(f, []byte(fmt.Sprintf("writer %d", i)), 0o644)
			cmd = ocilProcess(t, "add", dst+":v1", "--platform", fmt.Sprintf("linux/arm64:w%d", i), "--lock-timeout", "120s", f)
		} else {
			in := [][2]string{{"oras-linux-amd64-el8", "oras-linux-arm64-v8-el9"}, {"oras-linux-amd64-el9", "oras-linux-arm64-v8-el8"}}[i/2%2]
			cmd = ocilProcess(t, "merge", "-q", "-o", fmt.Sprintf("%s:m%d", dst, i), "--lock-timeout", "120s",
				"../../testdata/fixtures/"+in[0], "../../testdata/fixtures/"+in[1])
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, cmd), append(errs, &stderr)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer %d: %v\n%s", i, err, errs[i])
		}
	}
	close(stop)
	<-deleterDone
	if err := <-gcDone; err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}
	if deleted.Load() == 0 {
		t.Fatal("no lock file was ever deleted: the test proved nothing")
	}
	t.Logf("lock files deleted %d times", deleted.Load())

	checkLayout(t, dst, writers/2) // validate finds no error; v1 holds all 12 adds
	l, err := layout.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := l.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]int{}
	for _, d := range idx.Manifests {
		tags[d.Annotations[ocispec.AnnotationRefName]]++
	}
	want := []string{"seed", "v1"}
	for i := 1; i < writers; i += 2 {
		want = append(want, fmt.Sprintf("m%d", i))
	}
	for _, tag := range want {
		if tags[tag] != 1 {
			t.Errorf("tag %s is in index.json %d times, want once", tag, tags[tag])
		}
	}
	if len(idx.Manifests) != len(want) {
		t.Errorf("index.json has %d entries, want %d: %v", len(idx.Manifests), len(want), tags)
	}
}
