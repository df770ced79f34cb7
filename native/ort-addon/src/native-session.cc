#include "native-session.h"

#include "device-tensor.h"

namespace marquee {

Napi::Function NativeSession::Init(Napi::Env env) {
  return DefineClass(
      env, "NativeSession",
      {InstanceAccessor<&NativeSession::InputNames>("inputNames"),
       InstanceAccessor<&NativeSession::OutputNames>("outputNames"),
       InstanceAccessor<&NativeSession::Provider>("provider"),
       InstanceMethod<&NativeSession::Run>("run"),
       InstanceMethod<&NativeSession::Release>("release")});
}

// new NativeSession(modelPath, { provider: 'cpu' | 'cuda', intraOpThreads?, deviceId? })
NativeSession::NativeSession(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NativeSession>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "expected the model's path");
  std::string path = info[0].As<Napi::String>();
  Napi::Object options =
      info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>()
                                              : Napi::Object::New(env);
  provider_ = options.Has("provider")
                  ? options.Get("provider").As<Napi::String>().Utf8Value()
                  : "cpu";
  if (provider_ != "cpu" && provider_ != "cuda")
    throw Napi::TypeError::New(env, "provider must be 'cpu' or 'cuda', got '" +
                                        provider_ + "'");
  int device_id = options.Has("deviceId")
                      ? options.Get("deviceId").As<Napi::Number>().Int32Value()
                      : 0;
  Guard(env, [&] {
    Ort::SessionOptions so;
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    if (options.Has("intraOpThreads"))
      so.SetIntraOpNumThreads(
          options.Get("intraOpThreads").As<Napi::Number>().Int32Value());
    if (provider_ == "cuda") {
      OrtCUDAProviderOptions cuda;
      cuda.device_id = device_id;
      so.AppendExecutionProvider_CUDA(cuda);
    }
    session_ = std::make_shared<Ort::Session>(Environment(), path.c_str(), so);
    host_ = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
    device_ = provider_ == "cuda"
                  ? Ort::MemoryInfo("Cuda", OrtDeviceAllocator, device_id,
                                    OrtMemTypeDefault)
                  : Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator,
                                               OrtMemTypeDefault);
    Ort::AllocatorWithDefaultOptions allocator;
    for (size_t i = 0; i < session_->GetInputCount(); i++)
      input_names_.push_back(
          session_->GetInputNameAllocated(i, allocator).get());
    for (size_t i = 0; i < session_->GetOutputCount(); i++)
      output_names_.push_back(
          session_->GetOutputNameAllocated(i, allocator).get());
  });
}

Ort::Session& NativeSession::Session(const Napi::Env& env) {
  if (!session_) throw Napi::Error::New(env, "the session was released");
  return *session_;
}

static Napi::Array Strings(Napi::Env env, const std::vector<std::string>& list) {
  Napi::Array array = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); i++) array.Set(i, list[i]);
  return array;
}

Napi::Value NativeSession::InputNames(const Napi::CallbackInfo& info) {
  return Strings(info.Env(), input_names_);
}

Napi::Value NativeSession::OutputNames(const Napi::CallbackInfo& info) {
  return Strings(info.Env(), output_names_);
}

Napi::Value NativeSession::Provider(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), provider_);
}

// A host tensor { type, dims, data } over the typed array's own memory (no copy; the run is
// synchronous, so the array outlives it).
static Ort::Value HostTensor(Napi::Env env, const Ort::MemoryInfo& host,
                             const std::string& name, Napi::Object tensor) {
  ElementType type =
      ParseElementType(env, tensor.Get("type").As<Napi::String>().Utf8Value());
  Napi::Array dims_array = tensor.Get("dims").As<Napi::Array>();
  std::vector<int64_t> dims;
  size_t count = 1;
  for (uint32_t i = 0; i < dims_array.Length(); i++) {
    int64_t d = dims_array.Get(i).As<Napi::Number>().Int64Value();
    if (d < 0)
      throw Napi::RangeError::New(env, name + ": dims must not be negative");
    dims.push_back(d);
    count *= static_cast<size_t>(d);
  }
  Napi::Value data = tensor.Get("data");
  if (!data.IsTypedArray())
    throw Napi::TypeError::New(env, name + ": data must be a typed array");
  Napi::TypedArray array = data.As<Napi::TypedArray>();
  size_t bytes = count * ElementBytes(type);
  if (array.ByteLength() != bytes)
    throw Napi::RangeError::New(
        env, name + ": data holds " + std::to_string(array.ByteLength()) +
                 " bytes, dims need " + std::to_string(bytes));
  void* pointer = static_cast<uint8_t*>(array.ArrayBuffer().Data()) +
                  array.ByteOffset();
  return Ort::Value::CreateTensor(host, pointer, bytes, dims.data(),
                                  dims.size(), ToOnnx(type));
}

// run(feeds: { [input]: HostTensor | DeviceTensor }, outputs: { [output]: 'host' | 'device' })
//   -> { [output]: Float32Array | Uint16Array | BigInt64Array (host) | DeviceTensor (device) }
Napi::Value NativeSession::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject())
    throw Napi::TypeError::New(env, "expected run(feeds, outputs)");
  Napi::Object feeds = info[0].As<Napi::Object>();
  Napi::Object outputs = info[1].As<Napi::Object>();
  return Guard(env, [&]() -> Napi::Value {
    Ort::Session& session = Session(env);
    Ort::IoBinding binding(session);
    std::vector<Ort::Value> held;  // host inputs, alive until the run ends
    Napi::Array feed_names = feeds.GetPropertyNames();
    for (uint32_t i = 0; i < feed_names.Length(); i++) {
      std::string name = feed_names.Get(i).As<Napi::String>();
      Napi::Value feed = feeds.Get(name);
      if (DeviceTensor::IsInstance(feed)) {
        binding.BindInput(
            name.c_str(),
            DeviceTensor::Unwrap(feed.As<Napi::Object>())->Value(env));
      } else if (feed.IsObject()) {
        held.push_back(HostTensor(env, host_, name, feed.As<Napi::Object>()));
        binding.BindInput(name.c_str(), held.back());
      } else {
        throw Napi::TypeError::New(env, name + ": expected a tensor");
      }
    }
    Napi::Array output_names = outputs.GetPropertyNames();
    std::vector<bool> on_device;
    for (uint32_t i = 0; i < output_names.Length(); i++) {
      std::string name = output_names.Get(i).As<Napi::String>();
      std::string where = outputs.Get(name).As<Napi::String>();
      if (where != "host" && where != "device")
        throw Napi::TypeError::New(env,
                                   name + ": expected 'host' or 'device'");
      on_device.push_back(where == "device");
      binding.BindOutput(name.c_str(), where == "device" ? device_ : host_);
    }
    session.Run(Ort::RunOptions{}, binding);
    std::vector<std::string> names = binding.GetOutputNames();
    std::vector<Ort::Value> values = binding.GetOutputValues();
    Napi::Object result = Napi::Object::New(env);
    for (size_t i = 0; i < names.size(); i++) {
      bool device = false;
      for (uint32_t j = 0; j < output_names.Length(); j++)
        if (output_names.Get(j).As<Napi::String>().Utf8Value() == names[i])
          device = on_device[j];
      result.Set(names[i],
                 device ? DeviceTensor::Wrap(env, std::move(values[i]), session_)
                        : HostArray(env, values[i]));
    }
    return result;
  });
}

void NativeSession::Release(const Napi::CallbackInfo&) { session_.reset(); }

}  // namespace marquee
