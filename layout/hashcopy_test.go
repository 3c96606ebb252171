package layout

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestCopyHashing(t *testing.T) {
	for _, size := range []int{0, 1, 1 << 20, 1<<20 + 1, 3<<20 + 17} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for name, r := range map[string]io.Reader{
			"whole":    bytes.NewReader(data),
			"one-byte": iotest.OneByteReader(bytes.NewReader(data)),
			"half":     iotest.HalfReader(bytes.NewReader(data)),
		} {
			var out bytes.Buffer
			h := sha256.New()
			n, err := copyHashing(&out, r, h)
			want := sha256.Sum256(data)
			if err != nil || n != int64(size) || !bytes.Equal(out.Bytes(), data) || !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatalf("size %d, %s: n=%d err=%v, copy equal %v, hash equal %v", size, name, n, err, bytes.Equal(out.Bytes(), data), bytes.Equal(h.Sum(nil), want[:]))
			}
		}
	}
	boom := errors.New("boom")
	if _, err := copyHashing(io.Discard, iotest.ErrReader(boom), sha256.New()); !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
}
