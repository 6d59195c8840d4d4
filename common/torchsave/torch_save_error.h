// The error every part of the torch.save reader throws: its message starts with the file's path
// and says what is wrong and, where it helps, what to do (convert the checkpoint to safetensors).
#pragma once

#include <stdexcept>

namespace ft::torchsave {

class TorchSaveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ft::torchsave
