#!/usr/bin/env bash
# Builds the NATS and PostgreSQL images of the tests' containers way from this Debian machine's own packages
# (nats-server, postgresql), with no registry: each image is a root filesystem put together here and `docker import`ed.
# Progress goes to stderr; stdout is the two `export` lines that point the tests at the images, so
#   eval "$(bash test/containers/build-images.sh)"
# builds them and sets CRA_TEST_NATS_IMAGE and CRA_TEST_POSTGRES_IMAGE for what follows.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
say() { echo "build-images: $*" >&2; }

nats_bin="$(readlink -f "$(command -v nats-server || echo /usr/sbin/nats-server)")"
[ -x "$nats_bin" ] || { say "nats-server is not installed (apt-get install nats-server)"; exit 1; }
pg_root="$(ls -d /usr/lib/postgresql/*/ 2>/dev/null | sort -V | tail -1)"
pg_root="${pg_root%/}"
[ -n "$pg_root" ] && [ -x "$pg_root/bin/postgres" ] || { say "PostgreSQL server binaries are not installed (apt-get install postgresql)"; exit 1; }
pg_major="$(basename "$pg_root")"
pg_version="$("$pg_root/bin/postgres" --version | awk '{print $3}')"
nats_version="$("$nats_bin" --version | sed 's/^.*v//')"
nats_image="cra-test/nats:${nats_version}-debian"
postgres_image="cra-test/postgres:${pg_version}-debian"

# Imports a root filesystem as an image under a tag, dropping the image the tag named before (when nothing uses it).
import_image() {
  local root="$1" tag="$2"
  shift 2
  local before
  before="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  tar --numeric-owner -C "$root" -c . | docker import "$@" - "$tag" >/dev/null
  if [ -n "$before" ] && [ "$before" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
    docker rmi "$before" >/dev/null 2>&1 || true
  fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Copies a file or directory (symbolic links kept as links) into a root filesystem at the same path.
copy_into() {
  mkdir -p "$1$(dirname "$2")"
  cp -a "$2" "$1$2"
}

# Copies files into a root filesystem at the same paths, with every shared library they load (as ldd resolves it).
add_with_libraries() {
  local root="$1"
  shift
  local file lib
  for file in "$@"; do
    copy_into "$root" "$file"
    [ -L "$file" ] && continue
    ldd "$file" 2>/dev/null | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | while read -r lib; do
      [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"; }
    done
  done
}

# NATS: the Go binary and the C library it links, at /nats-server, the official image's entrypoint.
say "NATS $nats_version into $nats_image"
nats_root="$work/nats"
mkdir -p "$nats_root/tmp" "$nats_root/data"
chmod 1777 "$nats_root/tmp"
add_with_libraries "$nats_root" "$nats_bin"
mv "$nats_root$nats_bin" "$nats_root/nats-server"
import_image "$nats_root" "$nats_image" \
  --change 'ENTRYPOINT ["/nats-server"]' --change 'CMD ["-js"]' --change 'EXPOSE 4222'

# PostgreSQL: its binaries, modules and share files (no JIT: llvmjit pulls in LLVM), a shell for initdb and the
# entrypoint, time zones, a non-root user, and an entrypoint that takes the official image's POSTGRES_* variables.
say "PostgreSQL $pg_version into $postgres_image"
pg_rootfs="$work/postgres"
mkdir -p "$pg_rootfs"/{etc,tmp,usr/local/bin,var/run/postgresql,var/lib/postgresql/data}
chmod 1777 "$pg_rootfs/tmp"
mapfile -t pg_files < <(find "$pg_root/bin" "$pg_root/lib" -maxdepth 1 \( -type f -o -type l \) ! -name 'llvmjit*')
add_with_libraries "$pg_rootfs" /bin/dash "${pg_files[@]}"
copy_into "$pg_rootfs" "/usr/share/postgresql/$pg_major"
copy_into "$pg_rootfs" /usr/share/zoneinfo
ln -s dash "$pg_rootfs/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >"$pg_rootfs/etc/passwd"
printf 'root:x:0:\npostgres:x:999:\n' >"$pg_rootfs/etc/group"
install -m 0755 "$here/postgres-entrypoint.sh" "$pg_rootfs/usr/local/bin/docker-entrypoint.sh"
chown -R 999:999 "$pg_rootfs/var/run/postgresql" "$pg_rootfs/var/lib/postgresql"
chmod 0700 "$pg_rootfs/var/lib/postgresql/data"
import_image "$pg_rootfs" "$postgres_image" \
  --change "ENV PATH=$pg_root/bin:/usr/local/bin:/usr/bin:/bin" --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'USER postgres' --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' --change 'CMD ["postgres"]' \
  --change 'EXPOSE 5432'

say "done"
echo "export CRA_TEST_NATS_IMAGE=$nats_image"
echo "export CRA_TEST_POSTGRES_IMAGE=$postgres_image"
