package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "index.json")
	for _, data := range []string{"old", "new"} {
		if err := WriteFile(p, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != data {
			t.Fatalf("%q, want %q", b, data)
		}
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if got := names(t, dir); len(got) != 1 {
		t.Fatalf("left behind: %v", got)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), nil, 0o644); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("into a missing folder: %v", err)
	}
}

func TestDiscardRemovesUncommitted(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(dir, "blob-*")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(f.Name()), TempPrefix+"blob-") {
		t.Fatalf("temp name %s", f.Name())
	}
	f.Write([]byte("part"))
	f.Discard()
	f.Discard()
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
	f, _ = Create(dir, "*")
	f.Write([]byte("whole"))
	if err := f.Commit(filepath.Join(dir, "blob"), 0o444, false); err != nil {
		t.Fatal(err)
	}
	f.Discard() // after Commit: nothing to do
	if b, _ := os.ReadFile(filepath.Join(dir, "blob")); string(b) != "whole" {
		t.Fatalf("%q", b)
	}
	if got := names(t, dir); len(got) != 1 {
		t.Fatalf("left behind: %v", got)
	}
}

func TestCreateInStaysInRoot(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := CreateIn(root, ".."); err == nil {
		t.Fatal("a temp file outside the root was made")
	}
	f, err := CreateIn(root, "sub")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("pulled"))
	if err := f.Commit(filepath.Join("sub", "tool"), 0o644, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "tool")); string(b) != "pulled" {
		t.Fatalf("%q", b)
	}
	if got := names(t, filepath.Join(dir, "sub")); len(got) != 1 {
		t.Fatalf("left behind: %v", got)
	}
}

// CommitAll names no file before every one is synced: one that cannot be synced (here
// closed under it) leaves none renamed and every temp file removed. Held files are left
// alone by Discard; CommitAll names them all when nothing fails.
func TestCommitAllAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	hold := func(n int) []Pending {
		var ps []Pending
		for i := range n {
			f, err := Create(dir, "*")
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte{byte('a' + i)})
			f.Hold()
			f.Discard() // held: no effect
			ps = append(ps, Pending{File: f, Final: filepath.Join(dir, string(rune('a'+i)))})
		}
		return ps
	}
	ps := hold(5)
	ps[3].File.File.Close()
	if err := CommitAll(ps, 0o444, 2); err == nil {
		t.Fatal("a file that cannot be synced was committed")
	}
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
	ps = hold(5)
	if err := CommitAll(ps, 0o444, 3); err != nil {
		t.Fatal(err)
	}
	got := names(t, dir)
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("committed: %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "c")); string(b) != "c" {
		t.Fatalf("c holds %q", b)
	}
}
