package tarfs

import (
	"fmt"
	"io"
	"testing"
)

// BenchmarkOpenCompressed opens a compressed archive of 8 blobs of 8 MiB and reads its
// index.json and one small blob, as ls and cat do: in place through the seek index
// ("seekable"), and with the footer cut off, so that Open decompresses it whole ("whole").
//
//	go test -run '^$' -bench OpenCompressed ./layout/tarfs
func BenchmarkOpenCompressed(b *testing.B) {
	ents := layoutEnts()
	for i := range 8 {
		body := randomBytes(8<<20, uint64(10+i))
		ents = append(ents, ent{name: "blobs/sha256/" + sha256Hex(body), body: body})
	}
	small := ents[2].name
	for _, c := range []string{compressionGzip, compressionZstd} {
		data := buildSeekable(b, c, nil, ents...)
		foot := FooterSizeZstd
		if c == compressionGzip {
			foot = FooterSizeGzip
		}
		for _, form := range []struct {
			name string
			size int
		}{{"seekable", len(data)}, {"whole", len(data) - foot}} {
			p := writeFile(b, "x.tar", data[:form.size])
			tmp := b.TempDir()
			b.Run(fmt.Sprintf("%s/%s", c, form.name), func(b *testing.B) {
				for b.Loop() {
					fsys, err := Open(p, Options{TempDir: tmp})
					if err != nil {
						b.Fatal(err)
					}
					for _, name := range []string{"index.json", small} {
						f, err := fsys.Open(name)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := io.Copy(io.Discard, f); err != nil {
							b.Fatal(err)
						}
						f.Close()
					}
					if fsys.Seekable() != (form.name == "seekable") {
						b.Fatalf("Seekable() = %v", fsys.Seekable())
					}
					fsys.Close()
				}
			})
		}
	}
}
