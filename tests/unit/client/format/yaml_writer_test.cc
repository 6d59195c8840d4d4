#include "client/lib/format/yaml_writer.h"

#include <filesystem>

#include "client/lib/format/job_format.h"
#include "ft/v1/job.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/prerequisite.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace ft::client {
namespace {

using ::testing::HasSubstr;

TEST(YamlWriterTest, BlocksScalarsAndEmptyContainers) {
  absl::StatusOr<std::string> yaml = JsonToYaml(
      R"({"id": "job-1", "n": 3, "x": 0.5, "ok": true, "none": null, "empty": {}, "list": [],
          "spec": {"model": "m", "dataset": {"train": "/a b.csv"}},
          "evals": [{"split": "validation", "acc": 0.9}, {"split": "test"}],
          "tags": ["a", "b"], "nested": [[1, 2], []]})");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(*yaml,
            "id: \"job-1\"\n"
            "\"n\": 3\n"  // a YAML 1.1 boolean when bare
            "x: 0.5\n"
            "ok: true\n"
            "none: null\n"
            "empty: {}\n"
            "list: []\n"
            "spec:\n"
            "  model: \"m\"\n"
            "  dataset:\n"
            "    train: \"/a b.csv\"\n"
            "evals:\n"
            "  - split: \"validation\"\n"
            "    acc: 0.9\n"
            "  - split: \"test\"\n"
            "tags:\n"
            "  - \"a\"\n"
            "  - \"b\"\n"
            "nested:\n"
            "  - - 1\n"
            "    - 2\n"
            "  - []\n");
}

TEST(YamlWriterTest, AmbiguousKeysAndStringsAreQuoted) {
  absl::StatusOr<std::string> yaml = JsonToYaml(R"({"no": "yes", "a-b": "1e3", "": ""})");
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ(*yaml, "\"no\": \"yes\"\n\"a-b\": \"1e3\"\n\"\": \"\"\n");
  EXPECT_EQ(JsonToYaml("{]").status().code(), absl::StatusCode::kInvalidArgument);
}

// The YAML of a real job reads back (PyYAML) as exactly its JSON.
TEST(YamlWriterTest, PyYamlReadsBackTheSameDataAsTheJson) {
  ft::v1::Job job;
  job.set_id("job-7");
  job.set_state(ft::v1::FAILED);
  job.set_error("line one\nline \"two\": no\ttab \u00e9");
  job.mutable_spec()->set_model("scratch:bloom-tiny");
  job.mutable_spec()->set_display_name("on");
  job.mutable_spec()->mutable_dataset()->set_train("/data/a: b.csv");
  job.mutable_spec()->set_learning_rate(5e-4);
  auto* eval = job.add_evaluations();
  eval->set_split("validation");
  eval->set_accuracy(0.8125);
  job.add_evaluations()->set_split("test");
  absl::StatusOr<std::string> json = JobToJson(job);
  absl::StatusOr<std::string> yaml = MessageToYaml(job);
  ASSERT_TRUE(json.ok() && yaml.ok());

  ft::testing::TempDir dir;
  const std::string json_file = dir.Write("job.json", *json);
  const std::string yaml_file = dir.Write("job.yaml", *yaml);
  if (!std::filesystem::exists("/usr/bin/python3"))
    FT_SKIP_PREREQUISITE_MISSING() << "no /usr/bin/python3";
  const ft::testing::CommandResult check =
      ft::testing::RunCommand({"/usr/bin/python3", "-c",
                               "import json, sys, yaml\n"
                               "a = json.load(open(sys.argv[1]))\n"
                               "b = yaml.safe_load(open(sys.argv[2]))\n"
                               "print('same' if a == b else 'differ: %r != %r' % (a, b))\n",
                               json_file, yaml_file});
  if (check.output.find("No module named 'yaml'") != std::string::npos) {
    FT_SKIP_PREREQUISITE_MISSING() << "no PyYAML (python3-yaml)";
  }
  EXPECT_EQ(check.output, "same\n") << *yaml;
}

}  // namespace
}  // namespace ft::client
