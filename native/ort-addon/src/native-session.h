// An ONNX Runtime session on the CPU or CUDA provider whose runs go through IO binding: each
// input is a host tensor (copied in) or a DeviceTensor (already in device memory), and each
// output is copied to the host or kept in device memory as a DeviceTensor for the next run.
#pragma once

#include "common.h"

#include <memory>

namespace marquee {

struct PreparedRun;

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
  std::unique_ptr<PreparedRun> Prepare(const Napi::CallbackInfo& info);
  void Release(const Napi::CallbackInfo& info);

  Ort::Session& Session(const Napi::Env& env);

  // Shared with the DeviceTensors it made: their memory came from its allocators, so a
  // released session lives on until the last of them is freed.
  std::shared_ptr<Ort::Session> session_;
  std::string provider_;
  Ort::MemoryInfo host_{nullptr};
  Ort::MemoryInfo device_{nullptr};
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
};

}  // namespace marquee
