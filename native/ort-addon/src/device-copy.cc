#include "device-copy.h"

#include <dlfcn.h>

#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace marquee {

namespace {

// The few CUDA runtime entry points the copies need (cudaError_t is an int enum; streams are
// pointers; 0 is the legacy default stream; kinds: 2 device to host, 3 device to device).
struct CudaRuntime {
  int (*set_device)(int) = nullptr;
  int (*memset_async)(void*, int, size_t, void*) = nullptr;
  int (*memcpy_2d_async)(void*, size_t, const void*, size_t, size_t, size_t, int,
                         void*) = nullptr;
  int (*stream_synchronize)(void*) = nullptr;
  const char* (*error_string)(int) = nullptr;

  static const CudaRuntime& Get() {
    static const CudaRuntime runtime = Load();
    if (!runtime.set_device)
      throw std::runtime_error(
          "CUDA: libcudart (13 or 12) is not loaded or loadable; it comes with "
          "the CUDA execution provider's libraries");
    return runtime;
  }

 private:
  static CudaRuntime Load() {
    CudaRuntime runtime;
    void* library = nullptr;
    // The provider has loaded it already; fall back to the library path.
    for (int flags : {RTLD_NOW | RTLD_NOLOAD, RTLD_NOW | RTLD_LOCAL})
      for (const char* name : {"libcudart.so.13", "libcudart.so.12"})
        if (!library) library = dlopen(name, flags);
    if (!library) return runtime;
    auto symbol = [&](auto& slot, const char* name) {
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(
          dlsym(library, name));
      return slot != nullptr;
    };
    if (!(symbol(runtime.set_device, "cudaSetDevice") &&
          symbol(runtime.memset_async, "cudaMemsetAsync") &&
          symbol(runtime.memcpy_2d_async, "cudaMemcpy2DAsync") &&
          symbol(runtime.stream_synchronize, "cudaStreamSynchronize") &&
          symbol(runtime.error_string, "cudaGetErrorString")))
      runtime.set_device = nullptr;
    return runtime;
  }
};

}  // namespace

DeviceCopy::DeviceCopy(bool cuda, int device_id) : cuda_(cuda) {
  if (cuda_) Check(CudaRuntime::Get().set_device(device_id), "cudaSetDevice");
}

void DeviceCopy::Check(int status, const char* what) {
  if (status != 0)
    throw std::runtime_error(std::string("CUDA: ") + what + " failed: " +
                             CudaRuntime::Get().error_string(status));
}

void DeviceCopy::Zero(void* dst, size_t bytes) {
  if (bytes == 0) return;
  if (!cuda_) {
    std::memset(dst, 0, bytes);
    return;
  }
  Check(CudaRuntime::Get().memset_async(dst, 0, bytes, nullptr),
        "cudaMemsetAsync");
}

void DeviceCopy::Copy2D(void* dst, size_t dst_pitch, const void* src,
                        size_t src_pitch, size_t width, size_t height,
                        bool to_host) {
  if (width == 0 || height == 0) return;
  if (!cuda_) {
    for (size_t row = 0; row < height; row++)
      std::memcpy(static_cast<char*>(dst) + row * dst_pitch,
                  static_cast<const char*>(src) + row * src_pitch, width);
    return;
  }
  Check(CudaRuntime::Get().memcpy_2d_async(dst, dst_pitch, src, src_pitch,
                                           width, height, to_host ? 2 : 3,
                                           nullptr),
        "cudaMemcpy2DAsync");
}

void DeviceCopy::Finish() {
  if (cuda_)
    Check(CudaRuntime::Get().stream_synchronize(nullptr),
          "cudaStreamSynchronize");
}

}  // namespace marquee
