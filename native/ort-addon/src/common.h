// Shared pieces of Marquee's ONNX Runtime addon: the environment, the element types it moves,
// and turning ONNX Runtime's exceptions into JavaScript errors.
#pragma once

#include <napi.h>

#include <onnxruntime_cxx_api.h>

#include <string>
#include <vector>

namespace marquee {

// One ONNX Runtime environment per process (ORT requires a single one).
Ort::Env& Environment();

// Element types the engine moves: fp32 and fp16 activations, int64 ids and masks.
enum class ElementType { kFloat32, kFloat16, kInt64 };

ONNXTensorElementDataType ToOnnx(ElementType type);
ElementType FromOnnx(ONNXTensorElementDataType type);
ElementType ParseElementType(const Napi::Env& env, const std::string& name);
const char* ElementTypeName(ElementType type);
size_t ElementBytes(ElementType type);

// Runs `body`, rethrowing ONNX Runtime's errors as JavaScript errors with its message.
template <typename Body>
auto Guard(const Napi::Env& env, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Ort::Exception& e) {
    throw Napi::Error::New(env, std::string("ONNX Runtime: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "ONNX Runtime: out of memory");
  }
}

}  // namespace marquee
