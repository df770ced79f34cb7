{
  # Marquee's ONNX Runtime addon: built by tools/ort-addon/build.sh, which passes where the
  # ONNX Runtime C/C++ API headers (API 29, fetched once) and onnxruntime-node's own
  # libonnxruntime.so.1 (1.29.0) are.
  "variables": {
    "ort_include%": "",
    "ort_lib_dir%": ""
  },
  "targets": [
    {
      "target_name": "marquee_ort",
      "sources": ["src/addon.cc", "src/common.cc", "src/native-session.cc", "src/device-tensor.cc", "src/device-copy.cc", "src/widen.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(ort_include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "ORT_API_MANUAL_INIT"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-L<(ort_lib_dir)", "-l:libonnxruntime.so.1", "-Wl,-rpath,<(ort_lib_dir)", "-ldl"]
    }
  ]
}
