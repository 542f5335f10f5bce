#include "crypto/digest.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace stash {
namespace {

constexpr size_t kFilePiece = 256 * 1024;

const EVP_MD* Algorithm(DigestKind kind) { return kind == DigestKind::kMd5 ? EVP_md5() : EVP_sha1(); }

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

Bytes Digest(DigestKind kind, ByteView data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, Algorithm(kind), nullptr);
  return Bytes(digest, digest + size);
}

Result<Bytes> FileDigest(DigestKind kind, int fd, uint64_t size) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), Algorithm(kind), nullptr) != 1) return IOError("digest: out of memory");
  auto piece = std::make_unique<uint8_t[]>(kFilePiece);
  for (uint64_t done = 0; done < size;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kFilePiece, size - done));
    ssize_t n = ::pread(fd, piece.get(), want, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IOError(std::string("reading a file to upload: ") + std::strerror(errno));
    if (n == 0) return IOError("reading a file to upload: it ends after " + std::to_string(done) + " bytes");
    EVP_DigestUpdate(ctx.get(), piece.get(), static_cast<size_t>(n));
    done += static_cast<uint64_t>(n);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return Bytes(digest, digest + len);
}

}  // namespace stash
