// An ONNX Runtime session on the CPU or CUDA provider whose runs go through IO binding: each
// input is a host tensor (copied in) or a DeviceTensor (already in device memory), and each
// output is copied to the host or kept in device memory as a DeviceTensor for the next run.
#pragma once

#include "common.h"

#include <memory>

namespace marquee {

struct PreparedRun;

// What a session's DeviceTensors share with it: their memory came from its allocators, so a
// released session lives on until the last of them is freed.
struct SessionState {
  SessionState(const std::string& path, const Ort::SessionOptions& options)
      : session(Environment(), path.c_str(), options) {}
  Ort::Session session;
  // Where `gather` allocates: the session's allocator for `device` (made on first use, so a
  // session that only runs never needs one), or the default allocator on the CPU provider.
  OrtAllocator* DeviceAllocator(const Ort::MemoryInfo& device) {
    if (device.GetDeviceType() == OrtMemoryInfoDeviceType_CPU) {
      static Ort::AllocatorWithDefaultOptions cpu;
      return cpu;
    }
    if (!device_allocator)
      device_allocator = std::make_unique<Ort::Allocator>(session, device);
    return *device_allocator;
  }

 private:
  std::unique_ptr<Ort::Allocator> device_allocator;
};

class NativeSession : public Napi::ObjectWrap<NativeSession> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit NativeSession(const Napi::CallbackInfo& info);

 private:
  Napi::Value InputNames(const Napi::CallbackInfo& info);
  Napi::Value OutputNames(const Napi::CallbackInfo& info);
  Napi::Value Provider(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value RunAsync(const Napi::CallbackInfo& info);
  Napi::Value Gather(const Napi::CallbackInfo& info);
  Napi::Value InputTypes(const Napi::CallbackInfo& info);
  std::unique_ptr<PreparedRun> Prepare(const Napi::CallbackInfo& info);
  void Release(const Napi::CallbackInfo& info);

  SessionState& State(const Napi::Env& env);

  std::shared_ptr<SessionState> state_;
  std::string provider_;
  int device_id_ = 0;
  Ort::MemoryInfo host_{nullptr};
  Ort::MemoryInfo device_{nullptr};
  std::vector<std::string> input_names_;
  // Each input's element type ('float32', 'float16', 'int64' or another ONNX name) and dims
  // (-1 where symbolic).
  std::vector<std::pair<std::string, std::vector<int64_t>>> input_types_;
  std::vector<std::string> output_names_;
};

}  // namespace marquee
