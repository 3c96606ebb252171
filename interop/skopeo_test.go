package interop

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var (
	skopeoOnce    sync.Once
	skopeoPath    string
	skopeoVersion string
)

// findSkopeo returns the skopeo binary, or skips the test when it is missing; with
// OCIL_REQUIRE_SKOPEO=1 a missing skopeo fails instead (make test installs it).
func findSkopeo(t tb) string {
	t.Helper()
	skopeoOnce.Do(func() {
		if p, err := exec.LookPath("skopeo"); err == nil {
			skopeoPath = p
			out, _ := exec.Command(p, "--version").Output()
			skopeoVersion = strings.TrimSpace(string(out))
		}
	})
	if skopeoPath == "" {
		if os.Getenv("OCIL_REQUIRE_SKOPEO") == "1" {
			t.Fatal("[skopeo] not found on PATH and OCIL_REQUIRE_SKOPEO=1 (Debian/Ubuntu: apt-get install skopeo)")
		}
		t.Skip("[skopeo] not found on PATH; set OCIL_REQUIRE_SKOPEO=1 to make that a failure")
	}
	return skopeoPath
}

// skopeo runs skopeo with a policy that accepts anything (nothing here is signed) and a
// private temporary folder, and returns its standard output.
func skopeo(t tb, args ...string) ([]byte, error) {
	t.Helper()
	bin := findSkopeo(t)
	tmp := t.TempDir()
	policy := filepath.Join(tmp, "policy.json")
	if err := os.WriteFile(policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"--policy", policy}, args...)...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("skopeo %s: %w: %s", strings.Join(args, " "), err, fatalMessage(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// fatalMessage returns the message of skopeo's `level=fatal msg="..."` line, unquoted,
// or the whole standard error when there is none.
func fatalMessage(stderr string) string {
	if i := strings.Index(stderr, "level=fatal msg="); i >= 0 {
		rest := stderr[i+len("level=fatal msg="):]
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			if msg, err := strconv.Unquote(q); err == nil {
				return msg
			}
		}
	}
	return strings.TrimSpace(stderr)
}

// checkSkopeo reads the target with skopeo (containers/image): oci:DIR:TAG for a folder,
// oci-archive:FILE:TAG for a tarball (skopeo unpacks both plain and gzip ones). inspect
// --raw must give the bytes of the tagged index; copy --multi-arch all into a new oci:
// folder must succeed and list the same platforms; and a copy that keeps digests must
// give the same index digest, unless the target lists skopeo's known limitation.
func checkSkopeo(t tb, tg *target) {
	c := checker{t: t, tool: toolSkopeo, tg: tg}
	findSkopeo(t)
	c.logf("version", "%s", skopeoVersion)
	src := "oci:" + tg.Path + ":" + tg.Tag
	if tg.Form != folderForm {
		src = "oci-archive:" + tg.Path + ":" + tg.Tag
	}

	raw, err := skopeo(t, "inspect", "--raw", src)
	if !c.ok("inspect --raw", err) {
		return
	}
	sum := sha256.Sum256(raw)
	c.equal("inspect --raw", "digest of the bytes", "sha256:"+hex.EncodeToString(sum[:]), tg.Digest)
	if plats, err := indexPlatforms(raw); c.ok("inspect --raw", err) {
		c.platforms("inspect --raw", plats)
	}

	// A plain copy: skopeo may rewrite manifests (it gzips uncompressed layers for an
	// oci: destination), but every platform must arrive.
	dst := "oci:" + filepath.Join(t.TempDir(), "copy") + ":" + tg.Tag
	if _, err := skopeo(t, "copy", "-q", "--multi-arch", "all", src, dst); !c.ok("copy --multi-arch all", err) {
		return
	}
	raw, err = skopeo(t, "inspect", "--raw", dst)
	if !c.ok("copy --multi-arch all: inspect the copy", err) {
		return
	}
	if plats, err := indexPlatforms(raw); c.ok("copy --multi-arch all: inspect the copy", err) {
		c.platforms("copy --multi-arch all: inspect the copy", plats)
	}

	// A copy that must keep every digest.
	check := "copy --preserve-digests"
	dst = "oci:" + filepath.Join(t.TempDir(), "same") + ":" + tg.Tag
	_, err = skopeo(t, "copy", "-q", "--multi-arch", "all", "--preserve-digests", "--dest-oci-accept-uncompressed-layers", src, dst)
	if err != nil {
		c.expect(check, err)
		return
	}
	raw, err = skopeo(t, "inspect", "--raw", dst)
	if c.ok(check, err) {
		sum := sha256.Sum256(raw)
		c.equal(check, "digest of the copy", "sha256:"+hex.EncodeToString(sum[:]), tg.Digest)
	}
}

// indexPlatforms lists the platforms of an image index.
func indexPlatforms(raw []byte) ([]string, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, err
	}
	if idx.MediaType != ocispec.MediaTypeImageIndex {
		return nil, fmt.Errorf("mediaType %q, want an OCI index", idx.MediaType)
	}
	var plats []string
	for _, m := range idx.Manifests {
		plats = append(plats, platformOf(m.Platform))
	}
	return plats, nil
}
