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
       InstanceMethod<&NativeSession::RunAsync>("runAsync"),
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

// A run's binding, made on the JS thread: the inputs bound (host tensors over the typed
// arrays' memory, device tensors in place) and the outputs placed. It holds references to the
// feeds, so their memory outlives a run on another thread.
struct PreparedRun {
  std::shared_ptr<Ort::Session> session;
  std::unique_ptr<Ort::IoBinding> binding;
  std::vector<Ort::Value> held;                // host inputs
  std::vector<Napi::ObjectReference> keep;     // their typed arrays and device tensors
  std::vector<std::pair<std::string, bool>> outputs;  // name, on the device
  std::vector<std::string> names;              // filled by the run
  std::vector<Ort::Value> values;

  void Execute() {
    session->Run(Ort::RunOptions{}, *binding);
    names = binding->GetOutputNames();
    values = binding->GetOutputValues();
  }

  // On the JS thread: host outputs become typed arrays, device outputs DeviceTensors.
  Napi::Object Result(Napi::Env env) {
    Napi::Object result = Napi::Object::New(env);
    for (size_t i = 0; i < names.size(); i++) {
      bool device = false;
      for (const auto& [name, on_device] : outputs)
        if (name == names[i]) device = on_device;
      result.Set(names[i], device ? DeviceTensor::Wrap(env, std::move(values[i]),
                                                       session)
                                  : HostArray(env, values[i]));
    }
    return result;
  }
};

std::unique_ptr<PreparedRun> NativeSession::Prepare(
    const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject())
    throw Napi::TypeError::New(env, "expected run(feeds, outputs)");
  Napi::Object feeds = info[0].As<Napi::Object>();
  Napi::Object outputs = info[1].As<Napi::Object>();
  Session(env);
  auto run = std::make_unique<PreparedRun>();
  run->session = session_;
  run->binding = std::make_unique<Ort::IoBinding>(*session_);
  Napi::Array feed_names = feeds.GetPropertyNames();
  run->held.reserve(feed_names.Length());
  for (uint32_t i = 0; i < feed_names.Length(); i++) {
    std::string name = feed_names.Get(i).As<Napi::String>();
    Napi::Value feed = feeds.Get(name);
    if (DeviceTensor::IsInstance(feed)) {
      run->binding->BindInput(
          name.c_str(),
          DeviceTensor::Unwrap(feed.As<Napi::Object>())->Value(env));
      run->keep.push_back(Napi::Persistent(feed.As<Napi::Object>()));
    } else if (feed.IsObject()) {
      Napi::Object tensor = feed.As<Napi::Object>();
      run->held.push_back(HostTensor(env, host_, name, tensor));
      run->binding->BindInput(name.c_str(), run->held.back());
      run->keep.push_back(Napi::Persistent(tensor.Get("data").As<Napi::Object>()));
    } else {
      throw Napi::TypeError::New(env, name + ": expected a tensor");
    }
  }
  Napi::Array output_names = outputs.GetPropertyNames();
  for (uint32_t i = 0; i < output_names.Length(); i++) {
    std::string name = output_names.Get(i).As<Napi::String>();
    std::string where = outputs.Get(name).As<Napi::String>();
    if (where != "host" && where != "device")
      throw Napi::TypeError::New(env, name + ": expected 'host' or 'device'");
    run->outputs.emplace_back(name, where == "device");
    run->binding->BindOutput(name.c_str(), where == "device" ? device_ : host_);
  }
  return run;
}

// run(feeds: { [input]: HostTensor | DeviceTensor }, outputs: { [output]: 'host' | 'device' })
//   -> { [output]: Float32Array | Uint16Array | BigInt64Array (host) | DeviceTensor (device) }
Napi::Value NativeSession::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto run = Prepare(info);
    run->Execute();
    return run->Result(env);
  });
}

// The same run on a libuv worker thread; the JS thread stays free meanwhile.
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::unique_ptr<PreparedRun> run)
      : Napi::AsyncWorker(env, "marquee.ort.run"),
        run_(std::move(run)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      run_->Execute();
    } catch (const Ort::Exception& e) {
      SetError(std::string("ONNX Runtime: ") + e.what());
    } catch (const std::bad_alloc&) {
      SetError("ONNX Runtime: out of memory");
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(Guard(env, [&] { return run_->Result(env); }));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::unique_ptr<PreparedRun> run_;
  Napi::Promise::Deferred deferred_;
};

// runAsync(feeds, outputs) -> Promise of what run() returns; bad arguments throw at once.
Napi::Value NativeSession::RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto* worker = new RunWorker(env, Prepare(info));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

void NativeSession::Release(const Napi::CallbackInfo&) { session_.reset(); }

}  // namespace marquee
