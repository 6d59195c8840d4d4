// pytorch_model.bin without PyTorch (common/torchsave): every tensor of a state dict torch.save
// wrote (float32, bfloat16, float16, float64; transposed, offset and narrowed views; one storage
// under two names; also in ZIP64 records) reads bit-identical to PyTorch's own .float();
// checkpoint folders of three families hold the same tensors as their safetensors twins; and
// what must be refused is, with the file named: the legacy format, a pickle that would run
// os.system (and it does not run), compressed or big-endian archives, truncated and corrupted
// files. Fixtures come from
// /usr/bin/python3's torch at test time; without it the tests skip. No LibTorch here.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/models/model_folder.h"
#include "common/torchsave/torch_save_file.h"
#include "tests/support/prerequisite.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/models/torch_bin_fixtures.h"
#include "worker/io/checkpoint_tensors.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using torchsave::TorchSaveError;
using torchsave::TorchSaveFile;

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<float> Floats(const std::string& bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

// Bit patterns, so that two NaNs with one payload compare equal and -0 differs from +0.
std::vector<uint32_t> Bits(const std::vector<float>& values) {
  std::vector<uint32_t> bits(values.size());
  std::memcpy(bits.data(), values.data(), values.size() * sizeof(float));
  return bits;
}

// The fixtures, made once for the whole binary (PyTorch's import takes a second).
struct Fixtures {
  Fixtures() : problem(testing::MakeTorchBinFixtures(dir.path())) {}
  testing::TempDir dir;
  std::string problem;  // why they could not be made, "" when they were
};

class TorchBinTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static const Fixtures fixtures;  // removed at exit
    dir_ = &fixtures.dir;
    problem_ = &fixtures.problem;
  }
  void SetUp() override {
    if (!problem_->empty()) FT_SKIP_PREREQUISITE_MISSING() << *problem_;
  }
  static fs::path Path(const std::string& name) { return dir_->path() / name; }
  static std::string Bin(const std::string& folder) {
    return (Path(folder) / "pytorch_model.bin").string();
  }
  // The message TorchSaveFile::Open throws for `path` ("" when it opens).
  static std::string OpenError(const std::string& path) {
    try {
      TorchSaveFile::Open(path);
    } catch (const TorchSaveError& error) {
      return error.what();
    }
    return "";
  }

  static const testing::TempDir* dir_;
  static const std::string* problem_;
};

const testing::TempDir* TorchBinTest::dir_ = nullptr;
const std::string* TorchBinTest::problem_ = nullptr;

// mixed/ as torch.save wrote it, and zip64/ with the same entries in ZIP64 records.
class TorchBinArchiveTest : public TorchBinTest,
                            public ::testing::WithParamInterface<std::string> {};

TEST_P(TorchBinArchiveTest, EveryTensorReadsAsPyTorchConvertsIt) {
  const auto file = TorchSaveFile::Open(Bin(GetParam()));
  const nlohmann::json shapes = nlohmann::json::parse(ReadBytes(Path("mixed") / "expected.json"));
  ASSERT_EQ(file->tensors().size(), shapes.size());
  int compared = 0;
  for (const auto& [name, shape] : shapes.items()) {
    const torchsave::TorchSaveTensor* tensor = file->Find(name);
    ASSERT_NE(tensor, nullptr) << name;
    EXPECT_EQ(tensor->view.shape, shape.get<std::vector<int64_t>>()) << name;
    const fs::path expected = Path("mixed") / "expected" / (name + ".f32");
    if (!fs::exists(expected)) continue;  // an integer tensor
    const std::vector<float> want = Floats(ReadBytes(expected));
    std::vector<float> got(want.size() + 1, -1.0f);  // one more: nothing is written past the end
    file->ReadAsFloat32(*tensor, got.data());
    EXPECT_EQ(got.back(), -1.0f) << name;
    got.pop_back();
    EXPECT_EQ(Bits(got), Bits(want)) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 13);
  EXPECT_EQ(file->Find("bf16")->view.dtype, "BF16");
  EXPECT_EQ(file->Find("f16")->view.dtype, "F16");
  EXPECT_EQ(file->Find("f64")->view.dtype, "F64");
  EXPECT_EQ(file->Find("transposed")->view.strides, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(file->Find("row")->view.storage_offset, 4);
  EXPECT_EQ(file->Find("shared.a")->storage.data(), file->Find("shared.b")->storage.data());
  std::vector<float> out(5);
  try {
    file->ReadAsFloat32(*file->Find("position_ids"), out.data());
    ADD_FAILURE() << "read int64 as float32";
  } catch (const TorchSaveError& error) {
    EXPECT_NE(std::string(error.what()).find("'position_ids': dtype I64"), std::string::npos)
        << error.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Archives, TorchBinArchiveTest, ::testing::Values("mixed", "zip64"));

// The same weights through a checkpoint folder of .bin files and of safetensors: the same names,
// shapes and bits (gpt2's matrices are stored column-major, llama's in two shards).
TEST_F(TorchBinTest, FamilyFoldersHoldTheirSafetensorsTwinsTensors) {
  for (const std::string family : {"bert", "gpt2", "llama"}) {
    const auto bin = io::CheckpointTensors::Open(Path(family + "_bin").string());
    const auto safetensors =
        io::CheckpointTensors::Open((testing::HfFixtureModels() / family).string());
    ASSERT_EQ(bin->Names(), safetensors->Names()) << family;
    for (const std::string& name : safetensors->Names()) {
      const io::CheckpointTensor* theirs = safetensors->Find(name);
      const io::CheckpointTensor* ours = bin->Find(name);
      ASSERT_EQ(ours->shape(), theirs->shape()) << name;
      int64_t count = 1;
      for (int64_t extent : theirs->shape()) count *= extent;
      std::vector<float> a(count), b(count);
      theirs->ReadAsFloat32(a.data());
      ours->ReadAsFloat32(b.data());
      ASSERT_EQ(Bits(a), Bits(b)) << family << " " << name;
    }
  }
  const auto llama = io::CheckpointTensors::Open(Path("llama_bin").string());
  EXPECT_NE(llama->description().find("pytorch_model.bin.index.json (2 shards)"),
            std::string::npos)
      << llama->description();
}

TEST_F(TorchBinTest, SafetensorsArePreferredWhenBothExist) {
  const fs::path both = Path("both");
  fs::create_directories(both);
  fs::copy_file(Bin("mixed"), both / "pytorch_model.bin");
  fs::copy_file(testing::HfFixtureModels() / "gpt2" / "model.safetensors",
                both / "model.safetensors");
  const auto checkpoint = io::CheckpointTensors::Open(both.string());
  EXPECT_EQ(checkpoint->description(), (both / "model.safetensors").string());
  EXPECT_EQ(checkpoint->Find("f32"), nullptr);
}

TEST_F(TorchBinTest, APickleThatCallsOsSystemIsRefusedAndNeverRuns) {
  const std::string error = OpenError(Bin("evil"));
  EXPECT_NE(error.find(Bin("evil")), std::string::npos) << error;
  EXPECT_NE(error.find("global posix.system is refused"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(Path("evil") / "ran"));
  // ftd refuses it at submission, naming the file.
  try {
    models::ReadModelFolderConfig(Path("evil").string());
    ADD_FAILURE() << "the folder was accepted";
  } catch (const models::ModelFolderError& refused) {
    EXPECT_FALSE(refused.not_found());
    EXPECT_NE(std::string(refused.what()).find("posix.system"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(Path("evil") / "ran"));
}

TEST_F(TorchBinTest, RefusesOtherFormatsNamingTheFile) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"legacy", "the legacy torch.save format"},
      {"compressed", "compressed (method 8)"},
      {"bigendian", "big-endian"},
  };
  for (const auto& [folder, expected] : cases) {
    const std::string error = OpenError(Bin(folder));
    EXPECT_NE(error.find(Bin(folder) + ": "), std::string::npos) << error;
    EXPECT_NE(error.find(expected), std::string::npos) << error;
  }
  EXPECT_NE(OpenError(dir_->Write("junk.bin", "not a checkpoint at all, but long enough"))
                .find("not a torch.save file"),
            std::string::npos);
  try {
    models::ReadModelFolderConfig(Path("legacy").string());
    ADD_FAILURE() << "a legacy checkpoint was accepted at submission";
  } catch (const models::ModelFolderError& refused) {
    EXPECT_NE(std::string(refused.what()).find(Bin("legacy") + ": the legacy"), std::string::npos)
        << refused.what();
  }
  EXPECT_EQ(models::ReadModelFolderConfig(Path("gpt2_bin").string()).model_type, "gpt2");
  EXPECT_EQ(models::ReadModelFolderConfig(Path("llama_bin").string()).model_type, "llama");
  // A shard the index names but the folder lacks is NOT_FOUND at submission, named.
  const fs::path lacking = Path("llama_lacking_a_shard");
  fs::create_directories(lacking);
  for (const char* file : {"config.json", "pytorch_model.bin.index.json",
                           "pytorch_model-00001-of-00002.bin"}) {
    fs::copy_file(Path("llama_bin") / file, lacking / file, fs::copy_options::overwrite_existing);
  }
  try {
    models::ReadModelFolderConfig(lacking.string());
    ADD_FAILURE() << "a folder lacking a shard was accepted";
  } catch (const models::ModelFolderError& refused) {
    EXPECT_TRUE(refused.not_found());
    EXPECT_NE(std::string(refused.what()).find("pytorch_model-00002-of-00002.bin, which does not"),
              std::string::npos)
        << refused.what();
  }
}

// Every prefix of a valid file, and every single-byte corruption of its pickle, is refused with
// a message naming the file, or (a corrupted float inside a tensor) still reads.
TEST_F(TorchBinTest, TruncatedAndCorruptedFilesAreRefusedClearly) {
  const std::string bytes = ReadBytes(Bin("mixed"));
  for (std::size_t length : {std::size_t{0}, std::size_t{100}, bytes.size() / 2,
                             bytes.size() - 30, bytes.size() - 1}) {
    const std::string path = dir_->Write("cut.bin", bytes.substr(0, length));
    const std::string error = OpenError(path);
    EXPECT_NE(error.find(path + ": "), std::string::npos) << length << ": " << error;
  }
  const std::string cut = OpenError(dir_->Write("cut.bin", bytes.substr(0, bytes.size() / 2)));
  EXPECT_NE(cut.find("no end of central directory"), std::string::npos) << cut;

  // data.pkl is the first entry: its bytes follow the first local header.
  const std::size_t pickle = 30 + 22 + (static_cast<unsigned char>(bytes[28]) |
                                        static_cast<unsigned char>(bytes[29]) << 8);
  ASSERT_EQ(bytes.substr(30, 22), "pytorch_model/data.pkl");
  int refused = 0;
  for (std::size_t at = pickle; at < pickle + 1150; ++at) {
    std::string corrupt = bytes;
    corrupt[at] = static_cast<char>(corrupt[at] ^ 0x5a);
    try {
      TorchSaveFile::FromBytes(corrupt, "corrupt.bin");
    } catch (const TorchSaveError& error) {
      ++refused;
      ASSERT_EQ(std::string(error.what()).rfind("corrupt.bin: ", 0), 0u) << error.what();
    }
  }
  EXPECT_GT(refused, 500);  // names and structure; a flipped float or name byte may still load
}

}  // namespace
}  // namespace ft
