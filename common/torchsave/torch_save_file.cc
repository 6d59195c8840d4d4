#include "common/torchsave/torch_save_file.h"

#include <cstring>
#include <fstream>
#include <limits>

#include "common/util/half_float.h"

namespace ft::torchsave {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "storages are read as little-endian memory as is");

constexpr char kConvertHint[] =
    "; load it with PyTorch once and save it again with torch.save (PyTorch >= 1.6), or convert "
    "it to model.safetensors";

// The legacy format begins with a protocol-2 pickle of torch's magic number
// 0x1950a86a20f9469cfc6c (LONG1, 10 bytes).
constexpr std::string_view kLegacyMagic =
    "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
constexpr std::string_view kZipMagic = "PK\x03\x04";
constexpr std::size_t kTarMagicOffset = 257;

bool EndsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

float ElementAsFloat(const std::string& dtype, const char* bytes) {
  if (dtype == "F32") {
    float value;
    std::memcpy(&value, bytes, sizeof(value));
    return value;
  }
  if (dtype == "F64") {
    double value;
    std::memcpy(&value, bytes, sizeof(value));
    return static_cast<float>(value);  // round to nearest, as Tensor.float() does
  }
  uint16_t bits;
  std::memcpy(&bits, bytes, sizeof(bits));
  return dtype == "F16" ? util::HalfToFloat(bits) : util::BFloat16ToFloat(bits);
}

}  // namespace

std::string NotAZipArchiveReason(std::string_view first_bytes) {
  if (first_bytes.substr(0, kZipMagic.size()) == kZipMagic) return "";
  if (first_bytes.substr(0, kLegacyMagic.size()) == kLegacyMagic) {
    return std::string("the legacy torch.save format (PyTorch < 1.6, or "
                       "_use_new_zipfile_serialization=False) is not read") + kConvertHint;
  }
  if (first_bytes.size() > kTarMagicOffset + 5 &&
      first_bytes.substr(kTarMagicOffset, 5) == "ustar") {
    return std::string("the tar format of torch.save (PyTorch < 0.4) is not read") + kConvertHint;
  }
  return "not a torch.save file (a zip archive with data.pkl, as PyTorch >= 1.6 writes)";
}

std::unique_ptr<TorchSaveFile> TorchSaveFile::Open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TorchSaveError(path + ": cannot open");
  std::string first(kTarMagicOffset + 8, '\0');
  in.read(first.data(), static_cast<std::streamsize>(first.size()));
  first.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  if (const std::string reason = NotAZipArchiveReason(first); !reason.empty()) {
    throw TorchSaveError(path + ": " + reason);
  }
  std::unique_ptr<TorchSaveFile> file(new TorchSaveFile(ZipArchive::Open(path)));
  file->ReadStateDict();
  return file;
}

std::unique_ptr<TorchSaveFile> TorchSaveFile::FromBytes(std::string_view bytes,
                                                        const std::string& path) {
  if (const std::string reason = NotAZipArchiveReason(bytes.substr(0, 512)); !reason.empty()) {
    throw TorchSaveError(path + ": " + reason);
  }
  std::unique_ptr<TorchSaveFile> file(new TorchSaveFile(ZipArchive::FromBytes(bytes, path)));
  file->ReadStateDict();
  return file;
}

void TorchSaveFile::ReadStateDict() {
  const std::string& file = path();
  const auto fail = [&file](const std::string& message) {
    throw TorchSaveError(file + ": " + message);
  };
  // torch.save names its folder after the file: <archive>/data.pkl, one level deep.
  std::string prefix;
  for (const auto& [name, entry] : archive_->entries()) {
    if (!EndsWith(name, "/data.pkl") || name.find('/') != name.size() - 9) continue;
    if (!prefix.empty()) fail("two data.pkl entries (" + prefix + "data.pkl and " + name + ")");
    prefix = name.substr(0, name.size() - 8);
  }
  if (prefix.empty()) fail("a zip archive without <archive>/data.pkl: not a torch.save file");
  if (const ZipEntry* order = archive_->Find(prefix + "byteorder")) {
    const std::string_view text = archive_->Bytes(*order);
    if (text == "big") {
      fail("the tensors are big-endian (byteorder \"big\")" + std::string(kConvertHint));
    }
    if (text != "little") {
      fail(prefix + "byteorder: expected \"little\", got \"" + std::string(text) + "\"");
    }
  }
  const std::vector<PickledTensor> views = UnpickleStateDict(
      archive_->Bytes(*archive_->Find(prefix + "data.pkl")), file + ": " + prefix + "data.pkl");

  for (const PickledTensor& view : views) {
    const std::string where = "tensor '" + view.name + "': ";
    const std::size_t element_size = PickledDtypeSize(view.dtype);
    const ZipEntry* storage = archive_->Find(prefix + "data/" + view.storage_key);
    if (storage == nullptr) {
      fail(where + "its storage " + prefix + "data/" + view.storage_key + " is missing");
    }
    if (view.storage_elements > storage->size / element_size ||
        storage->size != view.storage_elements * element_size) {
      fail(where + "its storage " + prefix + "data/" + view.storage_key + " holds " +
           std::to_string(storage->size) + " bytes, but " +
           std::to_string(view.storage_elements) + " " + view.dtype + " elements need " +
           std::to_string(view.storage_elements * element_size) + ": corrupted?");
    }
    // The furthest element the view reaches must lie inside the storage (no overflow: each
    // term is bounded by the storage's size before it is added).
    const uint64_t limit = view.storage_elements;
    if (view.storage_offset < 0) fail(where + "a negative storage offset");
    uint64_t last = static_cast<uint64_t>(view.storage_offset);
    bool empty = false;
    for (std::size_t d = 0; d < view.shape.size(); ++d) {
      if (view.shape[d] < 0 || view.strides[d] < 0) fail(where + "a negative size or stride");
      if (view.shape[d] == 0) empty = true;
    }
    for (std::size_t d = 0; d < view.shape.size() && !empty; ++d) {
      const auto extent = static_cast<uint64_t>(view.shape[d] - 1);
      const auto stride = static_cast<uint64_t>(view.strides[d]);
      if (extent > 0 && stride > 0 && (extent > limit || stride > limit / extent)) last = limit;
      else last += extent * stride;
      if (last >= limit) break;
    }
    if (!empty && last >= limit) {
      fail(where + "its view (offset " + std::to_string(view.storage_offset) +
           ") reaches past its storage of " + std::to_string(limit) + " elements");
    }
    tensors_.push_back({view, archive_->Bytes(*storage)});
  }
}

const TorchSaveTensor* TorchSaveFile::Find(const std::string& name) const {
  for (const TorchSaveTensor& tensor : tensors_) {
    if (tensor.view.name == name) return &tensor;
  }
  return nullptr;
}

void TorchSaveFile::ReadAsFloat32(const TorchSaveTensor& tensor, float* out) const {
  const PickledTensor& view = tensor.view;
  if (view.dtype != "F32" && view.dtype != "F16" && view.dtype != "BF16" && view.dtype != "F64") {
    throw TorchSaveError(path() + ": tensor '" + view.name + "': dtype " + view.dtype +
                         " cannot be read as float32 (expected F32, F16, BF16 or F64)");
  }
  const std::size_t element_size = PickledDtypeSize(view.dtype);
  const std::size_t rank = view.shape.size();
  for (int64_t extent : view.shape) {
    if (extent == 0) return;
  }
  // An odometer over every index but the last; the last dimension is the inner loop.
  std::vector<int64_t> index(rank, 0);
  const int64_t inner = rank == 0 ? 1 : view.shape[rank - 1];
  const int64_t inner_stride = rank == 0 ? 0 : view.strides[rank - 1];
  while (true) {
    int64_t position = view.storage_offset;
    for (std::size_t d = 0; d + 1 < rank; ++d) position += index[d] * view.strides[d];
    for (int64_t i = 0; i < inner; ++i) {
      const char* bytes =
          tensor.storage.data() + static_cast<std::size_t>(position + i * inner_stride) *
                                      element_size;
      *out++ = ElementAsFloat(view.dtype, bytes);
    }
    std::size_t d = rank == 0 ? 0 : rank - 1;
    while (d > 0) {
      --d;
      if (++index[d] < view.shape[d]) break;
      index[d] = 0;
      if (d == 0) return;
    }
    if (rank <= 1) return;
  }
}

}  // namespace ft::torchsave
