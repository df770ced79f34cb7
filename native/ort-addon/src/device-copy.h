// Copies between tensors in one device's memory, for composing KV-cache batches on the device:
// plain memset/memcpy on the CPU provider; on CUDA, the CUDA runtime that ONNX Runtime's CUDA
// provider already loaded (found with dlopen, so the addon builds without CUDA's headers).
#pragma once

#include <cstddef>
#include <string>

namespace marquee {

class DeviceCopy {
 public:
  // `cuda`: the memory is on CUDA device `device_id`. Throws std::runtime_error when the CUDA
  // runtime cannot be found.
  DeviceCopy(bool cuda, int device_id);

  void Zero(void* dst, size_t bytes);
  // `height` rows of `width` bytes, rows `src_pitch` and `dst_pitch` bytes apart, within the
  // device's memory or, with `to_host`, from it into host memory.
  void Copy2D(void* dst, size_t dst_pitch, const void* src, size_t src_pitch,
              size_t width, size_t height, bool to_host = false);
  // Waits for the copies (the next run reads what they wrote).
  void Finish();

 private:
  void Check(int status, const char* what);
  bool cuda_;
};

}  // namespace marquee
