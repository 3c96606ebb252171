package interop

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// tool checks one target with one client library or program.
type tool struct {
	name  string
	check func(t tb, tg *target)
}

// tools is the other axis of the matrix: every tool checks every target of every scenario.
var tools = []tool{
	{toolOcil, checkOcil},
	{toolGCR, checkGCR},
	{toolORAS, checkORAS},
	{toolRegclient, checkRegclient},
	{toolSkopeo, checkSkopeo},
}

// TestInterop is the scenario × tool matrix: each scenario's ocil commands run in a
// fresh folder, then each tool reads each layout and tarball they wrote. Subtests are
// named scenario/target/tool.
func TestInterop(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			targets := sc.build(t, t.TempDir())
			for _, tg := range targets {
				t.Run(tg.Name, func(t *testing.T) {
					before := snapshot(t, tg.Path)
					skipped := map[string]bool{}
					for _, tl := range tools {
						t.Run(tl.name, func(t *testing.T) {
							tl.check(t, tg)
							if t.Skipped() {
								skipped[tl.name] = true
							}
						})
					}
					checkKnownSeen(t, tg, skipped)
					if after := snapshot(t, tg.Path); after != before {
						t.Errorf("[interop] %s: unchanged: a reader modified the layout (before %s, after %s)", tg.Name, before, after)
					}
				})
			}
		})
	}
}

// snapshot hashes the names and contents of every file under path (or the file itself),
// so that a reader that writes into what it reads is caught.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	h := sha256.New()
	var files []string
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", path, err)
	}
	sort.Strings(files)
	for _, p := range files {
		rel, _ := filepath.Rel(path, p)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(h, rel+"\x00"+fi.Mode().Type().String()+"\x00")
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
