package capped

import (
	"bytes"
	"errors"
	"testing"
	"testing/fstest"
)

func TestReadFile(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1<<16-1) // a size class less a byte
	fsys := fstest.MapFS{"f": {Data: data}}
	b, err := ReadFile(fsys, "f", int64(len(data)))
	if err != nil || !bytes.Equal(b, data) {
		t.Fatalf("ReadFile = %d bytes, %v", len(b), err)
	}
	// Read into the buffer sized from the file: a buffer grown by doubling at the end
	// holds twice the file (a 30 MB index.json cost 60 MB more).
	if cap(b) > len(data)+len(data)/8+bytes.MinRead { // room for the allocator's rounding
		t.Errorf("the buffer holds %d bytes for a file of %d", cap(b), len(data))
	}
	if _, err := ReadFile(fsys, "f", int64(len(data))-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the bound: %v, want ErrTooLarge", err)
	}
	if _, err := ReadFile(fsys, "missing", 10); err == nil {
		t.Error("a missing file was read")
	}
}
