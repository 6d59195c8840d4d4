#!/usr/bin/env bash
# libFuzzer with ASan+UBSan over the parsers that read what users hand us:
#   data_reader      the CSV, TSV and JSONL readers and the label map (common/data)
#   safetensors      the safetensors reader (worker/io; standard library only)
#   torch_save       the pytorch_model.bin reader: zip, restricted unpickler (common/torchsave)
#   spec_validation  spec defaults and validation on arbitrary JobSpec messages (common/spec)
#   tokenizer        the tokenizer.json loader and encoder (common/tokenize)
# Builds with clang into build-fuzz/ (separate from build/; each source compiled once through
# ccache, then linked), then runs each target for SECONDS_PER_TARGET (default 30) from the seeds
# in tests/fuzz/corpus/<target> (new inputs go to build-fuzz/corpus/<target>, the seeds stay
# untouched). A crash leaves its input in build-fuzz/ and fails the script; turn it into a
# regression test before fixing it. scripts/test.sh runs it with 15 s per target.
#   bash scripts/fuzz.sh                      # all targets, 30 s each
#   SECONDS_PER_TARGET=300 bash scripts/fuzz.sh tokenizer
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${FUZZ_DIR:-build-fuzz}
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-30}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(data_reader safetensors torch_save spec_validation tokenizer)
CXX=${CXX_FUZZ:-clang++}
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(ccache)
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
FLAGS=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -I. -I"$OUT/gen")
mkdir -p "$OUT/gen" "$OUT/obj"
SEEDS=$PWD/tests/fuzz/corpus

# Compiles each source into build-fuzz/obj (ccache makes a rebuild cheap), links the target.
build() {
  local name=$1; shift
  local objects=() libs=() src obj
  for src in "$@"; do
    case $src in
      -*) libs+=("$src"); continue ;;
    esac
    obj=$OUT/obj/${src//\//_}.o
    "${LAUNCHER[@]}" "$CXX" "${FLAGS[@]}" -c "$src" -o "$obj"
    objects+=("$obj")
  done
  echo "built $name"
  "$CXX" "${FLAGS[@]}" "${objects[@]}" "${libs[@]}" -o "$OUT/${name}_fuzz"
}

DATA_SOURCES=(common/data/dataset.cc common/data/csv_reader.cc common/data/jsonl_reader.cc
              common/data/aclimdb_reader.cc common/data/label_map.cc common/data/excerpt.cc
              common/data/lm_rows.cc)
TOKENIZE_SOURCES=(common/tokenize/*.cc)
for target in "${TARGETS[@]}"; do
  case $target in
    data_reader) build data_reader tests/fuzz/data_reader_fuzz.cc "${DATA_SOURCES[@]}" ;;
    safetensors) build safetensors tests/fuzz/safetensors_fuzz.cc worker/io/safetensors_reader.cc \
      common/util/half_float.cc common/util/mapped_file.cc ;;
    torch_save) build torch_save tests/fuzz/torch_save_fuzz.cc common/torchsave/*.cc \
      common/util/half_float.cc common/util/mapped_file.cc ;;
    spec_validation)
      protoc -Iproto --cpp_out="$OUT/gen" proto/ft/v1/job.proto proto/ft/v1/progress.proto
      build spec_validation tests/fuzz/spec_validation_fuzz.cc \
        common/spec/*.cc common/chat/*.cc common/models/*.cc common/torchsave/*.cc \
        common/fetch/*.cc common/util/atomic_file.cc common/util/half_float.cc \
        common/util/mapped_file.cc "${DATA_SOURCES[@]}" "${TOKENIZE_SOURCES[@]}" \
        "$OUT/gen/ft/v1/job.pb.cc" "$OUT/gen/ft/v1/progress.pb.cc" \
        $(pkg-config --libs protobuf absl_status absl_statusor absl_strings absl_str_format \
          libcurl libcrypto zlib icu-i18n icu-uc) ;;
    tokenizer)
      build tokenizer tests/fuzz/tokenizer_fuzz.cc "${TOKENIZE_SOURCES[@]}" \
        $(pkg-config --libs icu-i18n icu-uc) ;;
    *) echo "unknown target $target (data_reader, safetensors, torch_save, spec_validation," \
         "tokenizer)" >&2
       exit 2 ;;
  esac
done

for target in "${TARGETS[@]}"; do
  mkdir -p "$OUT/corpus/$target"
  echo "fuzzing $target for ${SECONDS_PER_TARGET} s"
  (cd "$OUT" && "./${target}_fuzz" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 \
     -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
     "corpus/$target" "$SEEDS/$target")
done
