// Package interop holds the interoperability suite of ocil: its tests build the ocil
// binary, let it write layouts and tarballs from the real fixtures in
// ../testdata/fixtures, and read every result back with the client libraries and tools
// that users feed them to (go-containerregistry, oras-go, regclient, skopeo).
//
// It is a module of its own so that these test-only dependencies stay out of ocil's
// go.mod. See README.md.
package interop
