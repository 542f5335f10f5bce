#include "crypto/random.h"

#include <sodium.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace stash {
namespace {

// sodium_init seeds the RNG and selects the fastest implementations; a
// function-local static runs it exactly once, even with many threads.
void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) {
    std::fputs("stash: libsodium failed to initialise\n", stderr);
    std::abort();
  }
}

// A page of random bytes handed out 16 at a time. Each byte is cleared
// once handed out, and the page reads as zeros in a forked child.
class NonceBlock {
 public:
  NonceBlock() {
#ifdef MADV_WIPEONFORK
    void* p = ::mmap(nullptr, sizeof(Page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    if (::madvise(p, sizeof(Page), MADV_WIPEONFORK) != 0) {
      ::munmap(p, sizeof(Page));
      return;
    }
    page_ = static_cast<Page*>(p);
#endif
  }
  ~NonceBlock() {
    if (!page_) return;
    sodium_memzero(page_, sizeof(Page));
    ::munmap(page_, sizeof(Page));
  }
  NonceBlock(const NonceBlock&) = delete;
  NonceBlock& operator=(const NonceBlock&) = delete;

  // False when there is no wiped-on-fork page to serve from.
  bool Take(std::span<uint8_t, 16> out) {
    if (!page_) return false;
    if (page_->left < out.size()) {
      randombytes_buf(page_->bytes, sizeof(page_->bytes));
      page_->left = sizeof(page_->bytes);
    }
    uint8_t* at = page_->bytes + sizeof(page_->bytes) - page_->left;
    std::memcpy(out.data(), at, out.size());
    sodium_memzero(at, out.size());
    page_->left -= out.size();
    return true;
  }

 private:
  struct Page {
    size_t left;  // bytes not handed out yet; 0 in a forked child
    uint8_t bytes[4096 - sizeof(size_t)];
  };
  Page* page_ = nullptr;
};

}  // namespace

void RandomNonceBytes(std::span<uint8_t, 16> out) {
  EnsureSodium();
  thread_local NonceBlock block;
  if (!block.Take(out)) randombytes_buf(out.data(), out.size());
}

void RandomBytes(std::span<uint8_t> out) {
  EnsureSodium();
  // randombytes_buf is declared nonnull; an empty span may carry nullptr.
  if (out.empty()) return;
  randombytes_buf(out.data(), out.size());
}

Bytes RandomBytes(size_t n) {
  Bytes out(n);
  RandomBytes(std::span<uint8_t>(out));
  return out;
}

}  // namespace stash
