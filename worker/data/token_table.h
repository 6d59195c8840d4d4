// The token ids of a split, flat: one offsets array (examples + 1 entries) and one array of ids,
// each 2 bytes (vocabularies below 65,536 ids) or 4 bytes wide. Either owned (built by the
// tokenizer) or borrowed from a memory-mapped token cache file (token_cache.h), which then stays
// mapped while any copy of the table lives. Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

namespace ft::train {

// A read-only view of one example's ids. Valid while the table it came from lives.
class TokenSpan {
 public:
  class Iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = int64_t;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = int64_t;
    Iterator(const TokenSpan* span, std::size_t index) : span_(span), index_(index) {}
    int64_t operator*() const { return (*span_)[index_]; }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++index_;
      return before;
    }
    difference_type operator-(const Iterator& other) const {
      return static_cast<difference_type>(index_) - static_cast<difference_type>(other.index_);
    }
    bool operator==(const Iterator& other) const { return index_ == other.index_; }
    bool operator!=(const Iterator& other) const { return index_ != other.index_; }

   private:
    const TokenSpan* span_;
    std::size_t index_;
  };

  TokenSpan(const void* data, std::size_t size, int width)
      : data_(data), size_(size), width_(width) {}

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t operator[](std::size_t i) const {
    return width_ == 2 ? static_cast<const uint16_t*>(data_)[i]
                       : static_cast<const int32_t*>(data_)[i];
  }
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size_); }
  // Widens the ids into out[0..size()).
  void CopyTo(int64_t* out) const;
  std::vector<int64_t> ToVector() const;
  // A copy, for code written against std::vector<int64_t> (tests, small helpers).
  operator std::vector<int64_t>() const { return ToVector(); }  // NOLINT: implicit on purpose

 private:
  const void* data_;
  std::size_t size_;
  int width_;
};

class TokenTable {
 public:
  TokenTable() = default;
  TokenTable(const TokenTable& other);
  TokenTable& operator=(const TokenTable& other);
  TokenTable(TokenTable&& other) noexcept = default;
  TokenTable& operator=(TokenTable&& other) noexcept = default;

  // Appends one example (owned tables only). Ids must be in [0, 2^31); the table widens itself
  // to 4 bytes per id at the first id >= 65,536.
  void push_back(const std::vector<int64_t>& ids);
  void reserve(std::size_t examples);

  std::size_t size() const { return examples_; }
  bool empty() const { return examples_ == 0; }
  TokenSpan operator[](std::size_t i) const;
  TokenSpan at(std::size_t i) const;  // throws std::out_of_range
  std::size_t Length(std::size_t i) const {
    return static_cast<std::size_t>(offsets()[i + 1] - offsets()[i]);
  }
  // Every example's length, in order.
  std::vector<std::size_t> Lengths() const;

  // Raw layout, for the cache writer: offsets()[0] == 0, offsets()[size()] == total_tokens().
  int width() const { return width_; }
  const uint64_t* offsets() const;
  const uint8_t* ids_bytes() const;
  uint64_t total_tokens() const { return offsets()[examples_]; }
  bool mapped() const { return static_cast<bool>(mapping_); }

  // A table over memory someone else owns; `keep_alive` holds it (e.g. a file mapping). The
  // caller has checked that offsets are non-decreasing from 0 and end at the ids' count.
  static TokenTable Borrow(std::shared_ptr<const void> keep_alive, const uint64_t* offsets,
                           std::size_t examples, const uint8_t* ids, int width);

 private:
  void Widen();

  int width_ = 2;
  std::size_t examples_ = 0;
  std::vector<uint64_t> owned_offsets_{0};
  std::vector<uint8_t> owned_ids_;
  std::shared_ptr<const void> mapping_;  // set: borrowed_* point into it
  const uint64_t* borrowed_offsets_ = nullptr;
  const uint8_t* borrowed_ids_ = nullptr;
};

}  // namespace ft::train
