package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestMain lets the test binary run as the ocil program, signal handling included, for
// tests that need real processes (concurrent writers, a writer killed mid-way, signals):
// the arguments come JSON-encoded in OCIL_TEST_ARGS.
func TestMain(m *testing.M) {
	if a := os.Getenv("OCIL_TEST_ARGS"); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		os.Exit(runMain(append([]string{"ocil"}, args...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// ocilProcess returns a command that runs ocil with args in a process of its own.
func ocilProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	b, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OCIL_TEST_ARGS="+string(b), "GORACE=atexit_sleep_ms=0")
	return cmd
}

// skopeoPath returns Debian's skopeo. make test installs it and sets OCIL_REQUIRE_SKOPEO=1,
// so there a missing skopeo fails instead of skipping.
func skopeoPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("skopeo")
	if err != nil {
		if os.Getenv("OCIL_REQUIRE_SKOPEO") == "1" {
			t.Fatal("skopeo is required (make test installs it)")
		}
		t.Skip("skopeo not installed; run through make test")
	}
	return p
}
