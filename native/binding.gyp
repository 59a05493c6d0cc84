{
  "targets": [
    {
      "target_name": "selfsup",
      "sources": [
        "src/addon.cc",
        "src/handle.cc",
        "src/allocator.cc",
        "src/creation.cc",
        "src/pointwise.cc",
        "src/reduction.cc",
        "src/shape.cc",
        "src/indexing.cc",
        "src/linalg.cc",
        "src/nn.cc",
        "src/loss.cc",
        "src/autograd.cc",
        "src/optim.cc",
        "src/mmap.cc",
        "src/augment.cc",
        "src/distributed.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node libtorch.cjs includes)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "<!@(node libtorch.cjs defines)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": ["<!@(node libtorch.cjs libs)"]
    }
  ]
}
