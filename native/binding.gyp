{
  "targets": [
    {
      "target_name": "selfsup",
      "sources": [
        "src/addon.cc",
        "src/handle.cc",
        "src/ops/creation.cc",
        "src/ops/pointwise.cc",
        "src/ops/reduction.cc",
        "src/ops/shape.cc",
        "src/ops/indexing.cc",
        "src/ops/linalg.cc",
        "src/ops/nn.cc",
        "src/ops/loss.cc",
        "src/ops/autograd.cc",
        "src/ops/optim.cc",
        "src/runtime/allocator.cc",
        "src/runtime/mmap.cc",
        "src/runtime/augment.cc",
        "src/runtime/distributed.cc"
      ],
      "include_dirs": [
        "src",
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
      "cflags_cc": ["<!@(node libtorch.cjs std)", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": ["<!@(node libtorch.cjs libs)"]
    }
  ]
}
