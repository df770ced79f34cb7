// Marquee's ONNX Runtime addon: sessions whose runs keep chosen outputs (the KV cache) in the
// session's device memory between steps, over onnxruntime-node's own libonnxruntime.so.1.
#include "device-tensor.h"
#include "native-session.h"

namespace marquee {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Ort::InitApi();
  exports.Set("NativeSession", NativeSession::Init(env));
  exports.Set("DeviceTensor", DeviceTensor::Init(env));
  exports.Set("ortVersion", Napi::String::New(env, Ort::GetVersionString()));
  exports.Set("liveDeviceTensors",
              Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
                return Napi::Number::New(
                    info.Env(), static_cast<double>(DeviceTensor::Live()));
              }));
  return exports;
}

}  // namespace marquee

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return marquee::Init(env, exports);
}

NODE_API_MODULE(marquee_ort, InitModule)
