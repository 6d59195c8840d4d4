#include "worker/io/safetensors_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace ft::io {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; this reader converts memory as is");

using Json = nlohmann::json;

// The reference implementation's limit: a header is names and shapes, never this large.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// Bytes per element of each dtype the format defines; 0 for an unknown one.
std::size_t DtypeSize(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1},
      {"U16", 2},  {"I16", 2}, {"F16", 2}, {"BF16", 2},    {"U32", 4},
      {"I32", 4},  {"F32", 4}, {"U64", 8}, {"I64", 8},     {"F64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

std::string Quoted(const std::string& text) { return "'" + text + "'"; }

bool IsOffset(const Json& value) { return value.is_number_unsigned(); }

}  // namespace

int64_t SafetensorsEntry::ElementCount() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  std::string error;
  std::unique_ptr<util::MappedFile> file = util::MappedFile::Open(path, &error);
  if (file == nullptr) throw SafetensorsError(path + ": " + error);
  if (file->bytes().size() < 8) {
    throw SafetensorsError(path + ": " + std::to_string(file->bytes().size()) +
                           " bytes, too short for the 8-byte header length of a safetensors file");
  }
  std::unique_ptr<SafetensorsFile> tensors(new SafetensorsFile(path, std::move(file)));
  tensors->ParseHeader();
  return tensors;
}

SafetensorsFile::SafetensorsFile(std::string path, std::unique_ptr<util::MappedFile> file)
    : path_(std::move(path)),
      file_(std::move(file)),
      mapping_(reinterpret_cast<const unsigned char*>(file_->bytes().data())),
      size_(file_->bytes().size()) {}

SafetensorsFile::~SafetensorsFile() = default;

void SafetensorsFile::ParseHeader() {
  const auto fail = [this](const std::string& message) {
    throw SafetensorsError(path_ + ": " + message);
  };
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | mapping_[i];
  if (header_size > size_ - 8) {
    fail("the header length " + std::to_string(header_size) + " runs past the end of the file (" +
         std::to_string(size_) + " bytes): truncated, or not a safetensors file");
  }
  if (header_size > kMaxHeaderBytes) {
    fail("the header length " + std::to_string(header_size) + " exceeds " +
         std::to_string(kMaxHeaderBytes) + " bytes");
  }
  const char* header_begin = reinterpret_cast<const char*>(mapping_ + 8);
  const char* header_end = header_begin + header_size;
  data_ = mapping_ + 8 + header_size;
  const uint64_t data_size = size_ - 8 - header_size;

  // nlohmann keeps the last of two equal keys; the callback notices the repeat.
  std::set<std::string> names;
  std::string repeated;
  const auto note_keys = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && parsed.is_string() &&
        !names.insert(parsed.get<std::string>()).second && repeated.empty()) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(header_begin, header_end, note_keys);
  } catch (const Json::exception& error) {
    fail(std::string("the header is not valid JSON: ") + error.what());
  }
  if (!header.is_object()) fail("the header is not a JSON object");
  if (!repeated.empty()) fail("tensor " + Quoted(repeated) + " appears twice in the header");

  for (const auto& [name, value] : header.items()) {
    const std::string where = "tensor " + Quoted(name) + ": ";
    if (name == "__metadata__") {
      if (!value.is_object()) fail("__metadata__ is not an object of strings");
      for (const auto& [key, text] : value.items()) {
        if (!text.is_string()) fail("__metadata__ " + Quoted(key) + " is not a string");
        metadata_[key] = text.get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) fail(where + "expected {\"dtype\", \"shape\", \"data_offsets\"}");
    SafetensorsEntry entry;
    entry.name = name;
    const auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string()) fail(where + "no \"dtype\" string");
    entry.dtype = dtype->get<std::string>();
    const std::size_t element_size = DtypeSize(entry.dtype);
    if (element_size == 0) fail(where + "unknown dtype " + Quoted(entry.dtype));

    const auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array()) fail(where + "no \"shape\" array");
    // Overflow-checked product; any count that does not fit in the file fails below anyway.
    uint64_t count = 1;
    for (const Json& dim : *shape) {
      if (!dim.is_number_unsigned())
        fail(where + "shape " + shape->dump() + " is not a list of sizes");
      const uint64_t extent = dim.get<uint64_t>();
      if (extent > 0 && count > std::numeric_limits<uint64_t>::max() / extent / element_size) {
        fail(where + "shape " + shape->dump() + " is too large");
      }
      count *= extent;
      entry.shape.push_back(static_cast<int64_t>(extent));
    }
    const auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
        !IsOffset((*offsets)[0]) || !IsOffset((*offsets)[1])) {
      fail(where + "\"data_offsets\" must be [begin, end]");
    }
    entry.begin = (*offsets)[0].get<uint64_t>();
    entry.end = (*offsets)[1].get<uint64_t>();
    if (entry.end < entry.begin)
      fail(where + "data_offsets " + offsets->dump() + " end before they begin");
    if (entry.end > data_size) {
      fail(where + "data_offsets " + offsets->dump() + " run past the data section (" +
           std::to_string(data_size) + " bytes): the file is truncated");
    }
    if (entry.end - entry.begin != count * element_size) {
      fail(where + "data_offsets " + offsets->dump() + " hold " +
           std::to_string(entry.end - entry.begin) + " bytes, but " + entry.dtype + " " +
           shape->dump() + " needs " + std::to_string(count * element_size));
    }
    entries_.push_back(std::move(entry));
  }

  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  uint64_t expected = 0;
  for (const SafetensorsEntry& entry : entries_) {
    if (entry.begin != expected) {
      fail("tensor " + Quoted(entry.name) + ": starts at data byte " + std::to_string(entry.begin) +
           ", expected " + std::to_string(expected) +
           (entry.begin < expected ? " (it overlaps the tensor before it)" : " (a gap before it)"));
    }
    expected = entry.end;
  }
  if (expected != data_size) {
    fail("the tensors end at data byte " + std::to_string(expected) + " but the data section has " +
         std::to_string(data_size) + " bytes (trailing bytes)");
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].name] = i;
}

const SafetensorsEntry* SafetensorsFile::Find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const unsigned char* SafetensorsFile::Bytes(const SafetensorsEntry& entry) const {
  return data_ + entry.begin;
}

void SafetensorsFile::ReadAsFloat32(const SafetensorsEntry& entry, float* out) const {
  const unsigned char* bytes = Bytes(entry);
  const auto count = static_cast<std::size_t>(entry.ElementCount());
  if (entry.dtype == "F32") {
    std::memcpy(out, bytes, count * sizeof(float));
    return;
  }
  const bool half = entry.dtype == "F16";
  if (!half && entry.dtype != "BF16") {
    throw SafetensorsError(path_ + ": tensor " + Quoted(entry.name) + ": dtype " + entry.dtype +
                           " cannot be read as float32 (expected F32, F16 or BF16)");
  }
  for (std::size_t i = 0; i < count; ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes + 2 * i, sizeof(bits));
    out[i] = half ? HalfToFloat(bits) : BFloat16ToFloat(bits);
  }
}

}  // namespace ft::io
