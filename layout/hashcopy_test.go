package layout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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

// TestVerifiedCopy: the one copy loop refuses a source shorter or longer than the
// descriptor and, when verifying, bytes that do not hash to its digest; what it passes
// is exactly the descriptor's bytes.
func TestVerifiedCopy(t *testing.T) {
	data := []byte("the blob's bytes")
	d := ocispec.Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data))}
	for _, tc := range []struct {
		name   string
		src    string
		verify bool
		want   error
	}{
		{"exact", string(data), true, nil},
		{"exact unverified", string(data), false, nil},
		{"short", string(data[:5]), true, ErrSizeMismatch},
		{"long", string(data) + "!", true, ErrSizeMismatch},
		{"long unverified", string(data) + "!", false, ErrSizeMismatch},
		{"other bytes", strings.ToUpper(string(data)), true, ErrDigestMismatch},
		{"other bytes unverified", strings.ToUpper(string(data)), false, nil},
	} {
		var out bytes.Buffer
		err := verifiedCopy(context.Background(), &out, strings.NewReader(tc.src), d, tc.verify)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if err == nil && out.Len() != len(data) {
			t.Errorf("%s: wrote %d bytes", tc.name, out.Len())
		}
	}
}
