#include "client/lib/cmd/verb_flags.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/spec/spec_limits.h"

namespace ft::client {
namespace {

// A flag whose value lands in `target` only when given, so that -f values are kept otherwise.
template <typename T>
CLI::Option* AddSpecOption(CLI::App* app, const std::string& name, std::optional<T>& target,
                           const std::string& help, const std::string& type_name) {
  return app
      ->add_option_function<T>(
          name, [&target](const T& value) { target = value; }, help)
      ->type_name(type_name);
}

}  // namespace

namespace {

void AddLoraOptions(CLI::App* submit, SpecFlags& f) {
  const std::string lora = "LoRA (any of these trains an adapter; docs/lora.md)";
  submit->add_flag_function("--lora", [&f](int64_t count) { f.lora = count > 0; },
                            "train a LoRA adapter beside the frozen base (PEFT's format)")
      ->group(lora);
  AddSpecOption(submit, "--lora-r", f.lora_r, "rank, 1..1024 (default 8)", "R")->group(lora);
  AddSpecOption(submit, "--lora-alpha", f.lora_alpha, "lora_alpha (default 8): scale alpha/r",
                "A")
      ->group(lora);
  AddSpecOption(submit, "--lora-dropout", f.lora_dropout,
                "dropout on the update's input, 0..<1 (default 0)", "P")
      ->group(lora);
  submit
      ->add_option_function<std::vector<std::string>>(
          "--lora-target", [&f](const std::vector<std::string>& v) { f.lora_target_modules = v; },
          "layers to adapt by PEFT's names, e.g. q_proj,v_proj (default: PEFT's per family)")
      ->delimiter(',')
      ->type_name("NAME[,NAME...]")
      ->group(lora);
  submit
      ->add_flag_function("--lora-rslora", [&f](int64_t count) { f.lora_use_rslora = count > 0; },
                          "rank-stabilised scale alpha/sqrt(r)")
      ->group(lora);
  AddSpecOption(submit, "--lora-base-precision", f.lora_base_precision,
                "fp32 (default) or bf16: the frozen linear weights' dtype (half the memory)", "P")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->group(lora);
  submit
      ->add_flag_function("--lora-merge", [&f](int64_t count) { f.lora_merge = count > 0; },
                          "also write the merged full model to <output>/merged")
      ->group(lora);
  AddSpecOption(submit, "--lora-adapter", f.lora_adapter,
                "a PEFT adapter folder to continue training, or to evaluate with "
                "--evaluate-only (its r, alpha, targets apply)",
                "DIR")
      ->group(lora);
}

}  // namespace

void AddSpecOptions(CLI::App* submit, SpecFlags& f) {
  namespace limits = ft::spec;
  const std::string data = "Dataset";
  AddSpecOption(submit, "--model", f.model,
                "model to finetune: scratch:bloom-tiny, a local Hugging Face folder "
                "(config.json + model.safetensors), or a Hub id org/name[@revision]",
                "NAME|DIR|ORG/NAME");
  AddSpecOption(submit, "--tokenizer", f.tokenizer,
                "another tokenizer than the model folder's: a tokenizer.json, or a folder "
                "holding one (its ids must fit the model's vocab_size)",
                "FILE|DIR");
  AddSpecOption(submit, "--task", f.task,
                "sequence_classification (default: text and label columns) or causal_lm "
                "(a decoder on prompt/completion, text or chat JSONL rows)",
                "TASK")
      ->check(CLI::IsMember({"sequence_classification", "causal_lm"}));
  submit->add_flag_function(
      "--train-on-prompt", [&f](int64_t count) { f.train_on_prompt = count > 0; },
      "causal_lm: the prompt's tokens (a chat's system and user turns) are loss targets too");
  submit->add_flag_function(
      "--packing", [&f](int64_t count) { f.packing = count > 0; },
      "causal_lm: several examples per row of max_seq_length (less padding, the same gradient)");
  AddSpecOption(submit, "--dataset", f.dataset_name,
                "a named dataset instead of --train/--validation/--test: imdb (the seed's split)",
                "NAME")
      ->group(data);
  AddSpecOption(submit, "--train", f.train,
                "training examples: a CSV, TSV or JSONL file, or an aclImdb-style folder", "PATH")
      ->group(data);
  AddSpecOption(submit, "--validation", f.validation,
                "validation examples (default: a seeded split of --train)", "PATH")
      ->group(data);
  AddSpecOption(submit, "--test", f.test, "test examples, evaluated at the end (default: none)",
                "PATH")
      ->group(data);
  AddSpecOption(submit, "--format", f.format, "file format (default: from the file name)", "FMT")
      ->check(CLI::IsMember({"csv", "tsv", "jsonl", "aclimdb"}))
      ->group(data);
  AddSpecOption(submit, "--text-column", f.text_column, "column with the text (default: text)",
                "COL")
      ->group(data);
  AddSpecOption(submit, "--label-column", f.label_column, "column with the label (default: label)",
                "COL")
      ->group(data);
  AddSpecOption(submit, "--validation-fraction", f.validation_fraction,
                absl::StrCat("share of --train held out when there is no --validation (default ",
                             limits::kDefaultValidationFraction, ")"),
                "F")
      ->group(data);

  const std::string batch = "Batching and schedule";
  AddSpecOption(submit, "--micro-batch-size", f.micro_batch_size,
                absl::StrCat("examples per forward/backward pass, 1..", limits::kMaxMicroBatchSize,
                             " (default ", kDefaultMicroBatchSize, ")"),
                "N")
      ->group(batch);
  AddSpecOption(submit, "--accumulation-steps", f.accumulation_steps,
                absl::StrCat("micro-batches per optimizer step, 1..", limits::kMaxAccumulationSteps,
                             " (default ", kDefaultAccumulationSteps,
                             "); effective batch = micro-batch-size x accumulation-steps"),
                "K")
      ->group(batch);
  AddSpecOption(submit, "--epochs", f.epochs,
                absl::StrCat("passes over --train, 1..", limits::kMaxEpochs, " (default ",
                             kDefaultEpochs, ")"),
                "E")
      ->group(batch);
  AddSpecOption(submit, "--max-steps", f.max_steps, "stop after N optimizer steps (default: none)",
                "N")
      ->group(batch);
  AddSpecOption(submit, "--max-seq-length", f.max_seq_length,
                absl::StrCat("tokens per example after truncation, 1..", limits::kMaxSeqLength,
                             " (default ", limits::kDefaultMaxSeqLength, ")"),
                "L")
      ->group(batch);
  AddSpecOption(submit, "--seed", f.seed, "seed for data order, split and initial weights", "S")
      ->group(batch);
  AddSpecOption(submit, "--effective-batch-size", f.effective_batch_size,
                absl::StrCat("examples per optimizer step, 1..", limits::kMaxEffectiveBatchSize,
                             ", instead of --accumulation-steps (= effective / micro-batch, which "
                             "must divide it)"),
                "B")
      ->group(batch);
  submit
      ->add_flag_function(
          "--auto-micro-batch", [&f](int64_t count) { f.auto_micro_batch = count > 0; },
          "the worker picks the largest micro-batch (up to --micro-batch-size if given) whose "
          "pass on the longest sequence fits its memory budget; needs --effective-batch-size")
      ->group(batch);
  AddSpecOption(submit, "--world-size", f.world_size,
                "data parallel: workers that train the job together, one rank each; it starts "
                "when that many are free at once (default 1; docs/distributed.md)",
                "N")
      ->group(batch);
  submit
      ->add_flag_function(
          "--group-by-length", [&f](int64_t count) { f.group_by_length = count > 0; },
          "windows of similar-length examples in random order: less padding, same exactness")
      ->group(batch);

  const std::string optim = "Optimizer";
  AddSpecOption(submit, "--lr", f.learning_rate,
                absl::StrCat("peak learning rate, up to ", limits::kMaxLearningRate, " (default ",
                             limits::kDefaultScratchLearningRate, " for scratch models)"),
                "X")
      ->group(optim);
  AddSpecOption(submit, "--optimizer", f.optimizer, "adamw (default) or sgd", "NAME")
      ->check(CLI::IsMember({"adamw", "sgd"}))
      ->group(optim);
  AddSpecOption(submit, "--weight-decay", f.weight_decay,
                "AdamW decoupled weight decay, 0..1 (default 0)", "W")
      ->group(optim);
  AddSpecOption(submit, "--max-grad-norm", f.max_grad_norm,
                "clip the global gradient norm to G (default 0: no clipping)", "G")
      ->group(optim);
  AddSpecOption(submit, "--warmup-steps", f.warmup_steps,
                "linear warmup steps, then the --lr-scheduler (default 0: no warmup)", "N")
      ->group(optim);
  AddSpecOption(submit, "--lr-scheduler", f.lr_scheduler,
                "after the warmup: linear (default, decays to 0 at the last step), cosine "
                "(half a cosine down to 0) or constant",
                "NAME")
      ->check(CLI::IsMember({"linear", "cosine", "constant"}))
      ->group(optim);
  AddSpecOption(submit, "--label-smoothing", f.label_smoothing,
                "label smoothing of the training loss, 0..<1 (default 0), as PyTorch's "
                "CrossEntropyLoss(label_smoothing=)",
                "S")
      ->group(optim);
  AddSpecOption(submit, "--model-dropout", f.model_dropout,
                "config (default: the model's config.json dropout rates, as transformers "
                "trains) or off",
                "MODE")
      ->check(CLI::IsMember({"config", "off"}))
      ->group(optim);
  AddSpecOption(submit, "--precision", f.precision,
                "fp32 (default), bf16 (bfloat16 autocast for the forward pass; float32 "
                "weights, gradients and optimizer) or fp16 (float16 autocast with dynamic loss "
                "scaling; CUDA only)",
                "P")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}))
      ->group(optim);
  submit
      ->add_flag_function(
          "--activation-checkpointing", [&f](int64_t) { f.activation_checkpointing = true; },
          "recompute each block's activations in the backward pass: less memory, about one "
          "more forward per step")
      ->group(optim);
  submit
      ->add_flag_function(
          "--evaluate-only", [&f](int64_t) { f.evaluate_only = true; },
          "evaluate the model folder (or --lora-adapter on its base) on validation and test; "
          "no training, nothing written but result.json")
      ->group(optim);
  AddSpecOption(submit, "--checkpoint-every-steps", f.checkpoint_every_steps,
                "checkpoint every N optimizer steps (default 0: every 100) and at each epoch "
                "end; a re-queued job resumes from the newest one",
                "N")
      ->group(optim);

  const std::string report = "Reporting and evaluation";
  AddSpecOption(submit, "--log-every-steps", f.log_every_steps,
                absl::StrCat("a progress event every N optimizer steps (default ",
                             limits::kDefaultLogEverySteps, ")"),
                "N")
      ->group(report);
  AddSpecOption(submit, "--eval-every-steps", f.eval_every_steps,
                "evaluate on validation every N optimizer steps (default: once per epoch)", "N")
      ->group(report);
  AddSpecOption(submit, "--max-eval-examples", f.max_eval_examples,
                "evaluate on at most N examples per split (default: all)", "N")
      ->group(report);
  AddSpecOption(submit, "--early-stopping-patience", f.early_stopping_patience,
                absl::StrCat("stop when the validation metric has not improved for N consecutive "
                             "evaluations, 0..",
                             limits::kMaxEarlyStoppingPatience, " (default 0: never)"),
                "N")
      ->group(report);
  AddSpecOption(submit, "--early-stopping-metric", f.early_stopping_metric,
                "validation metric for early stopping and --keep-best-model: accuracy (default), "
                "loss or macro_f1",
                "METRIC")
      ->check(CLI::IsMember({"accuracy", "loss", "macro_f1"}))
      ->group(report);
  submit
      ->add_flag_function(
          "--keep-best-model,!--no-keep-best-model",
          [&f](int64_t count) { f.keep_best_model = count > 0; },
          "export the weights of the best validation evaluation instead of the last; test "
          "metrics are then those of the best weights")
      ->group(report);
  AddSpecOption(submit, "--name", f.display_name, "free text shown by ftctl", "TEXT")
      ->group(report);
  submit
      ->add_option("--notify", f.notify,
                   "POST the job's state changes to this http(s) URL, signed (repeatable; "
                   "docs/webhooks.md)")
      ->type_name("URL")
      ->group(report);
  AddLoraOptions(submit, f);
}

CLI::Option* AddOutputOption(CLI::App* app, std::string& output,
                             const std::vector<std::string>& formats) {
  return app
      ->add_option("-o,--output", output,
                   "output format: " + absl::StrJoin(formats, ", ") +
                       " (json: protobuf's JSON mapping; yaml: the same data)")
      ->check(CLI::IsMember(formats))
      ->type_name("FORMAT")
      ->capture_default_str();
}

OutputFormat ToFormat(const std::string& output) {
  if (output == "json") return OutputFormat::kJson;
  if (output == "yaml") return OutputFormat::kYaml;
  if (output == "ids") return OutputFormat::kIds;
  return OutputFormat::kTable;
}

}  // namespace ft::client
