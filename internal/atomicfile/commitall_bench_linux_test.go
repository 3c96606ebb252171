package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkCommitAll commits 256 files of 64 KiB in a fresh folder, the way a Transfer of
// small blobs does: one Commit after another (each fsync waits for the one before), with
// CommitAll syncing 2 or 16 at once, and with one syncfs(2) of the whole file system
// instead of the fsyncs (which also writes every other process's dirty data on it).
func BenchmarkCommitAll(b *testing.B) {
	const n, size = 256, 64 << 10
	data := make([]byte, size)
	parent := b.TempDir()
	run := 0
	write := func(b *testing.B) (string, []Pending) {
		dir := filepath.Join(parent, fmt.Sprint(run))
		run++
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		ps := make([]Pending, n)
		for i := range ps {
			f, err := Create(dir, "*")
			if err != nil {
				b.Fatal(err)
			}
			f.Write(data)
			f.Hold()
			ps[i] = Pending{File: f, Final: filepath.Join(dir, fmt.Sprint(i))}
		}
		return dir, ps
	}
	for _, c := range []struct {
		name string
		run  func(dir string, ps []Pending) error
	}{
		{"serial", func(_ string, ps []Pending) error {
			for _, p := range ps {
				p.File.held = false
				if err := p.File.Commit(p.Final, 0o444, false); err != nil {
					return err
				}
			}
			return nil
		}},
		{"jobs2", func(_ string, ps []Pending) error { return CommitAll(ps, 0o444, 2) }},
		{"jobs16", func(_ string, ps []Pending) error { return CommitAll(ps, 0o444, 16) }},
		{"syncfs", func(dir string, ps []Pending) error {
			d, err := os.Open(dir)
			if err != nil {
				return err
			}
			defer d.Close()
			if err := unix.Syncfs(int(d.Fd())); err != nil {
				return err
			}
			for _, p := range ps {
				p.File.NoSync = true
			}
			return CommitAll(ps, 0o444, 1)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(n * size)
			for b.Loop() {
				b.StopTimer()
				dir, ps := write(b)
				b.StartTimer()
				if err := c.run(dir, ps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
