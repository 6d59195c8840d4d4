// A pickle interpreter for exactly what torch.save writes for a state dict, and nothing that
// could run code: it knows the opcodes of protocols 2-4 that build dicts, OrderedDicts, lists,
// tuples, strings, numbers, booleans and None, and four kinds of global, each of which it
// interprets itself (nothing is imported or called):
//   collections.OrderedDict            called with no arguments; BUILD sets its _metadata
//   torch.<Type>Storage                named by a storage's persistent id (BINPERSID):
//                                      ('storage', torch.FloatStorage, key, location, numel)
//   torch._utils._rebuild_tensor_v2    (storage, offset, size, stride, requires_grad, hooks)
//   torch._utils._rebuild_parameter    (tensor, requires_grad, hooks)
// Any other opcode (INST, OBJ, NEWOBJ, ...) or global (os.system, builtins.eval, ...) is refused
// before anything else happens, naming it and its byte offset. Standard library only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ft::torchsave {

// A tensor of the state dict as the pickle describes it: a strided view of a storage, whose
// bytes are the zip entry <archive>/data/<storage_key>.
struct PickledTensor {
  std::string name;
  std::string dtype;  // safetensors' names: "F32", "F16", "BF16", "F64", "I64", "BOOL", ...
  std::string storage_key;
  uint64_t storage_elements = 0;  // as the persistent id says
  int64_t storage_offset = 0;     // in elements
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // in elements
};

// Runs `pickle` (the bytes of data.pkl) and returns the tensors of the dict it builds, in the
// dict's order. `where` ("<file>: data.pkl") starts every error message. Throws TorchSaveError
// for a refused opcode or global, a malformed or truncated pickle, and a result that is not a
// dict of name -> tensor.
std::vector<PickledTensor> UnpickleStateDict(std::string_view pickle, const std::string& where);

// Bytes per element of a dtype of PickledTensor (0 for an unknown name).
std::size_t PickledDtypeSize(const std::string& dtype);

}  // namespace ft::torchsave
