package validate_test

import (
	"context"
	"fmt"

	"github.com/ocil-dev/ocil/layout/validate"
)

// Check a flat layout written by crane before pushing it: no error, one warning.
func ExampleLayout() {
	rep, err := validate.Layout(context.Background(), "../../testdata/fixtures/crane-flat", validate.Options{ForPush: true})
	if err != nil {
		panic(err) // not found, or not a layout
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Check, f.Object)
	}
	fmt.Printf("%d errors, %d blobs checked\n", rep.Errors, rep.Checked.Blobs)
	// Output:
	// warning ref.untagged-roots index.json
	// 0 errors, 7 blobs checked
}
