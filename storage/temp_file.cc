#include "storage/temp_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace stash {

std::string TempFolder(const std::string& preferred) {
  if (!preferred.empty()) return preferred;
  const char* env = std::getenv("TMPDIR");
  return env && *env ? env : "/tmp";
}

int OpenUnnamedFile(const std::string& dir, const char* prefix) {
  int fd = -1;
#ifdef O_TMPFILE
  fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
  if (fd >= 0) return fd;
  std::string name = dir + "/" + prefix + "-XXXXXX";
  fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0) unlink(name.c_str());
  return fd;
}

}  // namespace stash
