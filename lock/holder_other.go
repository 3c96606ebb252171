//go:build !linux

package lock

// describeHolder would name the process holding the lock on path; this platform has
// no portable way to find it, so it returns "".
func describeHolder(path string) string { return "" }
