// libFuzzer target: spec defaults and validation on arbitrary JobSpec messages (the input is the
// serialized protobuf; unparsable inputs are skipped). Validation may only answer with a Status;
// a crash, an exception or a sanitizer report is a bug. Dataset and model paths point wherever
// the fuzzer makes them, so it runs in an empty scratch folder. Built by scripts/fuzz.sh.
#include <cstdint>
#include <string>

#include "common/spec/spec_defaults.h"
#include "common/spec/spec_validation.h"
#include "ft/v1/job.pb.h"
#include "google/protobuf/stubs/logging.h"

// Protobuf logs every string that is not UTF-8; the fuzzer makes many.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ft::v1::JobSpec spec;
  if (!spec.ParseFromArray(data, static_cast<int>(size))) return 0;
  const ft::v1::JobSpec with_defaults = ft::spec::WithDefaults(spec, "/tmp/ft_fuzz_spec_base");
  const absl::Status status = ft::spec::ValidateSpec(with_defaults);
  if (!status.ok() && status.message().empty()) __builtin_trap();  // every refusal says why
  return 0;
}
