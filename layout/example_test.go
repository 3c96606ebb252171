package layout_test

import (
	"context"
	"fmt"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

// Resolve the arm64 el8 manifest of a flat layout written by crane, whose index.json has
// no platforms: ocil reads them from the manifests' configs.
func ExampleResolveRef() {
	p, err := platform.Parse("linux/arm64/v8:el8")
	if err != nil {
		panic(err)
	}
	res, err := layout.ResolveRef(context.Background(), "../testdata/fixtures/crane-flat", layout.ResolveOptions{Platform: &p})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Descriptor.Digest)
	fmt.Println(platform.Format(*res.Descriptor.Platform), "from", res.PlatformSource)
	// Output:
	// sha256:0c59c9e6f0b4a4818672123392c966bc2ff641f4d0841da2e59ec2701457c0da
	// linux/arm64/v8:el8 from config
}
