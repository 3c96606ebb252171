package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The reference pages in docs/cli and the man page docs/ocil.1 are generated from the
// command tree; this test fails when they are stale and rewrites them with -update.
func TestDocsUpToDate(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	want := map[string]string{"README.md": commandIndex(app)}
	for _, c := range app.Commands {
		if c.Hidden || c.Name == "help" {
			continue
		}
		want["ocil_"+c.Name+".md"] = commandDoc(c)
	}
	man := manPage(app)
	dir := filepath.Join("..", "..", "docs", "cli")
	check := func(path, content string) {
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("%s is stale (run go test ./cmd/ocil -update)", path)
		}
	}
	for name, content := range want {
		check(filepath.Join(dir, name), content)
	}
	check(filepath.Join("..", "..", "docs", "ocil.1"), man)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if _, ok := want[e.Name()]; !ok {
			if *update {
				os.Remove(filepath.Join(dir, e.Name()))
			} else {
				t.Errorf("%s documents no command", filepath.Join(dir, e.Name()))
			}
		}
	}
}
