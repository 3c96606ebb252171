//go:build !linux

package layout

// renameNoReplace renames the folder from to to unless to exists, which gives an error
// wrapping fs.ErrExist. Without an atomic no-replace rename, the check and the rename are
// two steps.
func renameNoReplace(from, to string) error { return renameIfMissing(from, to) }
