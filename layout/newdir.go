package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ocil-dev/ocil/internal/atomicfile"
)

// Write runs fn on the layout folder dir inside a Session, creating dir when it is
// missing, and leaves nothing behind when fn fails on a dir that did not exist.
//
// An existing dir is opened with Create (so a non-empty folder that is not a layout is
// refused) and fn works on it. A missing dir is built in a stage folder beside it
// (TempPrefix+name+"-new-*"), which is renamed to dir only once fn has succeeded: if fn
// fails, the stage and any parent folders Write made are removed. If another process
// creates dir meanwhile, the stage is dropped and fn runs again on dir as it now is, so
// fn must be safe to run twice. A write killed with SIGKILL may leave a stage folder;
// its name cannot be taken for a layout and it can be deleted.
func Write(ctx context.Context, dir string, fn func(*Layout) error, opts ...Option) error {
	if err := checkFolderName(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		return writeExisting(ctx, dir, fn, opts)
	}
	target := filepath.Clean(dir) // "new/" is the folder new; messages keep dir as given
	parent := filepath.Dir(target)
	made, err := mkdirParents(parent)
	if err != nil {
		return fmt.Errorf("create layout %s: %w", dir, err)
	}
	published := false
	defer func() {
		if !published {
			removeMadeParents(parent, made)
		}
	}()
	stage, err := os.MkdirTemp(parent, TempPrefix+filepath.Base(target)+"-new-")
	if err != nil {
		return fmt.Errorf("create layout %s: %w", dir, err)
	}
	defer os.RemoveAll(stage) // a no-op once the stage is renamed to dir
	l, err := Create(stage, opts...)
	if err != nil {
		return fmt.Errorf("create layout %s: %w", dir, err)
	}
	l.path = dir // messages name the folder the user asked for
	end, err := l.Session(ctx)
	if err != nil {
		return err
	}
	err = fn(l)
	end()
	if err != nil {
		return err
	}
	if err := atomicfile.SyncDir(stage); err != nil {
		return fmt.Errorf("create layout %s: sync: %w", dir, err)
	}
	err = renameNoReplace(stage, target)
	if errors.Is(err, fs.ErrExist) {
		// Another writer created dir first: write into it as it is now.
		published = true // dir exists, so the parents are in use
		os.RemoveAll(stage)
		return writeExisting(ctx, dir, fn, opts)
	}
	if err != nil {
		return fmt.Errorf("create layout %s: %w", dir, err)
	}
	published = true
	if err := atomicfile.SyncDir(parent); err != nil {
		return fmt.Errorf("create layout %s: sync folder: %w", dir, err)
	}
	return nil
}

// writeExisting runs fn on the layout at dir, made with Create, inside a Session.
func writeExisting(ctx context.Context, dir string, fn func(*Layout) error, opts []Option) error {
	l, err := Create(dir, opts...)
	if err != nil {
		return err
	}
	end, err := l.Session(ctx)
	if err != nil {
		return err
	}
	defer end()
	return fn(l)
}

// mkdirParents makes the folder p and its missing parents, and returns the topmost folder
// it made ("" when p existed).
func mkdirParents(p string) (made string, err error) {
	for q := p; ; {
		if _, err := os.Lstat(q); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		made = q
		up := filepath.Dir(q)
		if up == q {
			break
		}
		q = up
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", err
	}
	return made, nil
}

// removeMadeParents removes the folders mkdirParents made, from p up to made, as long
// as they are empty (another process may have put something there meanwhile).
func removeMadeParents(p, made string) {
	if made == "" {
		return
	}
	for q := p; ; q = filepath.Dir(q) {
		if os.Remove(q) != nil || q == made || filepath.Dir(q) == q {
			return
		}
	}
}

// renameIfMissing renames from to to when to does not exist yet, in two steps.
func renameIfMissing(from, to string) error {
	if _, err := os.Lstat(to); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rename to %s: %w", to, fs.ErrExist)
	}
	return os.Rename(from, to)
}
