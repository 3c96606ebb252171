package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A failed add into a path that did not exist leaves nothing behind: no layout, no stage
// folder, none of the parent folders it had to make. Beside the new path, only what was
// there before remains.
func TestAddFailureLeavesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   func(dst, tmp string) []string
		code   int
		naming string
	}{
		{"missing input file", func(dst, tmp string) []string {
			return []string{"add", dst + ":v1", "--platform", "linux/amd64", filepath.Join(tmp, "file"), filepath.Join(tmp, "missing")}
		}, 1, "missing"},
		{"bad platform", func(dst, tmp string) []string {
			return []string{"add", dst + ":v1", "--platform", "linux", filepath.Join(tmp, "file")}
		}, 2, `"linux"`},
		{"missing config file", func(dst, tmp string) []string {
			return []string{"add", dst + ":v1", "--platform", "linux/amd64", "--config", filepath.Join(tmp, "no-config"), filepath.Join(tmp, "file")}
		}, 1, "no-config"},
		{"two files with one title", func(dst, tmp string) []string {
			os.MkdirAll(filepath.Join(tmp, "sub"), 0o755)
			os.WriteFile(filepath.Join(tmp, "sub", "file"), []byte("other"), 0o644)
			return []string{"add", dst + ":v1", "--platform", "linux/amd64", filepath.Join(tmp, "file"), filepath.Join(tmp, "sub", "file")}
		}, 1, "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			os.WriteFile(filepath.Join(tmp, "file"), []byte("payload"), 0o644)
			for _, dst := range []string{filepath.Join(tmp, "new"), filepath.Join(tmp, "a", "b", "new")} {
				args := tc.args(dst, tmp)
				before := dirList(t, tmp)
				code, _, stderr := runCLI(t, args...)
				if code != tc.code || !strings.Contains(stderr, tc.naming) {
					t.Fatalf("ocil %v: exit %d, %s; want exit %d naming %s", args, code, stderr, tc.code, tc.naming)
				}
				if after := dirList(t, tmp); after != before {
					t.Fatalf("the failed add left:\n%s\nwas:\n%s", after, before)
				}
			}
		})
	}
	// The same add with the input present creates the layout, parents included.
	tmp := t.TempDir()
	os.WriteFile(filepath.Join(tmp, "file"), []byte("payload"), 0o644)
	dst := filepath.Join(tmp, "a", "b", "new")
	if code, _, stderr := runCLI(t, "add", dst+":v1", "--platform", "linux/amd64", filepath.Join(tmp, "file")); code != 0 {
		t.Fatal(stderr)
	}
	checkLayout(t, dst, 1)
	if ents, _ := os.ReadDir(filepath.Join(tmp, "a", "b")); len(ents) != 1 || ents[0].Name() != "new" {
		t.Fatalf("beside the new layout: %v, want it alone (no stage folder)", ents)
	}
}

// dirList lists every path under dir, one a line.
func dirList(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		b.WriteString(rel + "\n")
		return nil
	})
	return b.String()
}
