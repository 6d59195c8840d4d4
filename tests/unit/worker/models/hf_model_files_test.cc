// config.json of every supported family (dispatch on model_type/architectures, the shaping
// fields, refusals naming the file and the field) and sharded checkpoints
// (model.safetensors.index.json: every shard opened and every listed tensor found, clear errors
// otherwise), without LibTorch.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "common/models/hf_config.h"
#include "common/models/model_catalog.h"
#include "common/models/model_folder.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "worker/io/checkpoint_tensors.h"
#include "worker/io/safetensors_writer.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using models::ModelConfig;
using models::ModelFamily;
using testing::TempDir;

fs::path FixtureModels() {
  const char* source = std::getenv("FT_SOURCE_DIR");
  return fs::path(source != nullptr ? source : FT_SOURCE_DIR_FALLBACK) / "tests/fixtures/hf/models";
}

ModelConfig Fixture(const std::string& family) {
  return models::ReadModelFolderConfig((FixtureModels() / family).string());
}

std::string ParseError(const std::string& text) {
  try {
    models::ParseModelConfigJson(text, "/m/config.json");
  } catch (const models::ModelFolderError& error) {
    return error.what();
  }
  return "";
}

TEST(HfConfigTest, ReadsEveryFixtureFamily) {
  const ModelConfig llama = Fixture("llama");
  EXPECT_EQ(llama.family, ModelFamily::kLlama);
  EXPECT_EQ(llama.model_type, "llama");
  EXPECT_EQ(llama.transformer.num_heads, 4);
  EXPECT_EQ(llama.transformer.num_kv_heads, 2);
  EXPECT_EQ(llama.transformer.head_dim, 8);
  EXPECT_DOUBLE_EQ(llama.transformer.rope_theta, 10000.0);  // from rope_parameters
  EXPECT_DOUBLE_EQ(llama.transformer.norm_eps, 1e-6);
  EXPECT_FALSE(llama.transformer.qkv_bias);
  EXPECT_NE(llama.source.find("llama"), std::string::npos);

  const ModelConfig qwen2 = Fixture("qwen2");
  EXPECT_EQ(qwen2.family, ModelFamily::kLlama);
  EXPECT_EQ(qwen2.model_type, "qwen2");
  EXPECT_TRUE(qwen2.transformer.qkv_bias);
  EXPECT_FALSE(qwen2.transformer.output_bias);

  EXPECT_EQ(Fixture("mistral").transformer.sliding_window, 0);  // null: full attention

  const ModelConfig gpt2 = Fixture("gpt2");
  EXPECT_EQ(gpt2.family, ModelFamily::kGpt2);
  EXPECT_EQ(gpt2.transformer.hidden_size, 32);
  EXPECT_EQ(gpt2.transformer.intermediate_size, 128);  // n_inner null: 4 x n_embd
  EXPECT_EQ(gpt2.transformer.max_positions, 64);
  EXPECT_EQ(gpt2.transformer.activation, "gelu_new");

  const ModelConfig bert = Fixture("bert");
  EXPECT_EQ(bert.family, ModelFamily::kBert);
  EXPECT_EQ(bert.transformer.type_vocab_size, 2);
  EXPECT_DOUBLE_EQ(bert.transformer.norm_eps, 1e-12);

  const ModelConfig roberta = Fixture("roberta");
  EXPECT_EQ(roberta.family, ModelFamily::kRoberta);
  EXPECT_EQ(roberta.transformer.pad_token_id, 1);
  EXPECT_EQ(roberta.transformer.max_positions, 70);

  const ModelConfig distilbert = Fixture("distilbert");
  EXPECT_EQ(distilbert.family, ModelFamily::kDistilBert);
  EXPECT_EQ(distilbert.transformer.hidden_size, 32);
  EXPECT_EQ(distilbert.transformer.intermediate_size, 64);

  EXPECT_EQ(Fixture("bloom").bloom.n_layer, 2);
}

const char* kLlama = R"({"model_type": "llama", "vocab_size": 300, "hidden_size": 32,
  "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64)";

// The Llama shapes of the catalog have the parameter counts of the models they are named after
// (as LlamaForCausalLM: untied head; Code Llama's vocabulary of 32,016 is rounded to 32,000).
TEST(HfConfigTest, ScratchLlamaShapesHaveTheirModelsParameterCounts) {
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"scratch:llama-1b", 1'100'048'384},
      {"scratch:llama-7b", 6'738'415'616},
      {"scratch:llama-13b", 13'015'864'320},
      {"scratch:llama-34b", 33'743'970'304}};
  for (const auto& [name, count] : expected) {
    const std::optional<models::ScratchModel> scratch = models::FindScratchModel(name);
    ASSERT_TRUE(scratch.has_value()) << name;
    const models::TransformerConfig c =
        models::ParseModelConfigJson(scratch->hf_config_json, name).transformer;
    const int64_t head_dim = c.hidden_size / c.num_heads;
    const int64_t attention = 2 * c.hidden_size * c.num_heads * head_dim +
                              2 * c.hidden_size * c.num_kv_heads * head_dim;
    const int64_t layer = attention + 3 * c.hidden_size * c.intermediate_size + 2 * c.hidden_size;
    const int64_t total =
        2 * c.vocab_size * c.hidden_size + c.num_layers * layer + c.hidden_size;
    EXPECT_EQ(total, count) << name;
  }
}

TEST(HfConfigTest, RopeThetaInEitherSpelling) {
  EXPECT_DOUBLE_EQ(
      models::ParseModelConfigJson(std::string(kLlama) + R"(, "rope_theta": 500000.0})", "c")
          .transformer.rope_theta,
      500000.0);
  EXPECT_DOUBLE_EQ(models::ParseModelConfigJson(
                       std::string(kLlama) +
                           R"(, "rope_parameters": {"rope_type": "default", "rope_theta": 1e6}})",
                       "c")
                       .transformer.rope_theta,
                   1e6);
  EXPECT_EQ(models::ParseModelConfigJson(std::string(kLlama) + "}", "c").transformer.num_kv_heads,
            4);
}

TEST(HfConfigTest, DispatchesOnArchitecturesWithoutModelType) {
  const ModelConfig config = models::ParseModelConfigJson(
      R"({"architectures": ["MistralForCausalLM"], "vocab_size": 300, "hidden_size": 32,
          "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 64,
          "sliding_window": 4096})",
      "c");
  EXPECT_EQ(config.model_type, "mistral");
  EXPECT_EQ(config.transformer.sliding_window, 4096);
}

TEST(HfConfigTest, RefusesNamingFileAndField) {
  const std::string llama(kLlama);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "not valid JSON"},
      {R"({"model_type": "t5"})", "'t5' is not supported; supported: bloom, gpt2, bert"},
      {R"({"architectures": ["T5ForConditionalGeneration"]})", "T5ForConditionalGeneration"},
      {R"({"vocab_size": 3})", "model_type: missing"},
      {llama + R"(, "rope_parameters": {"rope_type": "yarn", "factor": 4.0}})",
       "rope_parameters.rope_type: \"yarn\" is not implemented"},
      {llama + R"(, "rope_scaling": {"type": "linear", "factor": 2.0}})",
       "rope_scaling.type: \"linear\""},
      {llama + R"(, "rope_parameters": "default"})", "rope_parameters: expected an object"},
      {llama + R"(, "num_key_value_heads": "2"})", "num_key_value_heads: expected an integer"},
      {llama + R"(, "num_key_value_heads": 3})", "not a multiple of num_key_value_heads 3"},
      {llama + R"(, "head_dim": 7})", "head_dim: must be an even number"},
      {llama + R"(, "hidden_act": "gelu_10"})", "hidden_act: 'gelu_10' is not supported"},
      {llama + R"(, "rms_norm_eps": "small"})", "rms_norm_eps: expected a number"},
      {R"({"model_type": "llama", "vocab_size": 300, "hidden_size": 32,
           "num_hidden_layers": 2, "num_attention_heads": 4})",
       "intermediate_size: missing"},
      {R"({"model_type": "qwen2", "vocab_size": 300, "hidden_size": 32, "num_hidden_layers": 2,
           "num_attention_heads": 4, "intermediate_size": 64, "use_sliding_window": true})",
       "use_sliding_window"},
      {R"({"model_type": "bert", "vocab_size": 300, "hidden_size": 32, "num_hidden_layers": 2,
           "num_attention_heads": 4, "intermediate_size": 64,
           "position_embedding_type": "relative_key"})",
       "position_embedding_type: 'relative_key' is not implemented"},
      {R"({"model_type": "gpt2", "vocab_size": 300, "n_embd": 30, "n_layer": 2, "n_head": 4})",
       "not divisible by n_head 4"},
      {R"({"model_type": "gpt2", "vocab_size": 100, "n_embd": 32, "n_layer": 2, "n_head": 4})",
       "vocab_size 100"},
      {R"({"model_type": "distilbert", "vocab_size": 300, "dim": 32, "n_layers": 2,
           "n_heads": 4})",
       "hidden_dim: missing"},
      {R"({"model_type": "gpt2", "vocab_size": 300, "n_embd": 32, "n_layer": 2, "n_head": 4,
           "resid_pdrop": 1.0})",
       "resid_pdrop: a dropout rate must be in [0, 1), got 1.0"},
      {R"({"model_type": "bert", "vocab_size": 300, "hidden_size": 32, "num_hidden_layers": 2,
           "num_attention_heads": 4, "intermediate_size": 64, "hidden_dropout_prob": "0.1"})",
       "hidden_dropout_prob: expected a number"},
      {llama + R"(, "attention_dropout": -0.1})", "attention_dropout: a dropout rate must be in"},
      {R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": 32, "n_layer": 2,
           "n_head": 4, "hidden_dropout": 0.1})",
       "hidden_dropout: dropout is not implemented for BLOOM"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string message = ParseError(text);
    EXPECT_NE(message.find(expected), std::string::npos) << text << "\n -> " << message;
    EXPECT_NE(message.find("/m/config.json"), std::string::npos) << message;
  }
}

// Each family's rates land where transformers applies them, with its config classes' defaults
// where config.json says nothing.
TEST(HfConfigTest, DropoutRatesOfEachFamily) {
  const models::TransformerConfig gpt2 = models::ParseModelConfigJson(
      R"({"model_type": "gpt2", "vocab_size": 300, "n_embd": 32, "n_layer": 2, "n_head": 4,
          "embd_pdrop": 0.1, "resid_pdrop": 0.2, "attn_pdrop": 0.3})", "c").transformer;
  EXPECT_DOUBLE_EQ(gpt2.embedding_dropout, 0.1);
  EXPECT_DOUBLE_EQ(gpt2.attention_output_dropout, 0.2);
  EXPECT_DOUBLE_EQ(gpt2.mlp_output_dropout, 0.2);
  EXPECT_DOUBLE_EQ(gpt2.attention_dropout, 0.3);
  EXPECT_DOUBLE_EQ(gpt2.classifier_dropout, 0);

  const std::string bert = R"({"model_type": "bert", "vocab_size": 300, "hidden_size": 32,
      "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
      "hidden_dropout_prob": 0.2, "attention_probs_dropout_prob": 0.3)";
  const models::TransformerConfig bert_null =
      models::ParseModelConfigJson(bert + R"(, "classifier_dropout": null})", "c").transformer;
  EXPECT_DOUBLE_EQ(bert_null.embedding_dropout, 0.2);
  EXPECT_DOUBLE_EQ(bert_null.attention_output_dropout, 0.2);
  EXPECT_DOUBLE_EQ(bert_null.mlp_output_dropout, 0.2);
  EXPECT_DOUBLE_EQ(bert_null.attention_dropout, 0.3);
  EXPECT_DOUBLE_EQ(bert_null.classifier_dropout, 0.2);  // null: hidden_dropout_prob
  EXPECT_DOUBLE_EQ(
      models::ParseModelConfigJson(bert + R"(, "classifier_dropout": 0.4})", "c")
          .transformer.classifier_dropout,
      0.4);

  const models::TransformerConfig distilbert = models::ParseModelConfigJson(
      R"({"model_type": "distilbert", "vocab_size": 300, "dim": 32, "n_layers": 2, "n_heads": 4,
          "hidden_dim": 64})", "c").transformer;
  EXPECT_DOUBLE_EQ(distilbert.embedding_dropout, 0.1);
  EXPECT_DOUBLE_EQ(distilbert.attention_output_dropout, 0);  // DistilBERT has none there
  EXPECT_DOUBLE_EQ(distilbert.mlp_output_dropout, 0.1);
  EXPECT_DOUBLE_EQ(distilbert.attention_dropout, 0.1);
  EXPECT_DOUBLE_EQ(distilbert.classifier_dropout, 0.2);

  const models::TransformerConfig llama =
      models::ParseModelConfigJson(std::string(kLlama) + "}", "c").transformer;
  EXPECT_FALSE(llama.HasDropout());
  const std::string llama_dropout = std::string(kLlama) + R"(, "attention_dropout": 0.1})";
  EXPECT_DOUBLE_EQ(models::ParseModelConfigJson(llama_dropout, "c").transformer.attention_dropout,
                   0.1);
  EXPECT_TRUE(Fixture("bert").transformer.HasDropout());  // 0.1 each, as BERT ships
}

TEST(HfConfigTest, FolderWithOnlyAnIndexOrATorchScriptFile) {
  TempDir dir;
  const std::string folder = dir.Path("sharded");
  fs::create_directories(folder);
  testing::WriteFile(folder + "/config.json", std::string(kLlama) + "}");
  try {
    models::ReadModelFolderConfig(folder);
    ADD_FAILURE() << "a folder without weights was accepted";
  } catch (const models::ModelFolderError& error) {
    EXPECT_TRUE(error.not_found());
    EXPECT_NE(std::string(error.what()).find("model.safetensors.index.json"), std::string::npos);
  }
  testing::WriteFile(folder + "/model.safetensors.index.json", "{}");
  EXPECT_EQ(models::ReadModelFolderConfig(folder).family, ModelFamily::kLlama);

  const std::string script = dir.Path("classifier.pt");
  testing::WriteFile(script, "not checked here");
  const ModelConfig config = models::ReadModelFolderConfig(script);
  EXPECT_EQ(config.family, ModelFamily::kTorchScript);
  EXPECT_EQ(config.source, script);
}

// --- sharded checkpoints ---

class ShardedCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = dir_.Path("ckpt");
    fs::create_directories(folder_);
    io::WriteSafetensors(folder_ + "/model-00001-of-00002.safetensors",
                         {{"a.weight", {2}, a_.data()}, {"b.weight", {1}, b_.data()}});
    io::WriteSafetensors(folder_ + "/model-00002-of-00002.safetensors",
                         {{"c.weight", {3}, c_.data()}});
  }
  void WriteIndex(const std::string& text) {
    testing::WriteFile(folder_ + "/model.safetensors.index.json", text);
  }
  std::string OpenError() {
    try {
      io::CheckpointTensors::Open(folder_);
    } catch (const io::SafetensorsError& error) {
      return error.what();
    }
    return "";
  }

  TempDir dir_;
  std::string folder_;
  std::vector<float> a_ = {1, 2};
  std::vector<float> b_ = {3};
  std::vector<float> c_ = {4, 5, 6};
};

TEST_F(ShardedCheckpointTest, FindsEveryTensorInItsShard) {
  WriteIndex(R"({"metadata": {"total_size": 24}, "weight_map": {
      "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00001-of-00002.safetensors",
      "c.weight": "model-00002-of-00002.safetensors"}})");
  const auto checkpoint = io::CheckpointTensors::Open(folder_);
  EXPECT_EQ(checkpoint->Names(), (std::vector<std::string>{"a.weight", "b.weight", "c.weight"}));
  const io::CheckpointTensor* c = checkpoint->Find("c.weight");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->path().find("model-00002-of-00002"), std::string::npos);
  std::vector<float> out(3);
  c->ReadAsFloat32(out.data());
  EXPECT_EQ(out, c_);
  EXPECT_EQ(checkpoint->Find("d.weight"), nullptr);
  EXPECT_NE(checkpoint->description().find("(2 shards)"), std::string::npos);
}

TEST_F(ShardedCheckpointTest, RefusesBrokenIndexesNamingTheFile) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"metadata": {}})", "weight_map: missing"},
      {R"({"weight_map": {}})", "weight_map: lists no tensor"},
      {R"({"weight_map": {"a.weight": 3}})", "weight_map['a.weight']: expected a file name"},
      {R"({"weight_map": {"a.weight": "../elsewhere.safetensors"}})", "expected a file name"},
      {R"({"weight_map": {"a.weight": "model-00003-of-00003.safetensors"}})",
       "names model-00003-of-00003.safetensors, which does not exist"},
      {R"({"weight_map": {"c.weight": "model-00001-of-00002.safetensors"}})",
       "which has no tensor 'c.weight'"},
  };
  for (const auto& [text, expected] : cases) {
    WriteIndex(text);
    const std::string message = OpenError();
    EXPECT_NE(message.find(expected), std::string::npos) << text << "\n -> " << message;
    EXPECT_NE(message.find("model.safetensors.index.json"), std::string::npos) << message;
  }
  // A damaged shard: the shard's own path and the reader's reason.
  WriteIndex(R"({"weight_map": {"c.weight": "model-00002-of-00002.safetensors"}})");
  const std::string shard = folder_ + "/model-00002-of-00002.safetensors";
  fs::resize_file(shard, fs::file_size(shard) - 4);
  const std::string message = OpenError();
  EXPECT_NE(message.find(shard), std::string::npos) << message;
}

}  // namespace
}  // namespace ft
