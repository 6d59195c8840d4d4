#include "common/spec/causal_lm_validation.h"

#include <filesystem>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/chat/template_loader.h"
#include "common/data/dataset.h"
#include "common/data/lm_rows.h"
#include "common/models/end_of_sequence.h"
#include "common/models/model_folder.h"

namespace ft::spec {
namespace {

// A conversation that fails to render is reported with its line; a file with many such rows
// names the first few.
constexpr int kMaxRenderProblems = 3;

bool IsDecoder(models::ModelFamily family) {
  return family == models::ModelFamily::kBloom || family == models::ModelFamily::kGpt2 ||
         family == models::ModelFamily::kLlama;
}

void CheckModel(const std::string& model, std::vector<std::string>& problems) {
  if (models::IsScratchModelName(model) || !std::filesystem::is_directory(model)) return;
  try {
    const models::ModelConfig config = models::ReadModelFolderConfig(model);
    if (!IsDecoder(config.family)) {
      problems.push_back(absl::StrCat("spec.task: causal_lm needs a decoder model (bloom, gpt2, "
                                      "llama, mistral, qwen2); ", model, " is a ",
                                      config.model_type, " model"));
    } else if (const std::string eos = models::EosTokenProblem(config); !eos.empty()) {
      problems.push_back(absl::StrCat("spec.model: ", eos));
    }
  } catch (const models::ModelFolderError&) {
    // Reported by the common model check.
  }
}

// The model's chat template, loaded once the first chat row needs it.
class TemplateForRows {
 public:
  explicit TemplateForRows(std::string model) : model_(std::move(model)) {}

  // nullptr with `problem` set when the model has none or it cannot be used.
  const chat::ChatTemplate* Get(std::string& problem) {
    if (!loaded_) {
      loaded_ = true;
      if (models::IsScratchModelName(model_) || !std::filesystem::is_directory(model_)) {
        problem_ = absl::StrCat("spec.model: ", model_,
                                " has no chat template, which \"messages\" rows need (a model "
                                "folder with tokenizer_config.json's chat_template or "
                                "chat_template.jinja)");
      } else if (absl::StatusOr<chat::ChatTemplate> found = chat::LoadChatTemplate(model_);
                 found.ok()) {
        template_ = *std::move(found);
      } else if (absl::IsNotFound(found.status())) {
        problem_ = absl::StrCat("spec.model: ", model_,
                                " has no chat template (tokenizer_config.json's chat_template or "
                                "chat_template.jinja), which \"messages\" rows need");
      } else {
        problem_ = absl::StrCat("spec.model: ", found.status().message());
      }
    }
    problem = problem_;
    return template_ ? &*template_ : nullptr;
  }

 private:
  std::string model_;
  bool loaded_ = false;
  std::optional<chat::ChatTemplate> template_;
  std::string problem_;
};

void CheckFile(const char* field, const std::string& path, TemplateForRows& chat_template,
               std::vector<std::string>& problems) {
  const std::string where = absl::StrCat("spec.dataset.", field, " (", path, ")");
  if (!std::filesystem::exists(path)) {
    problems.push_back(absl::StrCat(where, ": no such file"));
    return;
  }
  std::vector<data::LmRow> rows;
  try {
    rows = data::ReadLmRows(path);
  } catch (const data::DataError& error) {
    problems.push_back(absl::StrCat(where, ": ", error.what()));
    return;
  }
  int render_problems = 0;
  for (const data::LmRow& row : rows) {
    if (row.kind != data::LmRow::Kind::kMessages) continue;
    std::string problem;
    const chat::ChatTemplate* found = chat_template.Get(problem);
    if (found == nullptr) {
      problems.push_back(problem);
      return;
    }
    const absl::StatusOr<chat::RenderedConversation> rendered =
        found->RenderWithAssistantSpans(row.messages);
    if (!rendered.ok() && ++render_problems <= kMaxRenderProblems) {
      problems.push_back(
          absl::StrCat(where, ": ", path, ":", row.line, ": ", rendered.status().message()));
    }
  }
}

}  // namespace

std::vector<std::string> CausalLmProblems(const ft::v1::JobSpec& spec) {
  std::vector<std::string> problems;
  CheckModel(spec.model(), problems);
  const ft::v1::DatasetSpec& dataset = spec.dataset();
  if (!dataset.name().empty()) {
    problems.push_back("spec.dataset.name: named datasets are classification data; causal_lm "
                       "reads JSON Lines files (spec.dataset.train)");
    return problems;
  }
  if (!dataset.format().empty() && dataset.format() != "jsonl") {
    problems.push_back(absl::StrCat("spec.dataset.format: causal_lm reads JSON Lines (\"jsonl\"), "
                                    "got '", dataset.format(), "'"));
    return problems;
  }
  TemplateForRows chat_template(spec.model());
  if (dataset.train().empty()) {
    problems.push_back("spec.dataset.train: required (a JSON Lines file of prompt/completion, "
                       "text or messages rows)");
  } else {
    CheckFile("train", dataset.train(), chat_template, problems);
  }
  if (!dataset.validation().empty()) {
    CheckFile("validation", dataset.validation(), chat_template, problems);
  }
  if (!dataset.test().empty()) CheckFile("test", dataset.test(), chat_template, problems);
  return problems;
}

}  // namespace ft::spec
