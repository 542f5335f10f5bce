#include "storage/page_array.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace stash {

size_t RoundUpToPages(size_t bytes) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

void* ResizePages(void* data, size_t old_bytes, size_t new_bytes) {
  void* p = data ? mremap(data, old_bytes, new_bytes, MREMAP_MAYMOVE)
                 : mmap(nullptr, new_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void FreePages(void* data, size_t bytes) {
  if (data) munmap(data, bytes);
}

}  // namespace stash
