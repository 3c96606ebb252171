// Package gitlab holds the tests of ocil's GitLab CI template (ocil.gitlab-ci.yml) and of
// the example pipeline that uses it (example.gitlab-ci.yml).
package gitlab

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func readTemplate(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// job returns the lines of the top-level job (or template) name, its header included.
func job(text, name string) string {
	var out []string
	in := false
	for _, l := range strings.Split(text, "\n") {
		switch {
		case l == name+":":
			in = true
		case in && l != "" && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "#"):
			return strings.Join(out, "\n")
		}
		if in {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The template pins ocil's image, compiles nothing, leaves the build jobs' image and
// before_script to the user, and its scripts (and the example's) are POSIX sh.
func TestTemplateRules(t *testing.T) {
	tmpl := readTemplate(t, "ocil.gitlab-ci.yml")
	example := readTemplate(t, "example.gitlab-ci.yml")
	if !regexp.MustCompile(`(?m)^  OCIL_VERSION: "v\d+\.\d+\.\d+" `).MatchString(tmpl) {
		t.Error("OCIL_VERSION is not pinned to a release (vX.Y.Z)")
	}
	// GitLab's Docker and Kubernetes executors run the script with a shell from the image:
	// the default is the shell variant (VERSION-debug), its ocil entrypoint turned off.
	if !regexp.MustCompile(`(?m)^  OCIL_IMAGE: "[^"]+:\$\{OCIL_VERSION\}-debug" `).MatchString(tmpl) {
		t.Error("OCIL_IMAGE does not default to the shell variant of OCIL_VERSION's image (VERSION-debug)")
	}
	if j := job(tmpl, ".ocil"); !strings.Contains(j, "\n  image:\n    name: ${OCIL_IMAGE}\n    entrypoint: [\"\"]") {
		t.Errorf(".ocil does not run in ${OCIL_IMAGE} with entrypoint [\"\"]:\n%s", j)
	}
	if j := job(example, "build"); !strings.Contains(j, "  extends: [.ocil, .ocil-build]") || strings.Contains(j, "\n  image:") {
		t.Errorf("the example's build job does not take its image from .ocil:\n%s", j)
	}
	for _, name := range []string{".ocil-merge", ".ocil-validate"} {
		if j := job(tmpl, name); !strings.Contains(j, "  extends: .ocil\n") {
			t.Errorf("%s does not extend .ocil:\n%s", name, j)
		}
	}
	build := job(tmpl, ".ocil-build")
	if build == "" {
		t.Fatal("no .ocil-build")
	}
	for _, forced := range []string{"image:", "before_script:", "extends:", "script:"} {
		if strings.Contains(build, "\n  "+forced) {
			t.Errorf(".ocil-build sets %s, which is the user's:\n%s", forced, build)
		}
	}
	for _, text := range []string{tmpl, example} {
		for _, compiled := range []string{"go install", "go build", "golang:", "@latest"} {
			if strings.Contains(text, compiled) {
				t.Errorf("a template compiles or fetches ocil: %q", compiled)
			}
		}
		// Constructs bash has and POSIX sh has not.
		for _, re := range []string{`\$\{\w+//`, `\$\{\w+/[^}]`, `\[\[`, `<<<`, `\bsource `, `\bfunction `, `\$\{\w+:\d`, `\$'`} {
			if m := regexp.MustCompile(re).FindString(text); m != "" {
				t.Errorf("a bash-only construct in a template: %q", m)
			}
		}
	}
}

// requireTool returns the path of a tool the test runs: make test installs it (make
// tools) and sets OCIL_REQUIRE_TOOLS=1, so there a missing tool fails.
func requireTool(t *testing.T, name, how string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("OCIL_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (make tools installs it: %s)", name, how)
		}
		t.Skipf("%s not installed (%s); make test installs it", name, how)
	}
	return p
}

// The example pipeline runs in gitlab-ci-local with the shell executor, ocil on PATH as
// the image would have it: the user's before_script runs, two platforms are built in
// parallel, merged into one index, and validated.
func TestExamplePipeline(t *testing.T) {
	gcl := requireTool(t, "gitlab-ci-local", "npm install -g gitlab-ci-local@4.70.1")
	requireTool(t, "git", "apt-get install git")
	requireTool(t, "rsync", "apt-get install rsync")
	work := t.TempDir()
	bin := filepath.Join(t.TempDir(), "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "ocil"), "../../cmd/ocil")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for src, dst := range map[string]string{
		"ocil.gitlab-ci.yml":    "ci/gitlab/ocil.gitlab-ci.yml",
		"example.gitlab-ci.yml": ".gitlab-ci.yml",
	} {
		p := filepath.Join(work, filepath.FromSlash(dst))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(readTemplate(t, src)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+work,
		"GIT_AUTHOR_NAME=ocil", "GIT_AUTHOR_EMAIL=ocil@example.com", "GIT_COMMITTER_NAME=ocil", "GIT_COMMITTER_EMAIL=ocil@example.com")
	for _, args := range [][]string{
		{"git", "init", "-q", "-b", "main"},
		{"git", "remote", "add", "origin", "https://gitlab.example.com/group/project.git"},
		{"git", "add", "-A"},
		{"git", "commit", "-q", "-m", "pipeline"},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Env = work, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cmd := exec.Command(gcl, "--force-shell-executor", "--shell-isolation", "--no-color")
	cmd.Dir, cmd.Env = work, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("gitlab-ci-local: %v\n%s", err, out.String())
	}
	log := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ PASS  build: \[linux/amd64\]`),
		regexp.MustCompile(`(?m)^ PASS  build: \[linux/arm64\]`),
		regexp.MustCompile(`(?m)^ PASS  merge`),
		regexp.MustCompile(`(?m)^ PASS  validate`),
		regexp.MustCompile(`build: \[linux/amd64\] > your own before_script runs; .ocil-build sets none`),
		regexp.MustCompile(`merge +> ├── manifest  linux/amd64  application/vnd.example.v1 +\d+ B  sha256:[0-9a-f]{64}`),
		regexp.MustCompile(`merge +> └── manifest  linux/arm64  application/vnd.example.v1 +\d+ B  sha256:[0-9a-f]{64}`),
		regexp.MustCompile(`validate +> ocil validate out: 0 errors, 0 warnings, 0 notes \(6 blobs, `),
	} {
		if !want.MatchString(log) {
			t.Errorf("the pipeline's log lacks %s:\n%s", want, log)
		}
	}
	// Each platform's own file, not one job's overwritten by the other.
	amd := regexp.MustCompile(`manifest  linux/amd64 .*(sha256:[0-9a-f]{64})`).FindStringSubmatch(log)
	arm := regexp.MustCompile(`manifest  linux/arm64 .*(sha256:[0-9a-f]{64})`).FindStringSubmatch(log)
	if amd == nil || arm == nil || amd[1] == arm[1] {
		t.Errorf("the two platforms' manifests: %v, %v", amd, arm)
	}
	report, err := os.ReadFile(filepath.Join(work, ".gitlab-ci-local", "builds", "validate", "ocil-validate.xml"))
	if err != nil || !bytes.Contains(report, []byte("<testsuites")) {
		t.Errorf("the validate job's JUnit report: %v\n%s", err, report)
	}
}
