package interop

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// ocilBin is the ocil binary built once by TestMain from ../cmd/ocil.
var ocilBin string

// fixturesDir is the absolute path of ../testdata/fixtures.
var fixturesDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ocil-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fixturesDir = filepath.Join(root, "testdata", "fixtures")
	ocilBin = filepath.Join(dir, "ocil")
	// ../cmd/ocil belongs to the parent module, so it is built from there.
	cmd := exec.Command(goTool(), "build", "-o", ocilBin, "./cmd/ocil")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building ocil: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// goTool is the go command that runs this test: the one on PATH, else GOROOT's.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// ocil runs the ocil binary and returns its trimmed standard output; any failure ends
// the test with the command line and standard error.
func ocil(t *testing.T, args ...string) string {
	t.Helper()
	out, err := ocilRun(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ocilRun runs the ocil binary and returns its trimmed standard output.
func ocilRun(args ...string) (string, error) {
	out, err := ocilRaw(args...)
	return strings.TrimSpace(string(out)), err
}

// ocilRaw runs the ocil binary and returns its standard output as it is.
func ocilRaw(args ...string) ([]byte, error) {
	cmd := exec.Command(ocilBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ocil %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// fixture is the absolute path of a fixture (with an optional :TAG or @DIGEST suffix).
func fixture(name string) string {
	return filepath.Join(fixturesDir, name)
}
