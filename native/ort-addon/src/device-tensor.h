// A tensor that stays in the session's device memory (GPU memory on CUDA) between runs: the
// KV cache a decode step writes is handed to the next step without crossing to the host.
#pragma once

#include "common.h"

#include <memory>

namespace marquee {

// A copy of a tensor in host memory as a typed array (Uint16Array for fp16, BigInt64Array for int64).
Napi::Value HostArray(Napi::Env env, const Ort::Value& value);

class DeviceTensor : public Napi::ObjectWrap<DeviceTensor> {
 public:
  static Napi::Function Init(Napi::Env env);
  // `owner` keeps the session (and the allocator the value came from) alive while the value is.
  static Napi::Object Wrap(Napi::Env env, Ort::Value value,
                           std::shared_ptr<const void> owner);
  // Device tensors made and not yet freed, all sessions together.
  static int64_t Live();
  static bool IsInstance(const Napi::Value& value);
  static DeviceTensor* Unwrap(const Napi::Object& object);

  explicit DeviceTensor(const Napi::CallbackInfo& info);
  ~DeviceTensor() override;

  // The value, for binding as an input; throws if released.
  const Ort::Value& Value(const Napi::Env& env) const;

 private:
  static Napi::FunctionReference* constructor_;

  Napi::Value Dims(const Napi::CallbackInfo& info);
  Napi::Value Type(const Napi::CallbackInfo& info);
  Napi::Value ToHost(const Napi::CallbackInfo& info);
  void Release(const Napi::CallbackInfo& info);

  void Free();

  // Declared first so it is destroyed last: the value's memory belongs to the owner's allocator.
  std::shared_ptr<const void> owner_;
  Ort::Value value_{nullptr};
};

}  // namespace marquee
