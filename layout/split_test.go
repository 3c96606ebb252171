package layout_test

import (
	"errors"
	"math"
	"testing"

	"github.com/ocil-dev/ocil/layout"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "700": 700, "4k": 4000, "4K": 4000, "4KB": 4000, "4kB": 4000,
		"700M": 700e6, "700MB": 700e6, "4G": 4e9, "4GB": 4e9, "1T": 1e12, "1TB": 1e12,
		"4KiB": 4 << 10, "4MiB": 4 << 20, "4GiB": 4 << 30, "1TiB": 1 << 40, "007": 7,
		"9223372036854775807": math.MaxInt64, "8388607TiB": 8388607 << 40,
	} {
		got, err := layout.ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "0", "0G", "-1", "+1", " 1", "1 ", "1.5G", "4 G", "G", "4g", "4gb", "4Gib", "4GIB", "4mb", "4Mb", "4Kb", "4kb", "4m",
		"0x10", "1e3", "1_000", "9223372036854775808", "8388608TiB", "4GiBs", "١",
	} {
		if got, err := layout.ParseSize(in); err == nil || !errors.Is(err, layout.ErrInvalidOption) {
			t.Errorf("ParseSize(%q) = %d, %v; want ErrInvalidOption", in, got, err)
		}
	}
}
