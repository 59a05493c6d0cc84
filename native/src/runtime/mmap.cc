// Memory-mapped files for the decoded-image cache: the OS pages the bytes in on demand and
// shares them between processes reading the same cache.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common.h"

namespace selfsup {

SELFSUP_REGISTER(mmap) {
  // mapFile(path) -> Buffer over a private (copy-on-write) mapping: writes from JavaScript
  // change only this process's copy and can never fault.
  def("mapFile", "string -> buffer", [](Args& a) -> Napi::Value {
    std::string path = a.string(0);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int err = errno;
      close(fd);
      throw std::runtime_error("cannot stat " + path + ": " + std::strerror(err));
    }
    size_t size = static_cast<size_t>(st.st_size);
    if (size == 0) {
      close(fd);
      return Napi::Buffer<uint8_t>::New(a.env, 0);
    }
    void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd);
    if (data == MAP_FAILED) throw std::runtime_error("cannot map " + path + ": " + std::strerror(err));
    return Napi::Buffer<uint8_t>::New(a.env, static_cast<uint8_t*>(data), size, [size](Napi::Env, uint8_t* p) { munmap(p, size); });
  });
}

}  // namespace selfsup
