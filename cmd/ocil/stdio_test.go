package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runStdin runs the program in-process with stdin as its standard input.
func runStdin(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runIO(t.Context(), append([]string{"ocil"}, args...), stdin, &out, &errOut)
	return code, out.String(), errOut.String()
}

const regctlV1Digest = "sha256:35918c857284ed039c775722e60e900d0ae29107bab5aa7f2e95436873ed7ecf"

// TestCopyToStdout: DST - is the tarball a file DST gets, byte for byte, on standard
// output; the result goes to standard error, and -q drops it.
func TestCopyToStdout(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.tar")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", file); code != 0 {
		t.Fatalf("copy to a file: %d %s", code, stderr)
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "copy", fixture("regctl-index")+":v1", "-")
	if code != 0 || stdout != string(want) {
		t.Fatalf("copy to -: %d, %d bytes, want the %d bytes of %s; %s", code, len(stdout), len(want), file, stderr)
	}
	if stderr != regctlV1Digest+"\n" {
		t.Errorf("stderr = %q, want the digest", stderr)
	}
	code, stdout, stderr = runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", "-:2")
	if code != 0 || stderr != "" || !strings.Contains(stdout, `"org.opencontainers.image.ref.name":"2"`) {
		t.Errorf("copy -q to -:2: %d %q, stdout holds no tag 2", code, stderr)
	}
	if _, err := os.Lstat("-"); !os.IsNotExist(err) {
		t.Errorf("a file named - was made: %v", err)
	}
}

// TestCopyFromStdin: SRC - reads a tarball, plain or gzip, from standard input.
func TestCopyFromStdin(t *testing.T) {
	_, tarball, _ := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", "-")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(tarball))
	zw.Close()
	for name, in := range map[string][]byte{"plain": []byte(tarball), "gzip": gz.Bytes()} {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			code, stdout, stderr := runStdin(t, bytes.NewReader(in), "copy", "-:v1", dst+":copied")
			if code != 0 || stdout != regctlV1Digest+"\n" {
				t.Fatalf("copy - %s = %d %q %s", dst, code, stdout, stderr)
			}
			if code, stdout, _ := runCLI(t, "resolve", dst+":copied", "-p", "linux/arm64"); code != 0 || stdout != "sha256:0424597d516fa446df5d304a40b33ad2a54be9183e453ce6229aa34aaf223a0d\n" {
				t.Errorf("resolve the copy = %d %q", code, stdout)
			}
			// ls reads standard input too, and takes -:TAG after its flags.
			if code, stdout, stderr := runStdin(t, bytes.NewReader(in), "ls", "-q", "-:v1"); code != 0 || stdout != regctlV1Digest+"\n" {
				t.Errorf("ls -q -:v1 = %d %q %s", code, stdout, stderr)
			}
		})
	}
}

// TestStdinRefused: an empty or damaged stream names standard input and writes nothing;
// a folder destination cannot be -.
func TestStdinRefused(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	dst := filepath.Join(t.TempDir(), "dst")
	code, stdout, stderr := runStdin(t, null, "copy", "-", dst)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "open tarball standard input: corrupt archive: empty stream") {
		t.Errorf("copy - from /dev/null = %d %q %q", code, stdout, stderr)
	}
	_, tarball, _ := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", "-")
	// Cut in the middle of an entry, as a writer that died would leave it.
	code, _, stderr = runStdin(t, strings.NewReader(tarball[:len(tarball)/2]), "copy", "-", dst)
	if code != 1 || !strings.Contains(stderr, "open tarball standard input: ") || !strings.Contains(stderr, "corrupt archive") {
		t.Errorf("copy - from a cut stream = %d %q", code, stderr)
	}
	if _, err := os.Lstat(dst); !os.IsNotExist(err) {
		t.Errorf("%s was written: %v", dst, err)
	}
	t.Chdir(t.TempDir())
	code, _, stderr = runCLI(t, "add", "-:v1", "-p", "linux/amd64", filepath.Join(fixturesDir, "..", "..", "go.mod"))
	if code != 2 || !strings.Contains(stderr, "create layout -: invalid reference: - is standard output") {
		t.Errorf("add -:v1 = %d %q", code, stderr)
	}
	if _, err := os.Lstat("-"); !os.IsNotExist(err) {
		t.Errorf("a folder named - was made: %v", err)
	}
}

// TestStdioPipe: ocil copy SRC - | ocil copy - DST between two processes.
func TestStdioPipe(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "dst")
	from := ocilProcess(t, "copy", "-q", fixture("regctl-index")+":v1", "-")
	to := ocilProcess(t, "copy", "-", dst)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	from.Stdout, to.Stdin = pw, pr
	var out, errFrom, errTo bytes.Buffer
	from.Stderr, to.Stdout, to.Stderr = &errFrom, &out, &errTo
	if err := to.Start(); err != nil {
		t.Fatal(err)
	}
	if err := from.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	pr.Close()
	if err := from.Wait(); err != nil {
		t.Fatalf("ocil copy SRC -: %v %s", err, errFrom.String())
	}
	if err := to.Wait(); err != nil {
		t.Fatalf("ocil copy - DST: %v %s", err, errTo.String())
	}
	if out.String() != regctlV1Digest+"\n" {
		t.Errorf("ocil copy - DST printed %q", out.String())
	}
	if code, stdout, _ := runCLI(t, "resolve", dst+":v1"); code != 0 || stdout != regctlV1Digest+"\n" {
		t.Errorf("resolve %s:v1 = %d %q", dst, code, stdout)
	}
}

// TestValidateStdin: validate - checks a tarball read from standard input.
func TestValidateStdin(t *testing.T) {
	_, tarball, _ := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", "-")
	for _, tc := range []struct {
		in   string
		code int
		want string
	}{
		{tarball, 0, "ocil validate -: 0 errors, 0 warnings, 0 notes (6 blobs, 1.6 KiB checked)\n"},
		// A damaged tarball exits 1 from validate as from copy (TestStdinRefused).
		{tarball[:len(tarball)/2], 1, "open tarball standard input: "},
	} {
		cmd := ocilProcess(t, "validate", "-")
		cmd.Stdin = strings.NewReader(tc.in)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
			t.Errorf("validate - (%d bytes) = %d %v\n%s%s\nwant %d and %q", len(tc.in), code, err, out.String(), errOut.String(), tc.code, tc.want)
		}
	}
}

// TestStdioRefusesDevices: a character device other than /dev/null on either side (a
// terminal, as a rule; /dev/zero stands for one here) is refused before anything is read
// or written.
func TestStdioRefusesDevices(t *testing.T) {
	dev, err := os.OpenFile("/dev/zero", os.O_RDWR, 0)
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	var errOut bytes.Buffer
	code := runIO(t.Context(), []string{"ocil", "copy", fixture("regctl-index") + ":v1", "-"}, nil, dev, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "copy to -: standard output is a terminal") {
		t.Errorf("copy to - on a device = %d %s", code, errOut.String())
	}
	dst := filepath.Join(t.TempDir(), "dst")
	code, stdout, stderr := runStdin(t, dev, "copy", "-", dst)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "standard input is a terminal") {
		t.Errorf("copy - from a device = %d %q %s", code, stdout, stderr)
	}
	if _, err := os.Lstat(dst); !os.IsNotExist(err) {
		t.Errorf("%s was written: %v", dst, err)
	}
}
