package progress

import (
	"bytes"
	"testing"
)

func TestSilentWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "merge", false)
	b.Update(1, 2)
	b.Done()
	if b != nil || buf.Len() != 0 {
		t.Fatalf("wrote %q to a buffer", buf.String())
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDraws(t *testing.T) {
	var buf bytes.Buffer
	b := &Bar{w: &buf, label: "merge"}
	b.Update(512, 1024)
	if !bytes.Contains(buf.Bytes(), []byte("50.0%")) || !bytes.Contains(buf.Bytes(), []byte("512 B / 1.0 KiB")) {
		t.Fatalf("drew %q", buf.String())
	}
	b.Done()
	if !bytes.HasSuffix(buf.Bytes(), []byte("\r\033[K")) {
		t.Fatalf("Done did not clear the line: %q", buf.String())
	}
}
