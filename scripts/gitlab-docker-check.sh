#!/usr/bin/env bash
# Runs ci/gitlab/example.gitlab-ci.yml (with ci/gitlab/ocil.gitlab-ci.yml) as GitLab's
# Docker executor would: gitlab-ci-local in its Docker-executor mode, with podman as the
# container engine, every ocil job in the shell variant of ocil's image (OCIL_IMAGE set to
# it, the template's `entrypoint: [""]` and gitlab-ci-local's shell probe applying). The
# four jobs must pass, the merge list both platforms and validate find no error.
#
# gitlab-ci-local also runs a utility image of its own (docker.io/firecow/gitlab-ci-local-util,
# bash and rsync) to prepare volumes and collect artifacts; offline, this script builds a
# stand-in from the shell variant plus the host's bash and rsync with their libraries.
#
# usage: OCIL_IMAGE_TARBALL=dist/ocil-image-V.tar OCIL_IMAGE_TAG=V-debug scripts/gitlab-docker-check.sh
# env:   PODMAN_ROOT (a podman store to use, default a temp one), GO
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
tarball=${OCIL_IMAGE_TARBALL:?the image tarball (make image)}
tag=${OCIL_IMAGE_TAG:?the tag of the shell variant}
fail() { echo "gitlab-docker-check: $*" >&2; exit 1; }
for t in gitlab-ci-local git rsync podman umoci ldd; do
	command -v "$t" >/dev/null || fail "$t is needed (make tools installs it)"
done
tarball=$(realpath "$tarball")
tmp=$(mktemp -d)
store=${PODMAN_ROOT:-$tmp/podman}
mkdir -p "$store/tmp"
cleanup() {
	[ -n "${PODMAN_ROOT:-}" ] || "$tmp/podman-engine" system reset -f >/dev/null 2>&1 || true
	chmod -R u+w "$tmp" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# The container engine gitlab-ci-local calls: podman in its own vfs store. This machine's
# containers cannot raise rlimits, so a container keeps them below the current ones; runc
# runs them (crun refuses the hybrid cgroup hierarchy); the jobs need no network, and
# without one, checks running at the same time share no bridge.
cat > "$tmp/podman-engine" <<EOF
#!/bin/sh
sub=\$1; shift
case \$sub in
run|create) set -- "\$sub" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none "\$@" ;;
*) set -- "\$sub" "\$@" ;;
esac
exec podman --root "$store/root" --runroot "$store/run" --storage-driver vfs --cgroup-manager cgroupfs \\
	--events-backend file --tmpdir "$store/tmp" --runtime runc "\$@"
EOF
chmod +x "$tmp/podman-engine"
engine="$tmp/podman-engine"

# The image under test, and the utility stand-in built from its rootfs.
"$engine" pull -q "oci-archive:$tarball:$tag" >/dev/null
image="localhost/$tag:latest"
CGO_ENABLED=0 "$GO" build -o "$tmp/ocil" ./cmd/ocil
arch=$("$GO" env GOARCH)
"$tmp/ocil" copy -q "$tarball:$tag" "$tmp/host" --platform "linux/$arch" >/dev/null
umoci unpack --rootless --image "$tmp/host:$tag" "$tmp/util-bundle" >/dev/null
util="$tmp/util-bundle/rootfs"
for b in "$(command -v bash)" "$(command -v rsync)"; do
	for f in "$b" $(ldd "$b" | grep -o '/[^ ]*'); do
		mkdir -p "$util$(dirname "$f")"
		cp -L "$f" "$util$f"
	done
done
mkdir -p "$util/usr/bin"
[ -e "$util/usr/bin/bash" ] || ln -s "$(command -v bash)" "$util/usr/bin/bash"
"$tmp/ocil" add -q "$tmp/util:util" --platform "linux/$arch" --image \
	--env PATH=/usr/local/bin:/usr/bin:/bin:/busybox "$util/=/" >/dev/null
# (a relative path: podman names the image after it, and a temp path may have capitals)
(cd "$tmp" && "$engine" pull -q oci:util:util >/dev/null)

# The project: the example pipeline and the template, in a git checkout.
work="$tmp/project"
mkdir -p "$work/ci/gitlab"
cp ci/gitlab/ocil.gitlab-ci.yml "$work/ci/gitlab/"
cp ci/gitlab/example.gitlab-ci.yml "$work/.gitlab-ci.yml"
export HOME=$tmp GIT_AUTHOR_NAME=ocil GIT_AUTHOR_EMAIL=ocil@example.com GIT_COMMITTER_NAME=ocil GIT_COMMITTER_EMAIL=ocil@example.com
(cd "$work" && git init -q -b main && git remote add origin https://gitlab.example.com/group/project.git &&
	git add -A && git commit -q -m pipeline)

log="$tmp/log"
if ! (cd "$work" && gitlab-ci-local --container-executable "$engine" --helper-image localhost/util:latest \
	--pull-policy if-not-present --no-color --variable "OCIL_IMAGE=$image") >"$log" 2>&1; then
	cat "$log" >&2
	fail "gitlab-ci-local failed"
fi
for want in \
	"build: \[linux/amd64\] starting $image" \
	'^ PASS  build: \[linux/amd64\]' '^ PASS  build: \[linux/arm64\]' '^ PASS  merge' '^ PASS  validate' \
	"merge +> ocil ${tag%-debug} linux/$arch " \
	'merge +> ├── manifest  linux/amd64  application/vnd.example.v1 ' \
	'merge +> └── manifest  linux/arm64  application/vnd.example.v1 ' \
	'validate +> ocil validate out: 0 errors, 0 warnings, 0 notes '; do
	grep -Eq "$want" "$log" || { cat "$log" >&2; fail "the pipeline's log lacks /$want/"; }
done
# (gitlab-ci-local's Docker mode brings back artifacts:paths only, not a junit report;
# the shell-executor run in ci/gitlab's tests checks the report.)
echo "the example pipeline passed in $image (gitlab-ci-local, Docker executor on podman)"
