#!/usr/bin/env bash
# Builds ocil's image (scripts/image.sh) twice and requires the same bytes, then has the
# clients read both tarballs, tags VERSION and VERSION-debug:
# - skopeo copies each with every platform, to a layout and (pushed as a release is,
#   skopeo copy --all oci-archive:... docker://...) to a registry on 127.0.0.1, whose
#   index for each tag is the layout's;
# - umoci unpacks each platform: VERSION's rootfs holds ocil and nothing else, and the
#   host's ocil runs; VERSION-debug's has busybox in /busybox, its links, /bin/sh and
#   /tmp, and its ./bin/sh runs the unpacked ocil;
# - podman loads each tarball (podman load -i) with its platform and entrypoint, runs VERSION
#   (ocil as the entrypoint) and finds no shell in it, and runs a job the way GitLab's
#   Docker executor does in VERSION-debug: entrypoint "", the runner's shell probe, the
#   script on standard input, the project bind-mounted;
# - scripts/busybox.sh --source fetches busybox's source package, as pinned;
# - scripts/gitlab-docker-check.sh then runs the example pipeline's jobs in VERSION-debug.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
tmp=$(mktemp -d)
regpid=
cleanup() {
	if [ -n "$regpid" ]; then kill "$regpid" 2>/dev/null || true; wait "$regpid" 2>/dev/null || true; fi
	# podman's vfs store holds read-only files; podman removes its own.
	[ -d "$tmp/podman" ] && pod system reset -f >/dev/null 2>&1 || true
	chmod -R u+w "$tmp" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export VERSION=v0.0.0-check SOURCE_DATE_EPOCH=1700000000
scripts/image.sh "$tmp/a" >/dev/null
scripts/image.sh "$tmp/b" >/dev/null
tarball="$tmp/a/ocil-image-$VERSION.tar"
debug_tarball="$tmp/a/ocil-image-$VERSION-debug.tar"
a=$(cat "$tarball" "$debug_tarball" | sha256sum); b=$(cat "$tmp/b/ocil-image-$VERSION.tar" "$tmp/b/ocil-image-$VERSION-debug.tar" | sha256sum)
if [ "$a" != "$b" ]; then
	echo "image is not reproducible: $a vs $b" >&2
	exit 1
fi
fail() { echo "image-check: $*" >&2; exit 1; }
CGO_ENABLED=0 "$GO" build -o "$tmp/ocil" ./cmd/ocil
"$tmp/ocil" validate --for-push --strict -q "$tarball" >/dev/null
"$tmp/ocil" validate --for-push --strict -q "$debug_tarball" >/dev/null
arch=$("$GO" env GOARCH)
debug="$VERSION-debug"
declare -A file=(["$VERSION"]=$tarball ["$debug"]=$debug_tarball)

# Each tarball holds its one tag and nothing else.
for tag in "$VERSION" "$debug"; do
	tags=$("$tmp/ocil" ls -q "${file[$tag]}" --format 'go-template={{range .entries}}{{.tag}} {{end}}')
	[ "$tags" = "$tag " ] || fail "the tags of ${file[$tag]##*/}: $tags"
done

# skopeo: every platform of each tag copied out of the archive.
for tag in "$VERSION" "$debug"; do
	skopeo copy -q --all "oci-archive:${file[$tag]}" "oci:$tmp/skopeo:$tag" >/dev/null
	index=$(skopeo inspect --raw "oci:$tmp/skopeo:$tag")
	for p in amd64 arm64; do
		case "$index" in *"\"architecture\":\"$p\""*) ;; *) fail "skopeo's copy of $tag lacks linux/$p: $index" ;; esac
	done
done

# umoci: each platform of each tag unpacked.
applets=$(sed -n "/^applets='/,/'$/p" scripts/image.sh | tr -d "'" | sed 's/^applets=//' | tr -s ' \n' '\n\n' | sort)
busybox_files=$( { printf '%s\n' bin bin/sh busybox busybox/busybox tmp usr usr/local usr/local/bin usr/local/bin/ocil \
	usr/share usr/share/doc usr/share/doc/busybox-static usr/share/doc/busybox-static/copyright
	for x in $applets; do echo "busybox/$x"; done; } | sort)
for p in amd64 arm64; do
	"$tmp/ocil" copy -q "$tarball:$VERSION" "$tmp/$p" --platform "linux/$p" >/dev/null
	"$tmp/ocil" copy -q "$debug_tarball:$debug" "$tmp/$p" --platform "linux/$p" >/dev/null
	umoci unpack --rootless --image "$tmp/$p:$VERSION" "$tmp/min-$p" >/dev/null
	umoci unpack --rootless --image "$tmp/$p:$debug" "$tmp/debug-$p" >/dev/null
	# The plain tag: ocil, the folders above it, nothing else.
	got=$(cd "$tmp/min-$p/rootfs" && find . -mindepth 1 | sed 's|^\./||' | sort | tr '\n' ' ')
	[ "$got" = "usr usr/local usr/local/bin usr/local/bin/ocil " ] || fail "$VERSION linux/$p holds more than ocil: $got"
	# The shell variant: busybox, its links (relative), /bin/sh, /tmp, the copyright, ocil.
	got=$(cd "$tmp/debug-$p/rootfs" && find . -mindepth 1 | sed 's|^\./||' | sort)
	[ "$got" = "$busybox_files" ] || fail "$debug linux/$p holds: $(diff <(echo "$busybox_files") <(echo "$got") | tr '\n' ' ')"
	r="$tmp/debug-$p/rootfs"
	[ "$(readlink "$r/bin/sh")" = ../busybox/busybox ] || fail "$debug linux/$p: /bin/sh -> $(readlink "$r/bin/sh")"
	[ "$(readlink "$r/busybox/sh")" = busybox ] || fail "$debug linux/$p: /busybox/sh -> $(readlink "$r/busybox/sh")"
	cmp -s "$r/usr/local/bin/ocil" "$tmp/min-$p/rootfs/usr/local/bin/ocil" || fail "$debug and $VERSION hold different ocil binaries for linux/$p"
done
# The host's platform runs: ocil from the plain tag; from the shell variant, its sh runs
# its ocil and every applet the image links is one busybox has.
got=$("$tmp/min-$arch/rootfs/usr/local/bin/ocil" version)
case "$got" in "ocil $VERSION linux/$arch "*) ;; *) fail "the unpacked ocil says: $got" ;; esac
got=$(cd "$tmp/debug-$arch/rootfs" && ./bin/sh -c './usr/local/bin/ocil version && echo "$0"')
case "$got" in "ocil $VERSION linux/$arch "*"
./bin/sh") ;; *) fail "the unpacked shell variant's ./bin/sh -c ./usr/local/bin/ocil version says: $got" ;; esac
missing=$(comm -23 <(echo "$applets") <("$tmp/debug-$arch/rootfs/busybox/busybox" --list | sort))
[ -z "$missing" ] || fail "busybox has no applet $missing"

# podman, in a store of its own (vfs, under $tmp). This machine's containers cannot raise
# rlimits (no CAP_SYS_RESOURCE), so a run keeps them below the current ones, and runc
# runs them (crun refuses the hybrid cgroup hierarchy).
mkdir -p "$tmp/podman/tmp"
pod() {
	podman --root "$tmp/podman/root" --runroot "$tmp/podman/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --tmpdir "$tmp/podman/tmp" "$@"
}
run_opts=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none)
# podman load, as a site without a registry loads either tarball: one image each.
for tag in "$VERSION" "$debug"; do
	loaded=$(pod load -i "${file[$tag]}" | sed -n 's/^Loaded image: //p')
	[ "$loaded" = "localhost/$tag:latest" ] || [ "$loaded" = "localhost/$tag" ] || fail "podman load -i ${file[$tag]##*/} loaded: $loaded"
	got=$(pod image inspect --format '{{.Os}}/{{.Architecture}} {{.Config.Entrypoint}}' "localhost/$tag")
	[ "$got" = "linux/$arch [/usr/local/bin/ocil]" ] || fail "podman sees $tag as $got"
done
# The plain tag: ocil as the entrypoint, and no shell to run a job's script.
got=$(pod run --rm "${run_opts[@]}" "localhost/$VERSION" version)
case "$got" in "ocil $VERSION linux/$arch "*) ;; *) fail "podman run $VERSION version says: $got" ;; esac
if pod run --rm "${run_opts[@]}" --entrypoint "" "localhost/$VERSION" sh -c true >/dev/null 2>&1; then
	fail "$VERSION runs sh: it should hold ocil only"
fi
# The shell variant, as GitLab's Docker executor runs a job: entrypoint "", sh -c and the
# runner's probe for a shell (bash first, then sh, then /busybox/sh), the job's script on
# standard input, the project bind-mounted as the working directory.
cp -r testdata/fixtures "$tmp/project"
probe='if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash "$@"; elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash "$@"; elif [ -x /bin/bash ]; then exec /bin/bash "$@"; elif [ -x /usr/local/bin/sh ]; then exec /usr/local/bin/sh "$@"; elif [ -x /usr/bin/sh ]; then exec /usr/bin/sh "$@"; elif [ -x /bin/sh ]; then exec /bin/sh "$@"; elif [ -x /busybox/sh ]; then exec /busybox/sh "$@"; else echo shell not found; exit 1; fi'
got=$(printf '%s\n' 'set -eu' 'echo "shell $0"' 'ocil version' 'ocil ls umoci-image' \
	'mkdir -p build && ocil add build/tool:v1 --platform linux/amd64 umoci-image/index.json >/dev/null' 'ocil ls -q build/tool' 'ls -d /tmp build' |
	pod run --rm -i "${run_opts[@]}" --entrypoint "" -v "$tmp/project:/builds/project" -w /builds/project \
		"localhost/$debug" sh -c "$probe")
for want in "shell /bin/sh" "ocil $VERSION linux/$arch " "latest  linux/amd64 (config)" "/tmp" "build"; do
	case "$got" in *"$want"*) ;; *) fail "a GitLab-like job in $debug printed no \"$want\":
$got" ;; esac
done
[ -f "$tmp/project/build/tool/index.json" ] || fail "the job in $debug wrote no layout into the bind-mounted project"

# The busybox's source package (make image-source) comes, checked against its pins.
scripts/busybox.sh --source "$tmp/busybox-source"
for f in busybox_1.35.0-4+deb12u1.dsc busybox_1.35.0.orig.tar.bz2 busybox_1.35.0-4+deb12u1.debian.tar.xz; do
	[ -s "$tmp/busybox-source/$f" ] || fail "scripts/busybox.sh --source wrote no $f"
done
grep -q "^Version: $(scripts/busybox.sh --version | cut -d' ' -f2)\$" "$tmp/busybox-source/busybox_1.35.0-4+deb12u1.dsc" ||
	fail "the source package's .dsc is not the version the image annotates"

# A push, as a release pushes both tags: skopeo copy --all from each tarball into a
# registry bound to 127.0.0.1 (distribution's registry), then the registry's index for
# each tag must be the layout's, byte for byte (same digest).
registry=$(command -v registry || echo "$($GO env GOPATH | cut -d: -f1)/bin/registry")
[ -x "$registry" ] || fail "distribution's registry is not installed (make tools installs it)"
reg=
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	mkdir -p "$tmp/registry"
	printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
		"$tmp/registry/data" "$port" >"$tmp/registry/config.yml"
	"$registry" serve "$tmp/registry/config.yml" >"$tmp/registry/log" 2>&1 &
	regpid=$!
	for _ in $(seq 1 300); do
		if curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then reg=127.0.0.1:$port; break 2; fi
		kill -0 "$regpid" 2>/dev/null || break # it exited: the port was taken; try another
		sleep 0.1
	done
	kill "$regpid" 2>/dev/null || true; wait "$regpid" 2>/dev/null || true; regpid=
done
[ -n "$reg" ] || fail "the registry did not start: $(cat "$tmp/registry/log")"
for tag in "$VERSION" "$debug"; do
	skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci-archive:${file[$tag]}" "docker://$reg/ocil:$tag" >/dev/null
	want=$("$tmp/ocil" resolve -q "${file[$tag]}:$tag")
	got=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$reg/ocil:$tag" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "skopeo pushed $tag as $got, the layout holds $want"
done
kill "$regpid"; wait "$regpid" 2>/dev/null || true; regpid=

OCIL_IMAGE_TARBALL=$debug_tarball OCIL_IMAGE_TAG=$debug PODMAN_ROOT=$tmp/podman scripts/gitlab-docker-check.sh

echo "image reproducible, read by skopeo, pushed by it to a registry with the same digests, read by umoci and podman; $debug runs GitLab jobs: ${a%% *}"
