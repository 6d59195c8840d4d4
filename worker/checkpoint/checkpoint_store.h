// Where checkpoints live and how one is committed, found and cleaned up. Standard library only;
// what goes into a checkpoint is the trainer's business (checkpoint_header.h, state.pt).
//
//   <output_dir>/checkpoints/
//     step-00000120/           the newest complete checkpoint; older ones are removed once a
//       header.json            newer one is in place
//       state.pt               LibTorch archive: model, optimizer, RNG, open progress interval
//       COMPLETE               written last: {"format_version": 1, "files": {name: bytes, ...}}
//     .partial-step-00000130/  being written, or cut off by a crash: never read, removed at the
//                              next commit
//
// Every file is fsynced before the folder is renamed to step-N, so a step-N folder with a valid
// COMPLETE marker is complete even after a power cut.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ft::train {

class CheckpointStore {
 public:
  static constexpr const char* kHeaderFile = "header.json";
  static constexpr const char* kStateFile = "state.pt";
  static constexpr const char* kCompleteFile = "COMPLETE";

  explicit CheckpointStore(const std::string& output_dir);

  // <output_dir>/checkpoints
  const std::string& folder() const { return folder_; }

  // The newest step-N folder whose COMPLETE marker lists header.json and state.pt with the sizes
  // they have on disk. Every newer folder that fails the check adds a line to `warnings`, naming
  // what is wrong with it. nullopt when there is none.
  std::optional<std::string> FindNewestComplete(std::vector<std::string>& warnings) const;

  // Creates an empty .partial-step-N folder (removing a leftover of the same name) for the caller
  // to fill with durable files (io::DurableFileWriter), and returns its path.
  std::string BeginWrite(int64_t step) const;

  // Writes COMPLETE listing every file in `partial_folder`, renames the folder to step-N, then
  // removes every other checkpoint folder. Returns the bytes of the checkpoint's files. Throws
  // std::runtime_error on I/O errors (the previous checkpoint then stays in place).
  uint64_t Commit(const std::string& partial_folder, int64_t step) const;

 private:
  std::string folder_;
};

}  // namespace ft::train
