// A table of malformed requests and files sent to the real daemon over real gRPC while a good job
// trains. Each one gets a precise answer: refused at SubmitJob (or the RPC) with its code and a
// message naming the field or the file, or — where only reading the whole file shows it — a job
// that fails with an error naming the file and line (or tensor). The daemon stays up, nothing
// refused is queued, and the good job ends as it would have alone.
#include <signal.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"

namespace ft::testing {
namespace {

namespace fs = std::filesystem;
using grpc::StatusCode;
using Spec = ft::v1::JobSpec;

// The bad files, written once into the test's folder.
class BadFiles {
 public:
  explicit BadFiles(TempDir& dir) : dir_(dir) {
    good_csv = dir.Path("good.csv");
    WriteToyCsv(good_csv, 40, 4);
    Put("empty.csv", "");
    Put("header_only.csv", "text,label\n");
    Put("other_columns.csv", "review,sentiment\nfine,1\n");
    Put("broken_header.csv", "\"text,label\nfine,1\n");
    Put("broken_row.csv", "text,label\n\"good one\",1\n\"broken,0\n");
    Put("short_row.csv", "text,label\ngood,1\nno label here\nbad,0\n");
    Put("empty_label.csv", "text,label\ngood,1\nbad,\n");
    Put("negative_label.csv", "text,label\ngood,1\nbad,-1\n");
    Put("huge_label.csv", "text,label\ngood,1\nbad,99999999999\n");
    Put("test_label.csv", "text,label\ngood,1\nstrange,7\n");  // 7 never seen in training
    Put("bad_utf8_row.csv", "text,label\ngood,1\nbad \xff\xfe bytes,0\n");
    Put("bad_utf8_header.csv", "te\xffxt,label\ngood,1\n");
    Put("nul_row.csv", std::string("text,label\ngood,1\nbad\0byte,0\n", 30));
    std::string binary(4096, '\0');
    std::mt19937 random(1);
    for (char& c : binary) c = static_cast<char>(random());
    Put("binary.csv", binary);
    Put("bad.jsonl", "{\"text\": \"fine\", \"label\": 1}\n{\"text\": \"broken\", \"label\": \n");
    Put("not_object.jsonl", "{\"text\": \"fine\", \"label\": 1}\n[1, 2]\n");
    Put("no_text.jsonl", "{\"text\": \"fine\", \"label\": 1}\n{\"body\": \"x\", \"label\": 0}\n");
    Put("wrong_fields.tsv", "text\tlabel\nfine\t1\ntoo\tmany\tfields\n");
    fs::create_directories(dir.Path("folder.csv"));
    // One data row of 100 MB: more than a field may hold (16 MiB).
    {
      std::ofstream out(dir.Path("long_line.csv"), std::ios::binary);
      out << "text,label\ngood,1\n";
      const std::string chunk(1 << 20, 'a');
      for (int i = 0; i < 100; ++i) out << chunk;
      out << ",0\n";
    }
    // Model folders: the exported fixture, then broken copies.
    const std::string fixture = std::string(std::getenv("FT_SOURCE_DIR")) + "/tests/fixtures/hf/export";
    const std::string weights = ReadFileBytes(fixture + "/model.safetensors");
    const std::string config = ReadFileBytes(fixture + "/config.json");
    Model("model_no_config", "", weights);
    Model("model_no_weights", config, "", false);
    Model("model_empty_weights", config, "");
    Model("model_bad_json", "{\"model_type\": \"bloom\", ", weights);
    Model("model_json_array", "[1, 2, 3]", weights);
    Model("model_t5", Patched(config, "model_type", "t5"), weights);  // no such family here
    Model("model_small_vocab", Patched(config, "vocab_size", 100), weights);
    Model("model_bad_heads", Patched(config, "n_head", 3), weights);
    Model("model_negative_hidden", Patched(config, "hidden_size", -128), weights);
    Model("model_truncated", config, weights.substr(0, weights.size() / 2));
    Model("model_tiny_weights", config, weights.substr(0, 5));
    // A length prefix that promises more header than the file has.
    std::string lying = weights;
    const uint64_t huge = 1ull << 40;
    std::memcpy(lying.data(), &huge, sizeof(huge));
    Model("model_lying_length", config, lying);
    Model("model_header_not_json", config, WithHeader(weights, "not json at all"));
    // A tensor whose data offsets run past the end of the file.
    Model("model_lying_offsets", config, WithHeaderEdit(weights, [](nlohmann::json& header) {
            for (auto& [name, tensor] : header.items()) {
              if (name == "__metadata__") continue;
              tensor["data_offsets"][1] = tensor["data_offsets"][1].get<uint64_t>() + (1u << 30);
              break;
            }
          }));
    // A tensor of the wrong shape for the config.
    Model("model_wrong_shape", config, WithHeaderEdit(weights, [](nlohmann::json& header) {
            for (auto& [name, tensor] : header.items()) {
              if (name.find("word_embeddings.weight") == std::string::npos) continue;
              tensor["shape"] = {130, 256};  // same bytes, other shape
            }
          }));
    // pytorch_model.bin: the legacy format (its magic number's pickle), and not a zip at all.
    Model("model_bin_legacy", config, "", false);
    Put("model_bin_legacy/pytorch_model.bin",
        std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15));
    Model("model_bin_junk", config, "", false);
    Put("model_bin_junk/pytorch_model.bin", "junk, not a zip archive");
    Put("model_is_a_file", "x");
    Model("model_config_dir", "", weights);
    fs::create_directories(dir.Path("model_config_dir/config.json"));
  }

  std::string operator[](const std::string& name) const { return dir_.Path(name); }
  std::string good_csv;

 private:
  void Put(const std::string& name, const std::string& bytes) { dir_.Write(name, bytes); }

  void Model(const std::string& name, const std::string& config, const std::string& weights,
             bool with_weights = true) {
    dir_.MakeFolder(name);
    if (!config.empty()) Put(name + "/config.json", config);
    if (with_weights) Put(name + "/model.safetensors", weights);
  }

  static std::string Patched(const std::string& config, const std::string& key,
                             const nlohmann::json& value) {
    nlohmann::json json = nlohmann::json::parse(config);
    json[key] = value;
    return json.dump();
  }

  // The safetensors file with its JSON header replaced by `header` (data kept after it).
  static std::string WithHeader(const std::string& weights, const std::string& header) {
    uint64_t length = 0;
    std::memcpy(&length, weights.data(), sizeof(length));
    const std::string data = weights.substr(8 + length);
    const uint64_t new_length = header.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &new_length, sizeof(new_length));
    return out + header + data;
  }

  static std::string WithHeaderEdit(const std::string& weights,
                                    const std::function<void(nlohmann::json&)>& edit) {
    uint64_t length = 0;
    std::memcpy(&length, weights.data(), sizeof(length));
    nlohmann::json header = nlohmann::json::parse(weights.substr(8, length));
    edit(header);
    std::string text = header.dump();
    // Keep the data where it was: pad the header with spaces to its old length when shorter.
    if (text.size() < length) text.append(length - text.size(), ' ');
    return WithHeader(weights, text);
  }

  TempDir& dir_;
};

struct Case {
  std::string name;
  std::function<void(Spec&, ft::v1::SubmitJobRequest&, const BadFiles&)> mutate;
  // The SubmitJob answer; OK means accepted, and then the job must fail.
  StatusCode code;
  std::vector<std::string> message_parts;  // in the status message, or in the job's error
};

std::vector<Case> Cases() {
  const auto field = [](const std::string& name, std::function<void(Spec&)> mutate,
                        const std::string& part, StatusCode code = StatusCode::INVALID_ARGUMENT) {
    return Case{name, [mutate](Spec& s, auto&, auto&) { mutate(s); }, code, {part}};
  };
  const auto train = [](const std::string& name, const std::string& file, StatusCode code,
                        std::vector<std::string> parts) {
    return Case{name,
                [file](Spec& s, auto&, const BadFiles& f) {
                  s.mutable_dataset()->set_train(f[file]);
                },
                code, std::move(parts)};
  };
  const auto model = [](const std::string& folder, StatusCode code,
                        std::vector<std::string> parts) {
    return Case{"model " + folder, [folder](Spec& s, auto&, const BadFiles& f) { s.set_model(f[folder]); },
                code, std::move(parts)};
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const uint32_t u32max = std::numeric_limits<uint32_t>::max();
  const StatusCode OK = StatusCode::OK;
  const StatusCode NOT_FOUND = StatusCode::NOT_FOUND;
  const StatusCode INVALID = StatusCode::INVALID_ARGUMENT;
  return {
      // --- JobSpec fields at and past their bounds ---
      field("model empty", [](Spec& s) { s.clear_model(); }, "spec.model"),
      field("model unknown", [](Spec& s) { s.set_model("scratch:nope"); }, "spec.model"),
      field("micro_batch_size 0", [](Spec& s) { s.set_micro_batch_size(0); },
            "spec.micro_batch_size"),
      field("micro_batch_size 4097", [](Spec& s) { s.set_micro_batch_size(4097); },
            "spec.micro_batch_size"),
      field("micro_batch_size max", [=](Spec& s) { s.set_micro_batch_size(u32max); },
            "spec.micro_batch_size"),
      field("accumulation_steps 0", [](Spec& s) { s.set_accumulation_steps(0); },
            "spec.accumulation_steps"),
      field("accumulation_steps 65537", [](Spec& s) { s.set_accumulation_steps(65537); },
            "spec.accumulation_steps"),
      field("effective_batch_size not a multiple",
            [](Spec& s) {
              s.clear_accumulation_steps();
              s.set_effective_batch_size(7);
            },
            "effective_batch_size"),
      field("effective_batch_size max",
            [=](Spec& s) {
              s.clear_accumulation_steps();
              s.set_effective_batch_size(u32max);
            },
            "effective_batch_size"),
      field("epochs 0", [](Spec& s) { s.set_epochs(0); }, "spec.epochs"),
      field("epochs 1001", [](Spec& s) { s.set_epochs(1001); }, "spec.epochs"),
      field("max_seq_length 8193", [](Spec& s) { s.set_max_seq_length(8193); },
            "spec.max_seq_length"),
      field("max_seq_length max", [=](Spec& s) { s.set_max_seq_length(u32max); },
            "spec.max_seq_length"),
      field("learning_rate NaN", [=](Spec& s) { s.set_learning_rate(nan); },
            "spec.learning_rate"),
      field("learning_rate -1", [](Spec& s) { s.set_learning_rate(-1); }, "spec.learning_rate"),
      field("learning_rate inf", [=](Spec& s) { s.set_learning_rate(inf); },
            "spec.learning_rate"),
      field("learning_rate 11", [](Spec& s) { s.set_learning_rate(11); }, "spec.learning_rate"),
      field("optimizer lion", [](Spec& s) { s.set_optimizer("lion"); }, "spec.optimizer"),
      field("optimizer upper case", [](Spec& s) { s.set_optimizer("ADAMW"); }, "spec.optimizer"),
      field("precision fp8", [](Spec& s) { s.set_precision("fp8"); }, "spec.precision"),
      field("lr_scheduler step", [](Spec& s) { s.set_lr_scheduler("step"); },
            "spec.lr_scheduler"),
      field("label_smoothing 1", [](Spec& s) { s.set_label_smoothing(1); },
            "spec.label_smoothing"),
      field("label_smoothing -0.1", [](Spec& s) { s.set_label_smoothing(-0.1); },
            "spec.label_smoothing"),
      field("label_smoothing NaN", [=](Spec& s) { s.set_label_smoothing(nan); },
            "spec.label_smoothing"),
      field("weight_decay -1", [](Spec& s) { s.set_weight_decay(-1); }, "spec.weight_decay"),
      field("weight_decay NaN", [=](Spec& s) { s.set_weight_decay(nan); }, "spec.weight_decay"),
      field("weight_decay 2", [](Spec& s) { s.set_weight_decay(2); }, "spec.weight_decay"),
      field("max_grad_norm -1", [](Spec& s) { s.set_max_grad_norm(-1); }, "spec.max_grad_norm"),
      field("max_grad_norm inf", [=](Spec& s) { s.set_max_grad_norm(inf); },
            "spec.max_grad_norm"),
      field("warmup_steps huge", [=](Spec& s) { s.set_warmup_steps(u32max); },
            "spec.warmup_steps"),
      field("log_every_steps huge", [=](Spec& s) { s.set_log_every_steps(u32max); },
            "spec.log_every_steps"),
      field("early_stopping_patience huge", [=](Spec& s) { s.set_early_stopping_patience(u32max); },
            "spec.early_stopping_patience"),
      field("early_stopping_metric unknown",
            [](Spec& s) {
              s.set_early_stopping_patience(2);
              s.set_early_stopping_metric("f2");
            },
            "spec.early_stopping_metric"),
      field("early_stopping_metric unused", [](Spec& s) { s.set_early_stopping_metric("loss"); },
            "spec.early_stopping_metric"),
      field("display_name 201 bytes", [](Spec& s) { s.set_display_name(std::string(201, 'x')); },
            "spec.display_name"),
      Case{"request_id 257 bytes",
           [](Spec&, ft::v1::SubmitJobRequest& r, auto&) { r.set_request_id(std::string(257, 'r')); },
           INVALID,
           {"request_id"}},
      // --- dataset fields and paths ---
      field("train empty", [](Spec& s) { s.mutable_dataset()->clear_train(); },
            "spec.dataset.train"),
      train("train missing", "nope.csv", NOT_FOUND, {"spec.dataset.train", "nope.csv"}),
      Case{"train through ..",
           [](Spec& s, auto&, const BadFiles& f) {
             s.mutable_dataset()->set_train(f["folder.csv"] + "/../../no/such/../file.csv");
           },
           // `..` leads out of ftd's data roots (this test's folder): refused before any lookup.
           StatusCode::PERMISSION_DENIED,
           {"spec.dataset.train", "outside the data roots"}},
      // A folder is read as aclImdb (pos/, neg/), whatever its name.
      train("train is a directory", "folder.csv", INVALID,
            {"spec.dataset.train", "folder.csv", "no label subfolders"}),
      Case{"validation missing",
           [](Spec& s, auto&, const BadFiles& f) { s.mutable_dataset()->set_validation(f["nope.csv"]); },
           NOT_FOUND,
           {"spec.dataset.validation"}},
      Case{"test is a directory",
           [](Spec& s, auto&, const BadFiles& f) { s.mutable_dataset()->set_test(f["folder.csv"]); },
           INVALID,
           {"spec.dataset.test", "no label subfolders"}},
      field("format parquet", [](Spec& s) { s.mutable_dataset()->set_format("parquet"); },
            "spec.dataset.format"),
      field("validation_fraction 1.5", [](Spec& s) { s.mutable_dataset()->set_validation_fraction(1.5); },
            "validation_fraction"),
      field("validation_fraction -0.1",
            [](Spec& s) { s.mutable_dataset()->set_validation_fraction(-0.1); },
            "validation_fraction"),
      field("validation_fraction NaN",
            [=](Spec& s) { s.mutable_dataset()->set_validation_fraction(nan); },
            "validation_fraction"),
      field("text_column absent", [](Spec& s) { s.mutable_dataset()->set_text_column("body"); },
            "no column 'body'"),
      field("label_column absent", [](Spec& s) { s.mutable_dataset()->set_label_column("y"); },
            "no column 'y'"),
      // --- dataset files (refused at SubmitJob when the header shows it) ---
      train("empty file", "empty.csv", INVALID, {"empty.csv", "empty file"}),
      train("missing columns", "other_columns.csv", INVALID, {"other_columns.csv", "no column 'text'"}),
      train("broken quoting in the header", "broken_header.csv", INVALID, {"broken_header.csv"}),
      train("binary file", "binary.csv", INVALID, {"binary.csv"}),
      train("invalid UTF-8 header", "bad_utf8_header.csv", INVALID, {"bad_utf8_header.csv"}),
      // --- dataset files (the job fails, naming file and line) ---
      train("header only", "header_only.csv", OK, {"header_only.csv", "no examples"}),
      train("broken quoting in row 3", "broken_row.csv", OK, {"broken_row.csv:3"}),
      train("row without label", "short_row.csv", OK, {"short_row.csv:3"}),
      train("empty label", "empty_label.csv", OK, {"empty_label.csv:3"}),
      train("negative label", "negative_label.csv", OK, {"negative_label.csv:3", "negative"}),
      train("label out of range", "huge_label.csv", OK, {"huge_label.csv:3", "too large"}),
      Case{"test label unknown to training",
           [](Spec& s, auto&, const BadFiles& f) { s.mutable_dataset()->set_test(f["test_label.csv"]); },
           OK,
           {"test_label.csv:3", "unknown label \"7\""}},
      // SubmitJob reads the whole file for these.
      train("invalid UTF-8 row", "bad_utf8_row.csv", INVALID, {"bad_utf8_row.csv:3", "UTF-8"}),
      train("NUL byte row", "nul_row.csv", INVALID, {"nul_row.csv:3", "NUL byte"}),
      train("100 MB line", "long_line.csv", OK, {"long_line.csv:3", "16 MiB"}),
      train("JSONL broken line", "bad.jsonl", OK, {"bad.jsonl:2", "invalid JSON"}),
      train("JSONL line not an object", "not_object.jsonl", OK, {"not_object.jsonl:2"}),
      train("JSONL line without text", "no_text.jsonl", OK, {"no_text.jsonl:2"}),
      train("TSV row with extra fields", "wrong_fields.tsv", OK, {"wrong_fields.tsv:3"}),
      // --- model folders and files ---
      model("model_is_a_file", INVALID, {"model_is_a_file", "not a folder"}),
      model("model_no_config", NOT_FOUND, {"model_no_config/config.json"}),
      model("model_config_dir", INVALID, {"model_config_dir/config.json", "not a regular file"}),
      field("model path with a NUL byte",
            [](Spec& s) { s.set_model(std::string("/\0/etc", 6)); }, "spec.model: contains a NUL"),
      field("train path with a NUL byte",
            [](Spec& s) { s.mutable_dataset()->set_train(std::string("/\0/etc/passwd", 13)); },
            "spec.dataset.train: contains a NUL"),
      model("model_no_weights", NOT_FOUND,
            {"model_no_weights: no model weights (model.safetensors"}),
      model("model_bad_json", INVALID, {"config.json", "not valid JSON"}),
      model("model_json_array", INVALID, {"config.json"}),
      model("model_t5", INVALID, {"config.json", "t5"}),
      model("model_small_vocab", INVALID, {"config.json", "vocab_size"}),
      model("model_bad_heads", INVALID, {"config.json", "n_head"}),
      model("model_negative_hidden", INVALID, {"config.json", "must be 1..65536, got -128"}),
      model("model_bin_legacy", INVALID, {"model_bin_legacy/pytorch_model.bin", "legacy"}),
      model("model_bin_junk", INVALID, {"model_bin_junk/pytorch_model.bin", "not a torch.save"}),
      model("model_truncated", OK, {"model_truncated/model.safetensors"}),
      model("model_tiny_weights", OK, {"model_tiny_weights/model.safetensors"}),
      model("model_empty_weights", OK, {"model_empty_weights/model.safetensors", "0 bytes"}),
      model("model_lying_length", OK, {"model_lying_length/model.safetensors"}),
      model("model_header_not_json", OK, {"model_header_not_json/model.safetensors"}),
      model("model_lying_offsets", OK, {"model_lying_offsets/model.safetensors"}),
      model("model_wrong_shape", OK, {"model_wrong_shape/model.safetensors", "word_embeddings"}),
  };
}

TEST(BadInputTest, EveryMalformedRequestOrFileGetsAPreciseErrorAndTheDaemonCarriesOn) {
  TempDir dir;
  const BadFiles files(dir);
  FtdProcessOptions options;
  options.home = dir.Path("home");
  options.local_workers = 2;  // one trains the good job, the other fails the bad ones
  FtdProcess ftd(options);
  ftd.Start();

  // The good job, running through it all.
  const std::string good_csv = dir.Path("long_good.csv");
  WriteToyCsv(good_csv, 400, 8);
  Spec good_spec = TinySpec(good_csv, 40);
  good_spec.set_epochs(2);  // 38 steps an epoch
  ft::v1::SubmitJobResponse good;
  ASSERT_TRUE(Submit(ftd, good_spec, "good", &good).ok());
  WaitFor(ftd, good.job().id(), [](const ft::v1::Job& j) { return j.progress().step() >= 1; });

  const std::vector<Case> cases = Cases();
  std::vector<std::pair<const Case*, std::string>> accepted;  // case, job id
  int refused = 0;
  for (const Case& bad : cases) {
    Spec spec = TinySpec(files.good_csv, 2);
    ft::v1::SubmitJobRequest request;
    bad.mutate(spec, request, files);
    *request.mutable_spec() = spec;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ft::v1::SubmitJobResponse response;
    const grpc::Status status = ftd.stub().SubmitJob(&context, request, &response);
    EXPECT_EQ(status.error_code(), bad.code)
        << bad.name << ": " << status.error_message() << response.job().id();
    if (status.ok()) {
      accepted.emplace_back(&bad, response.job().id());
      continue;
    }
    ++refused;
    for (const std::string& part : bad.message_parts) {
      EXPECT_NE(status.error_message().find(part), std::string::npos)
          << bad.name << ": '" << part << "' not in: " << status.error_message();
    }
  }
  for (const auto& [bad, id] : accepted) {
    const ft::v1::Job job = WaitFor(ftd, id, IsFinished);
    EXPECT_EQ(job.state(), bad->code == StatusCode::OK ? ft::v1::FAILED : ft::v1::SUCCEEDED)
        << bad->name << ": " << job.error();
    for (const std::string& part : bad->message_parts) {
      EXPECT_NE(job.error().find(part), std::string::npos)
          << bad->name << ": '" << part << "' not in the job's error: " << job.error();
    }
  }
  std::printf("%zu malformed inputs: %d refused at SubmitJob, %zu failed as jobs\n", cases.size(),
              refused, accepted.size());
  EXPECT_GE(cases.size(), 50u);

  // The daemon is up, queued nothing it refused, and the good job ended as it would alone.
  EXPECT_EQ(kill(ftd.pid(), 0), 0);
  grpc::ClientContext context;
  ft::v1::ListJobsRequest list_request;
  list_request.set_page_size(1000);
  ft::v1::ListJobsResponse list;
  ASSERT_TRUE(ftd.stub().ListJobs(&context, list_request, &list).ok());
  EXPECT_EQ(static_cast<size_t>(list.jobs_size()), accepted.size() + 1);
  const ft::v1::Job done = WaitFor(ftd, good.job().id(), IsFinished);
  EXPECT_EQ(done.state(), ft::v1::SUCCEEDED) << done.error();
  EXPECT_EQ(done.progress().step(), 40u);
  EXPECT_EQ(done.attempt(), 1u);
}

// Malformed calls of the other RPCs.
TEST(BadInputTest, MalformedCallsAreRefusedWithPreciseCodes) {
  TempDir dir;
  FtdProcess ftd(FtdProcessOptions{dir.Path("home"), 0});
  ftd.Start();
  const auto deadline = [](grpc::ClientContext& c) {
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  };
  struct Call {
    std::string name;
    std::function<grpc::Status()> call;
    StatusCode code;
    std::string part;
  };
  auto& stub = ftd.stub();
  const std::vector<Call> calls = {
      {"GetJob empty id",
       [&] {
         grpc::ClientContext c;
         deadline(c);
         ft::v1::GetJobRequest r;
         ft::v1::Job j;
         return stub.GetJob(&c, r, &j);
       },
       StatusCode::NOT_FOUND, "no job with id ''"},
      {"GetJob path as id",
       [&] {
         grpc::ClientContext c;
         deadline(c);
         ft::v1::GetJobRequest r;
         r.set_job_id("../../etc/passwd");
         ft::v1::Job j;
         return stub.GetJob(&c, r, &j);
       },
       StatusCode::NOT_FOUND, "../../etc/passwd"},
      {"CancelJob unknown",
       [&] {
         grpc::ClientContext c;
         deadline(c);
         ft::v1::CancelJobRequest r;
         r.set_job_id("job-nope");
         ft::v1::Job j;
         return stub.CancelJob(&c, r, &j);
       },
       StatusCode::NOT_FOUND, "job-nope"},
      {"ListJobs page_size 5000",
       [&] {
         grpc::ClientContext c;
         deadline(c);
         ft::v1::ListJobsRequest r;
         r.set_page_size(5000);
         ft::v1::ListJobsResponse l;
         return stub.ListJobs(&c, r, &l);
       },
       StatusCode::INVALID_ARGUMENT, "page_size"},
      {"ListJobs unknown state",
       [&] {
         grpc::ClientContext c;
         deadline(c);
         ft::v1::ListJobsRequest r;
         r.add_states(static_cast<ft::v1::JobState>(99));
         ft::v1::ListJobsResponse l;
         return stub.ListJobs(&c, r, &l);
       },
       StatusCode::INVALID_ARGUMENT, "states"},
      {"ListJobs bad page token",
       [&] {
         grpc::ClientContext c;
         deadline(c);
         ft::v1::ListJobsRequest r;
         r.set_page_token("\x01garbage");
         ft::v1::ListJobsResponse l;
         return stub.ListJobs(&c, r, &l);
       },
       StatusCode::INVALID_ARGUMENT, "page_token"},
      {"WatchJob unknown",
       [&] {
         grpc::ClientContext c;
         deadline(c);
         ft::v1::WatchJobRequest r;
         r.set_job_id("job-nope");
         auto reader = stub.WatchJob(&c, r);
         ft::v1::JobEvent e;
         while (reader->Read(&e)) {
         }
         return reader->Finish();
       },
       StatusCode::NOT_FOUND, "job-nope"},
  };
  // A string field that is not UTF-8: protobuf refuses to parse the request, so gRPC answers
  // before ftd sees it (with its own code and no field name); the daemon is not disturbed.
  {
    grpc::ClientContext c;
    deadline(c);
    ft::v1::SubmitJobRequest r;
    r.mutable_spec()->set_model("scratch:\xff");
    ft::v1::SubmitJobResponse response;
    EXPECT_FALSE(stub.SubmitJob(&c, r, &response).ok());
  }
  for (const Call& call : calls) {
    const grpc::Status status = call.call();
    EXPECT_EQ(status.error_code(), call.code) << call.name << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(call.part), std::string::npos)
        << call.name << ": " << status.error_message();
  }
  EXPECT_EQ(kill(ftd.pid(), 0), 0);
}

}  // namespace
}  // namespace ft::testing
