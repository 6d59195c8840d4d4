#include "worker/data/token_table.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace ft::train {

void TokenSpan::CopyTo(int64_t* out) const {
  if (width_ == 2) {
    const auto* ids = static_cast<const uint16_t*>(data_);
    for (std::size_t i = 0; i < size_; ++i) out[i] = ids[i];
  } else {
    const auto* ids = static_cast<const int32_t*>(data_);
    for (std::size_t i = 0; i < size_; ++i) out[i] = ids[i];
  }
}

std::vector<int64_t> TokenSpan::ToVector() const {
  std::vector<int64_t> ids(size_);
  CopyTo(ids.data());
  return ids;
}

TokenTable::TokenTable(const TokenTable& other) = default;
TokenTable& TokenTable::operator=(const TokenTable& other) = default;

const uint64_t* TokenTable::offsets() const {
  return mapping_ ? borrowed_offsets_ : owned_offsets_.data();
}

const uint8_t* TokenTable::ids_bytes() const {
  return mapping_ ? borrowed_ids_ : owned_ids_.data();
}

TokenSpan TokenTable::operator[](std::size_t i) const {
  const uint64_t* offset = offsets();
  return TokenSpan(ids_bytes() + offset[i] * static_cast<uint64_t>(width_),
                   static_cast<std::size_t>(offset[i + 1] - offset[i]), width_);
}

TokenSpan TokenTable::at(std::size_t i) const {
  if (i >= examples_) {
    throw std::out_of_range("example " + std::to_string(i) + " of a split with " +
                            std::to_string(examples_));
  }
  return (*this)[i];
}

std::vector<std::size_t> TokenTable::Lengths() const {
  std::vector<std::size_t> lengths(examples_);
  for (std::size_t i = 0; i < examples_; ++i) lengths[i] = Length(i);
  return lengths;
}

void TokenTable::reserve(std::size_t examples) { owned_offsets_.reserve(examples + 1); }

void TokenTable::Widen() {
  std::vector<uint8_t> wide(owned_ids_.size() * 2);
  const std::size_t count = owned_ids_.size() / 2;
  for (std::size_t i = 0; i < count; ++i) {
    uint16_t narrow;
    std::memcpy(&narrow, owned_ids_.data() + 2 * i, 2);
    const int32_t value = narrow;
    std::memcpy(wide.data() + 4 * i, &value, 4);
  }
  owned_ids_ = std::move(wide);
  width_ = 4;
}

void TokenTable::push_back(const std::vector<int64_t>& ids) {
  if (mapping_) throw std::logic_error("a token table read from the cache is read-only");
  for (int64_t id : ids) {
    if (id < 0 || id > INT32_MAX) {
      throw std::out_of_range("token id " + std::to_string(id) + " is outside [0, 2^31)");
    }
    if (id > UINT16_MAX && width_ == 2) Widen();
  }
  const std::size_t begin = owned_ids_.size();
  owned_ids_.resize(begin + ids.size() * static_cast<std::size_t>(width_));
  uint8_t* out = owned_ids_.data() + begin;
  for (int64_t id : ids) {
    if (width_ == 2) {
      const auto value = static_cast<uint16_t>(id);
      std::memcpy(out, &value, 2);
    } else {
      const auto value = static_cast<int32_t>(id);
      std::memcpy(out, &value, 4);
    }
    out += width_;
  }
  owned_offsets_.push_back(owned_offsets_.back() + ids.size());
  ++examples_;
}

TokenTable TokenTable::Borrow(std::shared_ptr<const void> keep_alive, const uint64_t* offsets,
                              std::size_t examples, const uint8_t* ids, int width) {
  if (width != 2 && width != 4) throw std::invalid_argument("token width must be 2 or 4");
  TokenTable table;
  table.width_ = width;
  table.examples_ = examples;
  table.owned_offsets_.clear();
  table.mapping_ = std::move(keep_alive);
  table.borrowed_offsets_ = offsets;
  table.borrowed_ids_ = ids;
  return table;
}

}  // namespace ft::train
