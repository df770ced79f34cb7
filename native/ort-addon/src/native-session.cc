#include "native-session.h"

#include "device-copy.h"
#include "device-tensor.h"
#include "widen.h"

#include <stdexcept>

namespace marquee {

// An ONNX element type's name: the three the addon moves, else ONNX's own spelling.
static std::string OnnxTypeName(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
      return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
      return "bool";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return "int32";
    default:
      return "onnx-type-" + std::to_string(static_cast<int>(type));
  }
}

Napi::Function NativeSession::Init(Napi::Env env) {
  return DefineClass(
      env, "NativeSession",
      {InstanceAccessor<&NativeSession::InputNames>("inputNames"),
       InstanceAccessor<&NativeSession::OutputNames>("outputNames"),
       InstanceAccessor<&NativeSession::Provider>("provider"),
       InstanceAccessor<&NativeSession::InputTypes>("inputTypes"),
       InstanceMethod<&NativeSession::Gather>("gather"),
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
  device_id_ = options.Has("deviceId")
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
      cuda.device_id = device_id_;
      so.AppendExecutionProvider_CUDA(cuda);
    }
    state_ = std::make_shared<SessionState>(path, so);
    Ort::Session& session = state_->session;
    host_ = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
    device_ = provider_ == "cuda"
                  ? Ort::MemoryInfo("Cuda", OrtDeviceAllocator, device_id_,
                                    OrtMemTypeDefault)
                  : Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator,
                                               OrtMemTypeDefault);
    Ort::AllocatorWithDefaultOptions allocator;
    for (size_t i = 0; i < session.GetInputCount(); i++) {
      input_names_.push_back(session.GetInputNameAllocated(i, allocator).get());
      Ort::TypeInfo type = session.GetInputTypeInfo(i);
      if (type.GetONNXType() != ONNX_TYPE_TENSOR) {
        input_types_.push_back({"not-a-tensor", {}});
        continue;
      }
      auto tensor = type.GetTensorTypeAndShapeInfo();
      input_types_.push_back(
          {OnnxTypeName(tensor.GetElementType()), tensor.GetShape()});
    }
    for (size_t i = 0; i < session.GetOutputCount(); i++)
      output_names_.push_back(
          session.GetOutputNameAllocated(i, allocator).get());
  });
}

SessionState& NativeSession::State(const Napi::Env& env) {
  if (!state_) throw Napi::Error::New(env, "the session was released");
  return *state_;
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

// inputTypes: { [input]: { type, dims } }, dims -1 where the graph leaves them symbolic.
Napi::Value NativeSession::InputTypes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object types = Napi::Object::New(env);
  for (size_t i = 0; i < input_names_.size(); i++) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("type", input_types_[i].first);
    const auto& shape = input_types_[i].second;
    Napi::Array dims = Napi::Array::New(env, shape.size());
    for (size_t d = 0; d < shape.size(); d++)
      dims.Set(d, Napi::Number::New(env, static_cast<double>(shape[d])));
    entry.Set("dims", dims);
    types.Set(input_names_[i], entry);
  }
  return types;
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

// Where a run leaves an output: copied to the host as it is, kept in device memory, or (for
// [batch, positions, vocab] logits) only each row's last position, read back and widened to
// fp32 off the JS thread: a prefill's logits for every prompt position never cross to the host.
enum class Placement { kHost, kDevice, kLastFloat32 };

// A [batch, positions, width] fp16/fp32 tensor's last position per row, as fp32 on the host.
static std::vector<float>* LastRowsFloat32(const Ort::Value& value, bool cuda,
                                           int device_id) {
  auto info = value.GetTensorTypeAndShapeInfo();
  auto shape = info.GetShape();
  ElementType type = FromOnnx(info.GetElementType());
  if (shape.size() != 3 || type == ElementType::kInt64)
    throw Ort::Exception(
        "'last-float32' takes a [batch, positions, width] float tensor",
        ORT_INVALID_ARGUMENT);
  const size_t rows = shape[0], positions = shape[1], width = shape[2];
  const size_t element = ElementBytes(type);
  auto* out = new std::vector<float>(rows * width);
  if (positions == 0 || rows * width == 0) return out;
  const auto* src = static_cast<const uint8_t*>(value.GetTensorRawData()) +
                    (positions - 1) * width * element;
  std::vector<uint8_t> staging;
  void* last = type == ElementType::kFloat32 ? static_cast<void*>(out->data())
                                             : nullptr;
  if (!last) {
    staging.resize(rows * width * element);
    last = staging.data();
  }
  try {
    DeviceCopy copy(cuda, device_id);
    copy.Copy2D(last, width * element, src, positions * width * element,
                width * element, rows, /*to_host=*/true);
    copy.Finish();
  } catch (const std::runtime_error& e) {
    delete out;
    throw Ort::Exception(e.what(), ORT_FAIL);
  }
  if (type == ElementType::kFloat16)
    WidenFp16(reinterpret_cast<const uint16_t*>(staging.data()), out->data(),
              rows * width);
  return out;
}

// A run's binding, made on the JS thread: the inputs bound (host tensors over the typed
// arrays' memory, device tensors in place) and the outputs placed. It holds references to the
// feeds, so their memory outlives a run on another thread.
struct PreparedRun {
  std::shared_ptr<SessionState> state;
  std::unique_ptr<Ort::IoBinding> binding;
  std::vector<Ort::Value> held;                // host inputs
  std::vector<Napi::ObjectReference> keep;     // their typed arrays and device tensors
  std::vector<std::pair<std::string, Placement>> outputs;
  bool cuda = false;
  int device_id = 0;
  std::vector<std::string> names;              // filled by the run
  std::vector<Ort::Value> values;
  std::vector<std::unique_ptr<std::vector<float>>> last_rows;  // kLastFloat32 outputs

  Placement PlacementOf(const std::string& name) const {
    for (const auto& [output, placement] : outputs)
      if (output == name) return placement;
    return Placement::kHost;
  }

  // The run, then the last-position reads (so on the worker thread for runAsync).
  void Execute() {
    state->session.Run(Ort::RunOptions{}, *binding);
    names = binding->GetOutputNames();
    values = binding->GetOutputValues();
    last_rows.resize(names.size());
    for (size_t i = 0; i < names.size(); i++)
      if (PlacementOf(names[i]) == Placement::kLastFloat32) {
        last_rows[i].reset(LastRowsFloat32(values[i], cuda, device_id));
        values[i] = Ort::Value(nullptr);  // its device memory goes back now
      }
  }

  // On the JS thread: host outputs become typed arrays, device outputs DeviceTensors.
  Napi::Object Result(Napi::Env env) {
    Napi::Object result = Napi::Object::New(env);
    for (size_t i = 0; i < names.size(); i++) {
      switch (PlacementOf(names[i])) {
        case Placement::kDevice:
          result.Set(names[i],
                     DeviceTensor::Wrap(env, std::move(values[i]), state));
          break;
        case Placement::kHost:
          result.Set(names[i], HostArray(env, values[i]));
          break;
        case Placement::kLastFloat32: {
          std::vector<float>* rows = last_rows[i].release();
          Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
              env, rows->data(), rows->size() * sizeof(float),
              [](Napi::Env, void*, std::vector<float>* owned) { delete owned; },
              rows);
          result.Set(names[i],
                     Napi::Float32Array::New(env, rows->size(), buffer, 0));
          break;
        }
      }
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
  State(env);
  auto run = std::make_unique<PreparedRun>();
  run->state = state_;
  run->binding = std::make_unique<Ort::IoBinding>(state_->session);
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
  run->cuda = provider_ == "cuda";
  run->device_id = device_id_;
  Napi::Array output_names = outputs.GetPropertyNames();
  for (uint32_t i = 0; i < output_names.Length(); i++) {
    std::string name = output_names.Get(i).As<Napi::String>();
    Napi::Value where_value = outputs.Get(name);
    std::string where =
        where_value.IsString() ? where_value.As<Napi::String>().Utf8Value() : "";
    Placement placement;
    if (where == "host")
      placement = Placement::kHost;
    else if (where == "device")
      placement = Placement::kDevice;
    else if (where == "last-float32")
      placement = Placement::kLastFloat32;
    else
      throw Napi::TypeError::New(
          env, name + ": expected 'host', 'device' or 'last-float32'");
    run->outputs.emplace_back(name, placement);
    run->binding->BindOutput(name.c_str(),
                             placement == Placement::kHost ? host_ : device_);
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

// gather(type, dims: [rows, heads, length, headDim], sources: (DeviceTensor | null)[],
//        rows: number[], keeps: number[]) -> DeviceTensor
// A new tensor in the session's device memory whose row i holds the last keeps[i] positions of
// row rows[i] of sources[i] (each [batch, heads, positions, headDim]), right-aligned, with zeros
// before them: how the engine composes a batch's KV cache from sequences of other batches
// without the cache leaving the device. A source may be null where its keep is 0.
Napi::Value NativeSession::Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsString() || !info[1].IsArray() ||
      !info[2].IsArray() || !info[3].IsArray() || !info[4].IsArray())
    throw Napi::TypeError::New(
        env, "expected gather(type, dims, sources, rows, keeps)");
  ElementType type = ParseElementType(env, info[0].As<Napi::String>());
  Napi::Array dims_array = info[1].As<Napi::Array>();
  Napi::Array sources = info[2].As<Napi::Array>();
  Napi::Array rows = info[3].As<Napi::Array>();
  Napi::Array keeps = info[4].As<Napi::Array>();
  if (dims_array.Length() != 4)
    throw Napi::RangeError::New(env, "dims must be [rows, heads, length, headDim]");
  std::vector<int64_t> dims;
  for (uint32_t i = 0; i < 4; i++) {
    int64_t d = dims_array.Get(i).As<Napi::Number>().Int64Value();
    if (d < 0) throw Napi::RangeError::New(env, "dims must not be negative");
    dims.push_back(d);
  }
  const int64_t count = dims[0], heads = dims[1], length = dims[2],
                head_dim = dims[3];
  if (sources.Length() != count || rows.Length() != count ||
      keeps.Length() != count)
    throw Napi::RangeError::New(env,
                                "sources, rows and keeps need one entry per row");
  SessionState& state = State(env);
  return Guard(env, [&]() -> Napi::Value {
    const size_t element = ElementBytes(type);
    const size_t position_bytes = static_cast<size_t>(head_dim) * element;
    Ort::Value out = Ort::Value::CreateTensor(
        state.DeviceAllocator(device_), dims.data(), dims.size(), ToOnnx(type));
    auto* dst = static_cast<uint8_t*>(out.GetTensorMutableRawData());
    bool cuda = out.GetTensorMemoryInfo().GetDeviceType() ==
                OrtMemoryInfoDeviceType_GPU;
    try {
      DeviceCopy copy(cuda, device_id_);
      copy.Zero(dst, static_cast<size_t>(count * heads * length) * position_bytes);
      for (int64_t i = 0; i < count; i++) {
        int64_t keep = keeps.Get(i).As<Napi::Number>().Int64Value();
        int64_t row = rows.Get(i).As<Napi::Number>().Int64Value();
        if (keep == 0) continue;
        Napi::Value source = sources.Get(i);
        if (!DeviceTensor::IsInstance(source))
          throw Napi::TypeError::New(
              env, "sources[" + std::to_string(i) + "]: expected a DeviceTensor");
        const Ort::Value& value =
            DeviceTensor::Unwrap(source.As<Napi::Object>())->Value(env);
        auto shape = value.GetTensorTypeAndShapeInfo().GetShape();
        if (FromOnnx(value.GetTensorTypeAndShapeInfo().GetElementType()) != type ||
            shape.size() != 4 || shape[1] != heads || shape[3] != head_dim ||
            value.GetTensorMemoryInfo().GetDeviceType() !=
                out.GetTensorMemoryInfo().GetDeviceType())
          throw Napi::TypeError::New(
              env, "sources[" + std::to_string(i) +
                       "]: not a " + ElementTypeName(type) +
                       " tensor of the same heads and headDim in this device's memory");
        if (row < 0 || row >= shape[0] || keep < 0 || keep > shape[2] ||
            keep > length)
          throw Napi::RangeError::New(
              env, "row " + std::to_string(i) + ": cannot keep " +
                       std::to_string(keep) + " positions of row " +
                       std::to_string(row) + " of a [" +
                       std::to_string(shape[0]) + ", " + std::to_string(shape[1]) +
                       ", " + std::to_string(shape[2]) + ", " +
                       std::to_string(shape[3]) + "] tensor in " +
                       std::to_string(length));
        const int64_t from_length = shape[2];
        const auto* src = static_cast<const uint8_t*>(value.GetTensorRawData());
        // Each head's kept positions are contiguous: one 2D copy moves them for all heads.
        copy.Copy2D(
            dst + static_cast<size_t>(i * heads * length + length - keep) * position_bytes,
            static_cast<size_t>(length) * position_bytes,
            src + static_cast<size_t>(row * heads * from_length + from_length - keep) *
                      position_bytes,
            static_cast<size_t>(from_length) * position_bytes,
            static_cast<size_t>(keep) * position_bytes, static_cast<size_t>(heads));
      }
      copy.Finish();
    } catch (const std::runtime_error& e) {
      throw Napi::Error::New(env, e.what());
    }
    return DeviceTensor::Wrap(env, std::move(out), state_);
  });
}

void NativeSession::Release(const Napi::CallbackInfo&) { state_.reset(); }

}  // namespace marquee
