#include "device-tensor.h"

#include <atomic>
#include <cstring>

namespace marquee {

Napi::FunctionReference* DeviceTensor::constructor_ = nullptr;
static std::atomic<int64_t> live{0};

int64_t DeviceTensor::Live() { return live.load(); }

Napi::Function DeviceTensor::Init(Napi::Env env) {
  Napi::Function fn = DefineClass(
      env, "DeviceTensor",
      {InstanceAccessor<&DeviceTensor::Dims>("dims"),
       InstanceAccessor<&DeviceTensor::Type>("type"),
       InstanceMethod<&DeviceTensor::ToHost>("toHost"),
       InstanceMethod<&DeviceTensor::Release>("release")});
  constructor_ = new Napi::FunctionReference(Napi::Persistent(fn));
  return fn;
}

DeviceTensor::DeviceTensor(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<DeviceTensor>(info) {}

DeviceTensor::~DeviceTensor() { Free(); }

void DeviceTensor::Free() {
  if (value_) live--;
  value_ = Ort::Value(nullptr);
  owner_.reset();
}

Napi::Object DeviceTensor::Wrap(Napi::Env env, Ort::Value value,
                                std::shared_ptr<const void> owner) {
  Napi::Object object = constructor_->New({});
  DeviceTensor* tensor = Unwrap(object);
  tensor->value_ = std::move(value);
  tensor->owner_ = std::move(owner);
  if (tensor->value_) live++;
  return object;
}

bool DeviceTensor::IsInstance(const Napi::Value& value) {
  return value.IsObject() &&
         value.As<Napi::Object>().InstanceOf(constructor_->Value());
}

DeviceTensor* DeviceTensor::Unwrap(const Napi::Object& object) {
  return Napi::ObjectWrap<DeviceTensor>::Unwrap(object);
}

const Ort::Value& DeviceTensor::Value(const Napi::Env& env) const {
  if (!value_) throw Napi::Error::New(env, "the device tensor was released");
  return value_;
}

Napi::Value DeviceTensor::Dims(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto shape = Value(env).GetTensorTypeAndShapeInfo().GetShape();
    Napi::Array dims = Napi::Array::New(env, shape.size());
    for (size_t i = 0; i < shape.size(); i++)
      dims.Set(i, Napi::Number::New(env, static_cast<double>(shape[i])));
    return dims;
  });
}

Napi::Value DeviceTensor::Type(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto type = Value(env).GetTensorTypeAndShapeInfo().GetElementType();
    return Napi::String::New(env, ElementTypeName(FromOnnx(type)));
  });
}

// Copies a tensor in host memory into a new typed array (Uint16Array for fp16).
Napi::Value HostArray(Napi::Env env, const Ort::Value& value) {
  auto info = value.GetTensorTypeAndShapeInfo();
  ElementType type = FromOnnx(info.GetElementType());
  size_t count = info.GetElementCount();
  size_t bytes = count * ElementBytes(type);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0)
    std::memcpy(buffer.Data(), value.GetTensorRawData(), bytes);
  switch (type) {
    case ElementType::kFloat32:
      return Napi::Float32Array::New(env, count, buffer, 0);
    case ElementType::kFloat16:
      return Napi::Uint16Array::New(env, count, buffer, 0);
    case ElementType::kInt64:
      return Napi::TypedArrayOf<int64_t>::New(env, count, buffer, 0,
                                              napi_bigint64_array);
  }
  return env.Undefined();
}

Napi::Value DeviceTensor::ToHost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const Ort::Value& value = Value(env);
    auto memory = value.GetTensorMemoryInfo();
    if (memory.GetDeviceType() != OrtMemoryInfoDeviceType_CPU)
      throw Napi::Error::New(
          env,
          "toHost() reads tensors in host memory only; bind the output to the "
          "host to read it");
    return HostArray(env, value);
  });
}

void DeviceTensor::Release(const Napi::CallbackInfo&) { Free(); }

}  // namespace marquee
