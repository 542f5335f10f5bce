// PageArray: a growable array of trivially copyable values in pages of its
// own, for the large sorted tables of the index.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace stash {

// Page-level allocation behind PageArray (mmap, mremap, munmap). Each
// throws std::bad_alloc when the system has no memory, as a vector would.
void* ResizePages(void* data, size_t old_bytes, size_t new_bytes);
void FreePages(void* data, size_t bytes);
size_t RoundUpToPages(size_t bytes);

// An array of trivially copyable T in its own pages, grown and shrunk in
// place (mremap) rather than copied: growing never holds two copies, and
// freed pages go back to the system instead of fragmenting the heap.
template <typename T>
class PageArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  PageArray() = default;
  PageArray(PageArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
        bytes_(std::exchange(other.bytes_, 0)) {}
  PageArray& operator=(PageArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  ~PageArray() { clear(); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity_bytes() const { return bytes_; }

  // New elements are zero (fresh pages).
  void resize(size_t n) {
    if (n == 0) return clear();
    size_t want = RoundUpToPages(n * sizeof(T));
    if (want != bytes_) {
      data_ = static_cast<T*>(ResizePages(data_, bytes_, want));
      bytes_ = want;
    }
    size_ = n;
  }
  void clear() {
    FreePages(data_, bytes_);
    data_ = nullptr;
    size_ = 0;
    bytes_ = 0;
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

}  // namespace stash
