#include "common.h"

namespace marquee {

Ort::Env& Environment() {
  static Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "marquee");
  return env;
}

ONNXTensorElementDataType ToOnnx(ElementType type) {
  switch (type) {
    case ElementType::kFloat32:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case ElementType::kFloat16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case ElementType::kInt64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

ElementType FromOnnx(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      return ElementType::kFloat32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
      return ElementType::kFloat16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return ElementType::kInt64;
    default:
      throw Ort::Exception("unsupported tensor element type " +
                               std::to_string(static_cast<int>(type)),
                           ORT_INVALID_ARGUMENT);
  }
}

ElementType ParseElementType(const Napi::Env& env, const std::string& name) {
  if (name == "float32") return ElementType::kFloat32;
  if (name == "float16") return ElementType::kFloat16;
  if (name == "int64") return ElementType::kInt64;
  throw Napi::TypeError::New(env, "unsupported tensor type '" + name +
                                      "' (float32, float16 or int64)");
}

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kFloat32:
      return "float32";
    case ElementType::kFloat16:
      return "float16";
    case ElementType::kInt64:
      return "int64";
  }
  return "unknown";
}

size_t ElementBytes(ElementType type) {
  switch (type) {
    case ElementType::kFloat32:
      return 4;
    case ElementType::kFloat16:
      return 2;
    case ElementType::kInt64:
      return 8;
  }
  return 0;
}

}  // namespace marquee
