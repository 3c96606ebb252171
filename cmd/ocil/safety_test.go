package main

import (
	"strings"
	"testing"
)

// TestBadTarLimitEnv: a bound on compressed tarballs in the environment that is not a
// number is a usage error (exit 2) naming the variable and its value, before anything runs.
func TestBadTarLimitEnv(t *testing.T) {
	for _, tc := range []struct{ env, value string }{
		{"OCIL_TAR_MAX_RATIO", "lots"},
		{"OCIL_TAR_MAX_BYTES", "-1"},
	} {
		t.Setenv(tc.env, tc.value)
		code, stdout, stderr := runCLI(t, "ls", fixture("oras-amd64-el9.tar.gz"))
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.env+`="`+tc.value+`"`) {
			t.Errorf("%s=%s: exit %d, stdout %q, stderr %q; want exit 2 naming the variable", tc.env, tc.value, code, stdout, stderr)
		}
		t.Setenv(tc.env, "")
	}
	if code, _, stderr := runCLI(t, "ls", fixture("oras-amd64-el9.tar.gz")); code != exitOK {
		t.Errorf("with the variables empty: exit %d, %s", code, stderr)
	}
}
