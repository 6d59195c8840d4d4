// A state dict that torch.save wrote (pytorch_model.bin), read without PyTorch and without
// running its pickle: the zip container (zip_archive.h) holds <archive>/data.pkl, which the
// restricted unpickler (restricted_unpickler.h) reads into tensor descriptions, and one entry
// <archive>/data/<key> per storage, whose bytes are read in place. Every tensor is checked when
// the file is opened: its dtype is known, its storage entry exists and has the size its
// persistent id says, and its strided view stays inside that storage. Refuses, naming the file:
// the legacy format (torch.save before PyTorch 1.6, or _use_new_zipfile_serialization=False),
// anything that is not a zip archive, big-endian data (<archive>/byteorder "big"), a refused
// pickle, and a truncated or inconsistent file. Standard library only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/torchsave/restricted_unpickler.h"
#include "common/torchsave/torch_save_error.h"
#include "common/torchsave/zip_archive.h"

namespace ft::torchsave {

struct TorchSaveTensor {
  PickledTensor view;  // name, dtype, shape, strides, offset into the storage
  std::string_view storage;  // the storage's bytes inside the file
};

class TorchSaveFile {
 public:
  // Maps and checks `path`. Throws TorchSaveError ("<path>: ...").
  static std::unique_ptr<TorchSaveFile> Open(const std::string& path);
  // The same on bytes in memory (which must outlive the file); `path` names them in errors.
  static std::unique_ptr<TorchSaveFile> FromBytes(std::string_view bytes, const std::string& path);

  const std::string& path() const { return archive_->path(); }
  // Every tensor, in the state dict's order.
  const std::vector<TorchSaveTensor>& tensors() const { return tensors_; }
  // nullptr when there is no tensor of that name.
  const TorchSaveTensor* Find(const std::string& name) const;

  // Converts an F32, F16, BF16 or F64 tensor to float32 into out[0 .. element count), in
  // row-major order of its shape, following its strides (a transposed view reads transposed).
  // Throws TorchSaveError naming the tensor for other dtypes.
  void ReadAsFloat32(const TorchSaveTensor& tensor, float* out) const;

 private:
  explicit TorchSaveFile(std::unique_ptr<ZipArchive> archive) : archive_(std::move(archive)) {}
  void ReadStateDict();

  std::unique_ptr<ZipArchive> archive_;
  std::vector<TorchSaveTensor> tensors_;
};

// Why `path` cannot be a torch.save zip archive, judged from its first bytes ("" when it may be
// one): the legacy pickle or tar formats, or something else. Throws nothing.
std::string NotAZipArchiveReason(std::string_view first_bytes);

}  // namespace ft::torchsave
