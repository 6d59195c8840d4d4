#include "worker/daemon/spec_to_options.h"

#include <set>
#include <type_traits>

#include "common/spec/batch_geometry.h"
#include "google/protobuf/util/json_util.h"
#include "worker/train/train_option_fields.h"

namespace ft::worker {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// JobSpec fields that no row of kTrainOptionFields copies by name, each with who reads it.
const std::set<std::string> kSpecFieldsOutsideTheTable = {
    "dataset",               // its fields have rows ("dataset.train", ...)
    "dataset.name",          // ResolveRemoteInputs: a named dataset's cached files
    "display_name",          // ftd and ftctl only
    "notify",                // ftd's webhooks
    "lora",                  // by hand below, into LoraOptions
    "effective_batch_size",  // spec::ResolveBatchGeometry, below
    "auto_micro_batch",      // spec::ResolveBatchGeometry, below
    "world_size",            // ResolveBatchGeometry; the rank comes with the lease (worker_loop)
};

// The message holding `path` ("dataset.train": spec.dataset()) and the field's descriptor;
// field is null when the path names no singular field.
struct SpecField {
  const Message* message = nullptr;
  const FieldDescriptor* field = nullptr;
};

// The row's JobSpec field as a path: "seed", "dataset.train"; "" when it has none.
std::string SpecPath(const train::TrainOptionField& row) {
  return std::string(row.spec_field) == "=" ? row.name : row.spec_field;
}

SpecField FindSpecField(const ft::v1::JobSpec& spec, const train::TrainOptionField& row) {
  const std::string path = SpecPath(row);
  const Message* message = &spec;
  std::string name = path;
  if (const std::size_t dot = path.find('.'); dot != std::string::npos) {
    const FieldDescriptor* parent = spec.GetDescriptor()->FindFieldByName(path.substr(0, dot));
    if (parent == nullptr || parent->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return {};
    message = &spec.GetReflection()->GetMessage(spec, parent);
    name = path.substr(dot + 1);
  }
  const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->is_repeated()) return {};
  return {message, field};
}

// The field's value as `T`; false when a proto field of that type cannot fill a `T` member.
template <typename T>
bool ReadAs(const Message& message, const FieldDescriptor& field, T& value) {
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  if constexpr (std::is_same_v<T, std::string>) {
    if (field.cpp_type() != FieldDescriptor::CPPTYPE_STRING) return false;
    value = reflection.GetString(message, &field);
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (field.cpp_type() != FieldDescriptor::CPPTYPE_BOOL) return false;
    value = reflection.GetBool(message, &field);
    return true;
  } else {
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        value = static_cast<T>(reflection.GetInt32(message, &field));
        return true;
      case FieldDescriptor::CPPTYPE_INT64:
        value = static_cast<T>(reflection.GetInt64(message, &field));
        return true;
      case FieldDescriptor::CPPTYPE_UINT32:
        value = static_cast<T>(reflection.GetUInt32(message, &field));
        return true;
      case FieldDescriptor::CPPTYPE_UINT64:
        value = static_cast<T>(reflection.GetUInt64(message, &field));
        return true;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        if (!std::is_floating_point_v<T>) return false;
        value = static_cast<T>(reflection.GetDouble(message, &field));
        return true;
      default:
        return false;
    }
  }
}

// Copies the row's spec field into `options`; false when the row names no field of a fitting type
// (OptionTableProblems reports which).
bool CopySpecField(const ft::v1::JobSpec& spec, const train::TrainOptionField& row,
                   train::TrainOptions& options) {
  const SpecField found = FindSpecField(spec, row);
  if (found.field == nullptr) return false;
  return std::visit(
      [&](auto member) {
        if constexpr (std::is_same_v<decltype(member), std::monostate>) {
          return false;
        } else {
          auto value = options.*member;
          if (!ReadAs(*found.message, *found.field, value)) return false;
          if constexpr (std::is_same_v<decltype(value), std::string>) {
            if (row.empty_spec_keeps_default && value.empty()) return true;
          }
          options.*member = std::move(value);
          return true;
        }
      },
      row.member);
}

bool FromSpec(const train::TrainOptionField& row) { return row.spec_field[0] != '\0'; }

}  // namespace

train::TrainOptions ToTrainOptions(const ft::v1::JobSpec& spec, const std::string& output_dir,
                                   int threads) {
  train::TrainOptions options;
  for (const train::TrainOptionField& row : train::kTrainOptionFields) {
    if (FromSpec(row)) CopySpecField(spec, row, options);
  }
  // Validated before; a spec that fails here is refused again by the training core's own check.
  if (const auto geometry = spec::ResolveBatchGeometry(spec); geometry.ok()) {
    options.micro_batch_size = geometry->micro_batch_size;
    options.accumulation_steps = geometry->accumulation_steps;
    options.effective_batch_size = static_cast<int64_t>(geometry->effective_batch_size);
    options.auto_micro_batch = geometry->auto_micro_batch;
  }
  if (spec.has_lora()) {
    const ft::v1::LoraSpec& lora = spec.lora();
    options.lora.enabled = true;
    options.lora.r = lora.r();
    options.lora.alpha = lora.alpha();
    options.lora.dropout = lora.dropout();
    options.lora.target_modules.assign(lora.target_modules().begin(),
                                       lora.target_modules().end());
    options.lora.use_rslora = lora.use_rslora();
    if (!lora.base_precision().empty()) options.lora.base_precision = lora.base_precision();
    options.lora.merge = lora.merge();
    options.lora.adapter = lora.adapter();
  }
  options.threads = threads;
  options.output_dir = output_dir;
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  // A JobSpec always converts; the JSON only documents the run in result.json.
  (void)google::protobuf::util::MessageToJsonString(spec, &options.spec_json, json);
  return options;
}

std::vector<std::string> OptionTableProblems() {
  std::vector<std::string> problems;
  const ft::v1::JobSpec spec;
  std::set<std::string> read;  // "name" or "dataset.name"
  for (const train::TrainOptionField& row : train::kTrainOptionFields) {
    if (!FromSpec(row)) continue;
    const std::string path = SpecPath(row);
    read.insert(path);
    train::TrainOptions options;
    if (!CopySpecField(spec, row, options)) {
      problems.push_back("TrainOptions." + std::string(row.name) + ": JobSpec has no field " +
                         path + " of a type it can hold");
    }
  }
  const auto check = [&](const google::protobuf::Descriptor& message, const std::string& prefix) {
    for (int i = 0; i < message.field_count(); ++i) {
      const std::string path = prefix + message.field(i)->name();
      if (read.count(path) == 0 && kSpecFieldsOutsideTheTable.count(path) == 0) {
        problems.push_back("JobSpec field " + path +
                           " is neither a row of kTrainOptionFields (worker/train/"
                           "train_option_fields.h) nor in kSpecFieldsOutsideTheTable");
      }
    }
  };
  check(*ft::v1::JobSpec::descriptor(), "");
  check(*ft::v1::DatasetSpec::descriptor(), "dataset.");
  return problems;
}

}  // namespace ft::worker
