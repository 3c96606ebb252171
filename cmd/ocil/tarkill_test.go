//go:build !windows

package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A merge into out.tar killed with SIGKILL while its stage folder exists leaves it beside
// out.tar; the next merge into out.tar removes it once it holds out.tar.lock, and touches
// nothing else there.
func TestKilledTarballWriterLeftoversRemoved(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	big := filepath.Join(tmp, "big")
	data := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{7}).Read(data)
	os.WriteFile(big, data, 0o644)
	if code, _, stderr := runCLI(t, "add", src+":v1", "--platform", "linux/amd64", big); code != 0 {
		t.Fatal(stderr)
	}
	outDir := filepath.Join(tmp, "out")
	os.Mkdir(outDir, 0o755)
	out := filepath.Join(outDir, "out.tar")
	os.WriteFile(filepath.Join(outDir, "keep.txt"), []byte("mine"), 0o644)

	leftovers := func() []string {
		ents, _ := os.ReadDir(outDir)
		var names []string
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".ocil-tmp-out.tar-") {
				names = append(names, e.Name())
			}
		}
		return names
	}
	// Kill a merge as soon as its stage folder shows; if one finishes first, try again.
	for try := 0; len(leftovers()) == 0; try++ {
		if try == 20 {
			t.Fatal("no merge was caught with its stage folder in 20 tries")
		}
		cmd := ocilProcess(t, "merge", "-q", "--link", "copy", "-o", out+":v1", src+":v1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
	poll:
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
			select {
			case <-exited:
				break poll
			default:
			}
			if len(leftovers()) > 0 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		<-exited
	}
	killed := leftovers()
	t.Logf("left by the killed merge: %v", killed)

	if code, _, stderr := runCLI(t, "merge", "-q", "-o", out+":v2", src+":v1"); code != 0 {
		t.Fatal(stderr)
	}
	if l := leftovers(); len(l) != 0 {
		t.Fatalf("still beside out.tar: %v", l)
	}
	ents, _ := os.ReadDir(outDir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"keep.txt", "out.tar", "out.tar.lock"}) {
		t.Fatalf("beside out.tar: %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(outDir, "keep.txt")); string(b) != "mine" {
		t.Fatalf("keep.txt changed: %q", b)
	}
	if code, _, stderr := runCLI(t, "validate", out); code != 0 {
		t.Fatalf("validate %s: exit %d\n%s", out, code, stderr)
	}
}
