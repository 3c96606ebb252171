package main

import (
	"errors"
	"fmt"

	"github.com/ocil-dev/ocil/layout"
)

// Exit codes (documented in ocil --help, README.md and the man page).
const (
	exitOK     = 0
	exitFailed = 1 // the operation failed: not found, ambiguous, mismatch, errors found
	exitUsage  = 2 // bad usage or syntax
)

// exitCodes is the one table from error classes to exit codes: every command's error
// goes through exitCode, so the same error gives the same code whichever command met it.
// Classes not listed exit with exitFailed: among them ErrNotFound, ErrNotLayout (a path
// that is not an OCI image layout) and ErrInvalidArchive (an unsafe or damaged tarball).
var exitCodes = []struct {
	class error
	code  int
}{
	{layout.ErrInvalidReference, exitUsage},
	{layout.ErrInvalidPlatform, exitUsage},
	{layout.ErrInvalidDigest, exitUsage},
	{layout.ErrInvalidOption, exitUsage},
}

// usageError marks a command line that cannot be run as written.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode is the exit code of err (see exitCodes); nil is exitOK.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	for _, e := range exitCodes {
		if errors.Is(err, e.class) {
			return e.code
		}
	}
	return exitFailed
}
