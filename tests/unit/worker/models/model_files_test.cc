// The files a model folder holds, without LibTorch: the safetensors reader (round trip with our
// writer, every kind of malformed file refused naming the file and tensor, F16/BF16 conversion)
// and config.json as a BloomConfig (Hugging Face's spellings, refusals naming the field).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "common/models/model_folder.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "worker/io/safetensors_reader.h"
#include "worker/io/safetensors_writer.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using io::SafetensorsError;
using io::SafetensorsFile;

using testing::TempDir;

// A safetensors file from a header text and data bytes, for malformed cases.
std::string RawFile(const std::string& header, const std::string& data, uint64_t length) {
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>(length >> (8 * i));
  return file + header + data;
}
std::string RawFile(const std::string& header, const std::string& data) {
  return RawFile(header, data, header.size());
}

// Opens `contents` as a file and returns the error message ("" when it opened).
std::string OpenError(const TempDir& dir, const std::string& contents) {
  const std::string path = dir.Path("bad.safetensors");
  testing::WriteFile(path, contents);
  try {
    SafetensorsFile::Open(path);
  } catch (const SafetensorsError& error) {
    return error.what();
  }
  return "";
}

TEST(SafetensorsReaderTest, ReadsWhatTheWriterWrote) {
  TempDir dir;
  const std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.125f};
  const std::vector<float> b = {42.0f};
  const std::string path = dir.Path("m.safetensors");
  io::WriteSafetensors(path, {{"b.weight", {1}, b.data()}, {"a.weight", {2, 3}, a.data()}},
                       {{"format", "pt"}});
  const auto file = SafetensorsFile::Open(path);
  ASSERT_EQ(file->entries().size(), 2u);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  const io::SafetensorsEntry* entry = file->Find("a.weight");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->dtype, "F32");
  EXPECT_EQ(entry->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(entry->ElementCount(), 6);
  std::vector<float> out(6);
  file->ReadAsFloat32(*entry, out.data());
  EXPECT_EQ(out, a);
  EXPECT_EQ(file->Find("missing"), nullptr);
}

TEST(SafetensorsReaderTest, ConvertsHalfAndBFloat16) {
  TempDir dir;
  // F16: 1, -2, 65504 (largest), 2^-24 (smallest subnormal), 0.5 + 2^-11 (needs the mantissa),
  // -0, infinity. BF16: 1, -2.5, 3 * 2^99.
  const std::vector<uint16_t> half = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x3801, 0x8000, 0x7c00};
  const std::vector<uint16_t> bf16 = {0x3f80, 0xc020, 0x71c0};
  std::string data(reinterpret_cast<const char*>(half.data()), 2 * half.size());
  data.append(reinterpret_cast<const char*>(bf16.data()), 2 * bf16.size());
  const std::string header = R"({"h":{"dtype":"F16","shape":[7],"data_offsets":[0,14]},)"
                             R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[14,20]}})";
  const std::string path = dir.Path("half.safetensors");
  testing::WriteFile(path, RawFile(header, data));
  const auto file = SafetensorsFile::Open(path);
  std::vector<float> h(7), b(3);
  file->ReadAsFloat32(*file->Find("h"), h.data());
  file->ReadAsFloat32(*file->Find("b"), b.data());
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_EQ(h[2], 65504.0f);
  EXPECT_EQ(h[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(h[4], 0.5f + std::ldexp(1.0f, -11));
  EXPECT_TRUE(h[5] == 0.0f && std::signbit(h[5]));
  EXPECT_EQ(h[6], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(io::HalfToFloat(0x7e00)));
  EXPECT_EQ(b, (std::vector<float>{1.0f, -2.5f, std::ldexp(3.0f, 99)}));
  // Finite halves: the sign bit only negates, and a larger bit pattern is a larger value (the
  // exact values are compared with LibTorch's conversion in model_loader_test).
  for (uint32_t bits = 0; bits < 0x7c00; ++bits) {
    const float value = io::HalfToFloat(static_cast<uint16_t>(bits));
    ASSERT_EQ(-value, io::HalfToFloat(static_cast<uint16_t>(bits | 0x8000))) << bits;
    if (bits > 0) {
      ASSERT_GT(value, io::HalfToFloat(static_cast<uint16_t>(bits - 1))) << bits;
    }
  }
}

TEST(SafetensorsReaderTest, RefusesOtherDtypesAsFloat) {
  TempDir dir;
  const std::string path = dir.Path("i64.safetensors");
  testing::WriteFile(path, RawFile(R"({"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})",
                                   std::string(8, '\0')));
  const auto file = SafetensorsFile::Open(path);
  float out = 0;
  try {
    file->ReadAsFloat32(*file->Find("ids"), &out);
    FAIL() << "I64 read as float";
  } catch (const SafetensorsError& error) {
    EXPECT_NE(std::string(error.what()).find("'ids'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("I64"), std::string::npos) << error.what();
  }
}

TEST(SafetensorsReaderTest, RefusesMalformedFilesNamingFileAndTensor) {
  TempDir dir;
  const std::string good_entry = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string eight(8, '\0');
  struct Case {
    std::string name;
    std::string contents;
    std::string expected;  // part of the message
  };
  const std::vector<Case> cases = {
      {"empty file", "", "too short"},
      {"seven bytes", std::string(7, '\0'), "too short"},
      {"header length past the end", RawFile("{" + good_entry + "}", eight, 1000), "runs past"},
      {"header length near 2^64", RawFile("{}", "", ~uint64_t{0}), "runs past"},
      {"not JSON", RawFile("{\"w\": [", eight), "not valid JSON"},
      {"not an object", RawFile("[1, 2]", ""), "not a JSON object"},
      {"entry not an object", RawFile(R"({"w": 3})", ""), "tensor 'w'"},
      {"no dtype", RawFile(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", eight), "tensor 'w'"},
      {"unknown dtype", RawFile(R"({"w":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})", eight),
       "unknown dtype 'F12'"},
      {"negative dim", RawFile(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight),
       "tensor 'w'"},
      {"fractional offset",
       RawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}})", eight), "tensor 'w'"},
      {"one offset", RawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", eight),
       "tensor 'w'"},
      {"end before begin",
       RawFile(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", eight), "tensor 'w'"},
      {"size does not match shape",
       RawFile(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight), "needs 12"},
      {"F16 size does not match shape",
       RawFile(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", eight), "needs 4"},
      {"shape overflows",
       RawFile(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
               eight),
       "too large"},
      {"truncated data", RawFile("{" + good_entry + "}", std::string(5, '\0')), "truncated"},
      {"offsets out of range",
       RawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", eight), "tensor 'w'"},
      {"gap", RawFile(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight),
       "a gap before it"},
      {"overlap",
       RawFile(R"({"v":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
               eight),
       "overlaps"},
      {"trailing bytes", RawFile("{" + good_entry + "}", eight + "xxxx"), "trailing bytes"},
      {"name twice", RawFile("{" + good_entry + "," + good_entry + "}", eight), "appears twice"},
      {"bad metadata", RawFile(R"({"__metadata__":{"format":3}})", ""), "__metadata__"},
  };
  for (const Case& c : cases) {
    const std::string message = OpenError(dir, c.contents);
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.name << ": '" << message << "'";
    EXPECT_NE(message.find("bad.safetensors"), std::string::npos) << c.name << ": " << message;
  }
  // The same shapes well formed do open (so the cases above fail for the reason they name).
  EXPECT_EQ(OpenError(dir, RawFile("{" + good_entry + "}", eight)), "");
  EXPECT_EQ(OpenError(dir, RawFile(R"({"__metadata__":{"format":"pt"}})", "")), "");
  EXPECT_EQ(
      OpenError(dir, RawFile(R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})", "")), "");
  try {
    SafetensorsFile::Open(dir.Path("does-not-exist.safetensors"));
    FAIL() << "opened a missing file";
  } catch (const SafetensorsError& error) {
    EXPECT_NE(std::string(error.what()).find("does-not-exist.safetensors"), std::string::npos);
  }
}

// --- config.json ---

const char* kBloomConfig = R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": 64,
  "n_layer": 3, "n_head": 4, "layer_norm_epsilon": 1e-6, "initializer_range": 0.05,
  "pad_token_id": 3, "bos_token_id": 1, "eos_token_id": 2})";

TEST(BloomConfigJsonTest, ReadsTheShapingFields) {
  const models::BloomConfig config = models::ParseBloomConfigJson(kBloomConfig, "config.json");
  EXPECT_EQ(config.vocab_size, 300);
  EXPECT_EQ(config.hidden_size, 64);
  EXPECT_EQ(config.n_layer, 3);
  EXPECT_EQ(config.n_head, 4);
  EXPECT_DOUBLE_EQ(config.layer_norm_epsilon, 1e-6);
  EXPECT_DOUBLE_EQ(config.initializer_range, 0.05);
}

TEST(BloomConfigJsonTest, AcceptsHuggingFacesOtherSpellings) {
  // bigscience/bloom-560m's own config.json says n_embed and num_attention_heads.
  const models::BloomConfig config = models::ParseBloomConfigJson(
      R"({"model_type": "bloom", "vocab_size": 250880, "n_embed": 1024, "n_layer": 24,
          "num_attention_heads": 16, "hidden_size": 1024})",
      "config.json");
  EXPECT_EQ(config.hidden_size, 1024);
  EXPECT_EQ(config.n_head, 16);
  EXPECT_EQ(config.n_layer, 24);
  EXPECT_DOUBLE_EQ(config.layer_norm_epsilon, 1e-5);  // Hugging Face's default
  const models::BloomConfig other = models::ParseBloomConfigJson(
      R"({"model_type": "bloom", "vocab_size": 260, "hidden_size": 8, "num_hidden_layers": 2,
          "n_head": 2})",
      "config.json");
  EXPECT_EQ(other.n_layer, 2);
}

TEST(BloomConfigJsonTest, RefusesNamingFileAndField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"vocab_size": 300, "hidden_size": 64, "n_layer": 1, "n_head": 4})", "model_type"},
      {R"({"model_type": "gpt2", "vocab_size": 300, "hidden_size": 64, "n_layer": 1,
           "n_head": 4})",
       "'gpt2'"},
      {R"({"model_type": "bloom", "vocab_size": 300, "n_layer": 1, "n_head": 4})", "n_embed"},
      {R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": 64, "n_layer": 1,
           "n_head": 5})",
       "not divisible"},
      {R"({"model_type": "bloom", "vocab_size": 100, "hidden_size": 64, "n_layer": 1,
           "n_head": 4})",
       "vocab_size 100"},
      {R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": "64", "n_layer": 1,
           "n_head": 4})",
       "hidden_size: expected an integer"},
      {R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": 64, "n_layer": 0,
           "n_head": 4})",
       "n_layer: must be"},
      {R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": 64, "n_embed": 32,
           "n_layer": 1, "n_head": 4})",
       "disagree"},
      {R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": 64, "n_layer": 1,
           "n_head": 4, "layer_norm_epsilon": -1})",
       "layer_norm_epsilon"},
      {R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": 64, "n_layer": 1,
           "n_head": 4, "apply_residual_connection_post_layernorm": true})",
       "apply_residual_connection_post_layernorm"},
  };
  for (const auto& [text, expected] : cases) {
    try {
      models::ParseBloomConfigJson(text, "/m/config.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const models::ModelFolderError& error) {
      const std::string message = error.what();
      EXPECT_FALSE(error.not_found());
      EXPECT_NE(message.find(expected), std::string::npos) << message;
      EXPECT_NE(message.find("/m/config.json"), std::string::npos) << message;
    }
  }
}

TEST(ModelFolderTest, MissingPartsAreNotFound) {
  TempDir dir;
  const auto error_of = [](const std::string& folder) -> std::pair<bool, std::string> {
    try {
      models::ReadModelFolderConfig(folder);
    } catch (const models::ModelFolderError& error) {
      return {error.not_found(), error.what()};
    }
    return {false, ""};
  };
  const std::string folder = dir.Path("model");
  auto [not_found, message] = error_of(folder);
  EXPECT_TRUE(not_found);
  EXPECT_NE(message.find("no such folder"), std::string::npos) << message;
  EXPECT_NE(message.find("scratch:bloom-tiny"), std::string::npos) << message;

  fs::create_directories(folder);
  std::tie(not_found, message) = error_of(folder);
  EXPECT_TRUE(not_found);
  EXPECT_NE(message.find("config.json: no such file"), std::string::npos) << message;

  testing::WriteFile(folder + "/config.json", kBloomConfig);
  std::tie(not_found, message) = error_of(folder);
  EXPECT_TRUE(not_found);
  EXPECT_NE(message.find("no model weights (model.safetensors, "), std::string::npos) << message;

  testing::WriteFile(folder + "/model.safetensors", "");
  EXPECT_EQ(models::ReadModelFolderConfig(folder).bloom.n_layer, 3);

  testing::WriteFile(folder + "/config.json", "{}");
  std::tie(not_found, message) = error_of(folder);
  EXPECT_FALSE(not_found);
  EXPECT_NE(message.find("model_type"), std::string::npos) << message;

  std::tie(not_found, message) = error_of(folder + "/config.json");
  EXPECT_FALSE(not_found);
  EXPECT_NE(message.find("not a folder"), std::string::npos) << message;

  EXPECT_TRUE(models::IsScratchModelName("scratch:bloom-tiny"));
  EXPECT_FALSE(models::IsScratchModelName("/models/bloom-560m"));
}

}  // namespace
}  // namespace ft
