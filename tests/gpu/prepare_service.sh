#!/usr/bin/env bash
# Here (Debian 12), not on the GPU host: packs what that host lacks to run the whole service into
# one archive, build-gpu/service.tar.xz (tests/gpu/README.md, "The whole service"):
#   ftsvc/bin/     ftd and ftctl built here (no Torch), stripped
#   ftsvc/prefix/  a relocatable prefix: the headers, shared libraries and CMake package files of
#                  the packages ftworker's daemon mode links (found by configuring it here), and
#                  the runtime libraries of ftd and ftctl (ldd), without glibc's and GCC's own
#   ftsvc/gen/     ft_proto's sources from this Debian's protoc (the host has none), proto.sha256
#   ftsvc/data/    IMDB train/val/test (../shared/data/imdb, the seed's split)
# service.sh (on the host) unpacks it into build-gpu/ftsvc and builds ftworker against it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=$ROOT/build-gpu/service-work
STAGE=$WORK/ftsvc
PREFIX=$STAGE/prefix
ARCH_LIB=lib/x86_64-linux-gnu
DATA=${FT_SHARED_DATA:-$ROOT/../shared/data}
export CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1

step() { echo "== $*"; }

# build-svc/, one level below the checkout as build/ is: ccache sees the same relative paths and
# reuses the objects of other checkouts' builds.
step "build ftd and ftctl (no Torch) in build-svc"
mkdir -p build-gpu
cmake -S . -B build-svc -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFT_BUILD_WORKER=OFF -DFT_BUILD_TESTS=OFF > "$WORK.configure.log" 2>&1 ||
  { tail -30 "$WORK.configure.log"; exit 1; }
nice cmake --build build-svc -j "${JOBS:-1}" --target ftd ftctl

rm -rf "$WORK"
mkdir -p "$STAGE/bin" "$PREFIX/$ARCH_LIB" "$PREFIX/include" "$PREFIX/share" "$STAGE/gen"
for binary in ftd ftctl; do
  strip -o "$STAGE/bin/$binary" "build-svc/bin/$binary"
done

step "generated ft_proto sources"
(cd build-svc/proto/gen && find . -name '*.pb.*' -exec cp --parents {} "$STAGE/gen" \;)
(cd proto && find . -name '*.proto' | sed 's|^\./||' | sort | xargs sha256sum) \
  > "$STAGE/gen/proto.sha256"

step "configure ftworker's daemon mode here to learn which packages it links"
# service.sh's configuration without Torch (the host brings its own; Debian's LibTorch would add
# its glog and gflags): every package found is in the cache, as a package folder (*_DIR) or a
# library path.
cmake -S . -B "$WORK/probe" -DFT_WORKER_ONLY=ON -DFT_BUILD_WORKER=OFF -DFT_BUILD_TESTS=OFF \
  -DFT_PROTO_GENERATED_DIR="$STAGE/gen" > "$WORK/probe.log" 2>&1 ||
  { tail -30 "$WORK/probe.log"; exit 1; }
found_paths=$(grep -E '^[A-Za-z0-9_.-]+(_DIR|_LIBRARY[A-Z_]*|_[a-z0-9]+):(PATH|FILEPATH)=/' \
  "$WORK/probe/CMakeCache.txt" | sed 's/^[^=]*=//' | grep -E '^/usr/(lib|share)/' | sort -u)
packages=$(for path in $found_paths; do dpkg -S "$path" 2>/dev/null | cut -d: -f1; done |
  tr ', ' '\n\n' | grep -v '^$' | sort -u)
echo "$packages" | tr '\n' ' '; echo

# Copies a file of /usr into the prefix under the same relative path. Symbolic links stay links
# (they are relative, within one folder) and their targets come along, so no library is twice.
carry() {
  local source=$1 relative target
  case $source in
    /usr/include/x86_64-linux-gnu/*) relative=include/${source#/usr/include/x86_64-linux-gnu/} ;;
    /usr/*) relative=${source#/usr/} ;;
    *) echo "not under /usr: $source" >&2; return 1 ;;
  esac
  target=$PREFIX/$relative
  [[ -e $target || -L $target ]] && return 0
  [[ -e $source ]] || { echo "missing: $source" >&2; return 1; }
  mkdir -p "$(dirname "$target")"
  if [[ -L $source ]]; then
    local pointee
    pointee=$(readlink "$source")
    [[ $pointee == /* ]] || pointee=$(dirname "$source")/$pointee
    # An absolute link (/lib/... on a merged /usr) becomes a relative one inside the prefix.
    pointee=$(readlink -f "$(dirname "$pointee")")/$(basename "$pointee")
    ln -s "$(realpath -s --relative-to="$(dirname "$source")" "$pointee")" "$target"
    carry "$pointee"
  else
    cp "$source" "$target"
  fi
}

carry_packages() {
  local package
  for package in "$@"; do
    dpkg -L "$package" | while read -r file; do
      [[ -f $file || -L $file ]] || continue
      case $file in
        *.a | /usr/share/doc/* | /usr/share/man/* | /usr/share/lintian/* | /usr/bin/*) ;;
        /usr/include/* | /usr/$ARCH_LIB/* | /usr/share/cmake/* | /usr/lib/cmake/*) carry "$file" ;;
      esac
    done
  done
}
step "headers, libraries and CMake files of the packages above"
carry_packages $packages

# CMake's exported targets check at find_package time that each file they name exists (the gRPC
# code generators among them), so each named file comes along.
step "files the carried CMake targets check for"
checked=$(grep -h -o '"\${_IMPORT_PREFIX}/[^"]*"' $(grep -rli _import_check_files_for "$PREFIX") |
  tr -d '"' | sed 's|${_IMPORT_PREFIX}|/usr|' | sort -u)
for file in $checked; do
  if [[ -f $file ]]; then carry "$file"; fi
done
# Those targets name libraries whose headers are in a -dev package the cache does not point to
# (grpc++'s headers: libgrpc++-dev): the package of each library's development link.
more=$(for file in $checked; do
  name=$(basename "$file")
  link=/usr/$ARCH_LIB/${name%%.so.*}.so
  if [[ $name == lib*.so.* && -e $link ]]; then dpkg -S "$link" | cut -d: -f1; fi
done | sort -u | comm -23 - <(echo "$packages"))
echo "and: $(echo $more)"
carry_packages $more
packages="$packages $more"

# gRPC's Findre2 asks pkg-config (perhaps absent on the host, and its .pc names /usr); a config
# file beside the library is found first (find_package(re2 CONFIG)).
mkdir -p "$PREFIX/$ARCH_LIB/cmake/re2"
cat > "$PREFIX/$ARCH_LIB/cmake/re2/re2Config.cmake" <<'EOF'
# Written by tests/gpu/prepare_service.sh: Debian's libre2-dev has only a pkg-config file.
get_filename_component(_re2_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
if(NOT TARGET re2::re2)
  add_library(re2::re2 SHARED IMPORTED)
  set_target_properties(re2::re2 PROPERTIES
    IMPORTED_LOCATION "${_re2_prefix}/lib/x86_64-linux-gnu/libre2.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_re2_prefix}/include")
endif()
set(re2_FOUND TRUE)
EOF

# The runtime closure of ftd, ftctl and every carried library. Left out: glibc (the host has its
# own, newer) and GCC's runtime (libstdc++, libgcc_s: the host's is newer, and the ftworker built
# there needs the host's).
step "runtime libraries (ldd), glibc's and GCC's left out"
glibc='^(linux-vdso|ld-linux-x86-64|libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl)\.so'
gcc_runtime='^(libstdc\+\+|libgcc_s)\.so'
# Names each object needs that do not resolve inside the prefix yet.
needed_outside() {
  find "$STAGE/bin" "$PREFIX/$ARCH_LIB" -maxdepth 1 -type f \( -name 'ft*' -o -name '*.so*' \) |
    while read -r object; do
      LD_LIBRARY_PATH=$PREFIX/$ARCH_LIB ldd "$object" |
        awk -v p="$PREFIX" '$2 == "=>" && index($3, p) != 1 {print $1}'
    done | sort -u | grep -v -E "$glibc|$gcc_runtime" || true
}
# Three rounds: the libraries one round adds may need others.
for round in 1 2 3; do
  for name in $(needed_outside); do
    if [[ -e /usr/$ARCH_LIB/$name ]]; then carry "/usr/$ARCH_LIB/$name"
    else echo "not found under /usr/$ARCH_LIB: $name (needed by a carried object)" >&2; exit 1; fi
  done
done
left=$(needed_outside)
[[ -z $left ]] || { echo "still outside the prefix: $left" >&2; exit 1; }

step "IMDB data"
mkdir -p "$STAGE/data/imdb"
cp "$DATA"/imdb/{train,val,test}.csv \
  "$DATA"/imdb/PROVENANCE.md "$STAGE/data/imdb/"

step "manifest"
{
  echo "built $(date -u +%FT%TZ) on $(. /etc/os-release; echo "$PRETTY_NAME")" \
    "from $(git rev-parse --short HEAD)"
  echo "packages: $(for p in $packages; do dpkg-query -W -f='${Package}=${Version} ' "$p"; done)"
  echo "highest glibc symbol version needed:"
  find "$STAGE/bin" "$PREFIX/$ARCH_LIB" -maxdepth 1 -type f \( -name 'ft*' -o -name '*.so*' \) \
    -exec objdump -T {} + 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1
  echo "highest libstdc++ symbol version needed:"
  find "$STAGE/bin" "$PREFIX/$ARCH_LIB" -maxdepth 1 -type f \( -name 'ft*' -o -name '*.so*' \) \
    -exec objdump -T {} + 2>/dev/null | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1
} > "$STAGE/MANIFEST.txt"
cat "$STAGE/MANIFEST.txt"

step "archive"
tar -C "$WORK" -cf - ftsvc | nice xz -T1 -6 > build-gpu/service.tar.xz
du -sh "$STAGE"/* build-gpu/service.tar.xz
echo "carry build-gpu/service.tar.xz; on the host: OUT=\$OUT bash tests/gpu/service.sh"
