package tarfs_test

import (
	"fmt"
	"io/fs"
	"log"

	"github.com/ocil-dev/ocil/layout/tarfs"
)

func ExampleOpen() {
	fsys, err := tarfs.Open("../../testdata/fixtures/oras-amd64-el9.tar.gz", tarfs.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer fsys.Close()
	_, err = fs.Stat(fsys, "index.json")
	fmt.Println("compression:", fsys.Compression())
	fmt.Println("index.json:", err == nil)
	// Output:
	// compression: gzip
	// index.json: true
}
