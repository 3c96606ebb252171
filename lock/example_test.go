package lock_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ocil-dev/ocil/lock"
)

func ExampleAcquire() {
	layout, err := os.MkdirTemp("", "layout")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(layout)

	// Guard a read-modify-write of index.json.
	l, err := lock.Acquire(context.Background(), filepath.Join(layout, "index.json.lock"), lock.Exclusive, 5*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Release()
	fmt.Println("holding", filepath.Base(l.Path()))

	// Each Lock has its own open file, so a second one conflicts even in this process.
	_, ok, err := lock.TryAcquire(l.Path(), lock.Shared)
	fmt.Println("shared lock granted:", ok, err)

	if err := l.Release(); err != nil {
		fmt.Println(err)
		return
	}
	_, err = os.Stat(l.Path())
	fmt.Println("released; lock file kept:", err == nil)
	// Output:
	// holding index.json.lock
	// shared lock granted: false <nil>
	// released; lock file kept: true
}
