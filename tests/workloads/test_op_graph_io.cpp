#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sim/error.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/op_graph_io.hpp"

using namespace workloads;

namespace {

// The example of docs/op-graph-format.md.
const char* const kExample = R"(format: warpsim-op-graph
version: 1
name: tiny-cnn
dtype: fp16            # default for tensors that do not give one
tensors:
  - {name: image, shape: [8, 3, 32, 32]}
  - {name: conv.weight, shape: [16, 3, 3, 3], parameter: true}
  - {name: conv, shape: [8, 16, 32, 32]}
  - {name: relu, shape: [8, 16, 32, 32]}
  - {name: pool, shape: [8, 16]}
  - {name: fc.weight, shape: [10, 16], parameter: true}
  - {name: fc.bias, shape: [10], parameter: true}
  - {name: logits, shape: [8, 10], dtype: fp32}
ops:
  - name: conv
    kind: conv
    inputs: [image, conv.weight]
    outputs: [conv]
    kernel: 3
    padding: 1
  - {name: relu, kind: activation, function: relu, inputs: [conv], outputs: [relu]}
  - {name: pool, kind: global_pool, function: avg, inputs: [relu], outputs: [pool]}
  - name: fc
    kind: gemm
    inputs: [pool, fc.weight, fc.bias]
    outputs: [logits]
    transpose_b: true
)";

void check_same(const OpGraph& a, const OpGraph& b) {
  CHECK(a.name() == b.name());
  REQUIRE(a.tensor_count() == b.tensor_count());
  REQUIRE(a.op_count() == b.op_count());
  for (TensorId t = 0; t < static_cast<TensorId>(a.tensor_count()); ++t) {
    const Tensor &x = a.tensor(t), &y = b.tensor(t);
    CAPTURE(x.name);
    CHECK(x.name == y.name);
    CHECK(x.shape == y.shape);
    CHECK(x.dtype == y.dtype);
    CHECK(x.parameter == y.parameter);
  }
  for (OpId i = 0; i < static_cast<OpId>(a.op_count()); ++i) {
    const Op &x = a.op(i), &y = b.op(i);
    CAPTURE(x.name);
    CHECK(x.name == y.name);
    CHECK(x.kind == y.kind);
    CHECK(x.phase == y.phase);
    CHECK(x.pass == y.pass);
    CHECK(x.inputs == y.inputs);
    CHECK(x.outputs == y.outputs);
    CHECK(x.deps == y.deps);
    CHECK(x.kernel == y.kernel);
    CHECK(x.stride == y.stride);
    CHECK(x.padding == y.padding);
    CHECK(x.dilation == y.dilation);
    CHECK(x.groups == y.groups);
    CHECK(x.function == y.function);
    CHECK(x.axis == y.axis);
    CHECK(x.axes == y.axes);
    CHECK(x.keep_dims == y.keep_dims);
    CHECK(x.transpose_a == y.transpose_a);
    CHECK(x.transpose_b == y.transpose_b);
  }
}

std::string error_of(const std::string& text, GraphFormat format) {
  try {
    parse_op_graph(text, format, "g.yaml");
  } catch (const sim::InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the documented example parses") {
  const OpGraph g = parse_op_graph(kExample, GraphFormat::yaml, "example.yaml");
  CHECK(g.name() == "tiny-cnn");
  CHECK(g.op_count() == 4);
  CHECK(g.parameter_count() == 16 * 27 + 10 * 16 + 10);
  CHECK(g.tensor(*g.find_tensor("image")).dtype == DType::fp16);
  CHECK(g.tensor(*g.find_tensor("logits")).dtype == DType::fp32);
  const Op& conv = g.op(0);
  CHECK(conv.kernel == Hw{3, 3});
  CHECK(conv.padding == Hw{1, 1});
  CHECK(conv.stride == Hw{1, 1});
  CHECK(g.op(3).deps == std::vector<OpId>{2});
  CHECK(g.op(3).transpose_b);
}

TEST_CASE("YAML and JSON round trips keep every field") {
  for (bool training : {false, true}) {
    CAPTURE(training);
    const OpGraph g = make_model("efficientnet_b0", {.batch = 2,
                                                     .image_size = 64,
                                                     .num_classes = 10,
                                                     .dtype = DType::bf16,
                                                     .training = training});
    for (GraphFormat f : {GraphFormat::yaml, GraphFormat::json}) {
      CAPTURE(static_cast<int>(f));
      const std::string text = format_op_graph(g, f);
      const OpGraph back = parse_op_graph(text, f, "roundtrip");
      check_same(g, back);
      CHECK(format_op_graph(back, f) == text);
    }
  }
}

TEST_CASE("awkward names survive both forms") {
  OpGraph g("null");
  const TensorId a = g.add_tensor("null", {2}, DType::int8);
  const TensorId b = g.add_tensor("true", {2}, DType::int8);
  const TensorId c = g.add_tensor("1e3: \"quoted\", [x]", {2}, DType::int8);
  Op op;
  op.name = "~";
  op.kind = OpKind::elementwise;
  op.function = "add";
  op.inputs = {a, b};
  op.outputs = {c};
  g.add_op(op);
  for (GraphFormat f : {GraphFormat::yaml, GraphFormat::json})
    check_same(g, parse_op_graph(format_op_graph(g, f), f, "names"));
}

TEST_CASE("files: write, read back, and missing files") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("warpsim-op-graph-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const OpGraph g = make_model("mobilenet_v2", {.image_size = 32});
  for (const char* name : {"g.yaml", "g.json"}) {
    write_op_graph(g, dir / name);
    check_same(g, read_op_graph(dir / name));
  }
  CHECK_THROWS_WITH_AS(read_op_graph(dir / "absent.yaml"), doctest::Contains("no such file"),
                       sim::InputError);
  CHECK_THROWS_WITH_AS(read_op_graph(dir / "g.txt"), doctest::Contains("use .yaml, .yml or .json"),
                       sim::InputError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("malformed op graphs give located, specific errors") {
  const std::string head = "tensors:\n  - {name: x, shape: [1, 3, 8, 8]}\n";
  struct Case {
    const char* what;
    std::string text;
    GraphFormat format;
    std::vector<std::string> expect;  // substrings of the message
  };
  const Case cases[] = {
      {"cycle",
       "tensors:\n"
       "  - {name: x, shape: [4]}\n"
       "  - {name: a, shape: [4]}\n"
       "  - {name: b, shape: [4]}\n"
       "ops:\n"
       "  - {name: first, kind: activation, function: relu, inputs: [b], outputs: [a]}\n"
       "  - {name: second, kind: activation, function: relu, inputs: [a], outputs: [b]}\n",
       GraphFormat::yaml,
       {"g.yaml:6:5", "op 'first' is on a dependency cycle", "second -> first -> second"}},
      {"cycle through explicit deps",
       head + "  - {name: y, shape: [1, 3, 8, 8]}\nops:\n"
              "  - {name: a, kind: activation, function: relu, inputs: [x], outputs: [y], "
              "deps: [a]}\n",
       GraphFormat::yaml,
       {"g.yaml:5:5", "depends on itself"}},
      {"unknown op kind",
       head + "ops:\n  - {name: c, kind: conv2d, inputs: [x], outputs: [x]}\n",
       GraphFormat::yaml,
       {"g.yaml:4:21", "unknown op kind 'conv2d' (did you mean 'conv'?)"}},
      {"negative shape",
       "tensors:\n  - {name: x, shape: [1, -3, 8, 8]}\nops: []\n",
       GraphFormat::yaml,
       {"g.yaml:2:26", "a dimension must be in [1, 2^40], got -3"}},
      {"absurd shape",
       "tensors:\n  - {name: x, shape: [1, 100000000000000]}\nops: []\n",
       GraphFormat::yaml,
       {"g.yaml:2:26", "got 100000000000000"}},
      {"unknown key with a suggestion",
       head + "  - {name: y, shape: [1, 3, 8, 8]}\nops:\n"
              "  - name: p\n    kind: pool_max\n    inputs: [x]\n    outputs: [y]\n"
              "    kernel: 3\n    paddign: 1\n",
       GraphFormat::yaml,
       {"g.yaml:10:5", "unknown key 'paddign' in 'ops.0' (did you mean 'padding'?)"}},
      {"attribute of another kind",
       head + "  - {name: y, shape: [1, 3, 8, 8]}\nops:\n"
              "  - {name: r, kind: activation, function: relu, inputs: [x], outputs: [y], "
              "kernel: 3}\n",
       GraphFormat::yaml,
       {"unknown key 'kernel' in 'ops.0'"}},
      {"unknown tensor",
       head + "ops:\n  - {name: r, kind: activation, function: relu, inputs: [xx], outputs: [x]}\n",
       GraphFormat::yaml,
       {"g.yaml:4:58", "unknown tensor 'xx' (did you mean 'x'?)"}},
      {"unknown function",
       head + "  - {name: y, shape: [1, 3, 8, 8]}\nops:\n"
              "  - {name: r, kind: activation, function: rleu, inputs: [x], outputs: [y]}\n",
       GraphFormat::yaml,
       {"unknown function 'rleu' for activation (did you mean 'relu'?)"}},
      {"shape mismatch, at the op",
       head + "  - {name: w, shape: [4, 3, 3, 3], parameter: true}\n"
              "  - {name: y, shape: [1, 4, 6, 6]}\nops:\n"
              "  - {name: c, kind: conv, inputs: [x, w], outputs: [y], kernel: 3, padding: 1}\n",
       GraphFormat::yaml,
       {"g.yaml:6:5",
        "op 'c' (conv): output activation has shape [1, 4, 6, 6], expected "
        "[1, 4, 8, 8]"}},
      {"tensor produced twice",
       head + "  - {name: y, shape: [1, 3, 8, 8]}\nops:\n"
              "  - {name: a, kind: activation, function: relu, inputs: [x], outputs: [y]}\n"
              "  - {name: b, kind: activation, function: relu, inputs: [x], outputs: [y]}\n",
       GraphFormat::yaml,
       {"g.yaml:6:5", "tensor 'y' is already produced by op 'a'"}},
      {"duplicate tensor",
       head + "  - {name: x, shape: [2]}\nops: []\n",
       GraphFormat::yaml,
       {"g.yaml:3:12", "duplicate tensor name 'x' (first defined at g.yaml:2:5)"}},
      {"wrong type",
       "tensors:\n  - {name: w, shape: [2], parameter: maybe}\nops: []\n",
       GraphFormat::yaml,
       {"g.yaml:2:38", "expected true or false, got 'maybe'"}},
      {"missing key",
       "tensors:\n  - {name: w}\nops: []\n",
       GraphFormat::yaml,
       {"g.yaml:2:5", "missing required key 'shape'"}},
      {"unknown dtype",
       "tensors:\n  - {name: w, shape: [2], dtype: fp8}\nops: []\n",
       GraphFormat::yaml,
       {"g.yaml:2:34", "unknown dtype 'fp8'"}},
      {"unknown dependency",
       head + "  - {name: y, shape: [1, 3, 8, 8]}\nops:\n"
              "  - {name: a, kind: activation, function: relu, inputs: [x], outputs: [y], "
              "deps: [b]}\n",
       GraphFormat::yaml,
       {"unknown op 'b'"}},
      {"wrong format marker",
       "format: onnx\ntensors: []\nops: []\n",
       GraphFormat::yaml,
       {"g.yaml:1:9", "expected format 'warpsim-op-graph'"}},
      {"YAML syntax", "tensors: [\n", GraphFormat::yaml, {"g.yaml:"}},
      {"JSON unknown key, located",
       "{\n  \"tensors\": [\n    {\"name\": \"x\", \"shape\": [2], \"parametr\": true}\n  ],\n"
       "  \"ops\": []\n}\n",
       GraphFormat::json,
       {"g.yaml:3:33", "unknown key 'parametr' in 'tensors.0' (did you mean 'parameter'?)"}},
      {"JSON truncated",
       "{\n  \"tensors\": [\n    {\"name\": \"x\", \"shape\": [2",
       GraphFormat::json,
       {"g.yaml:3:", "invalid JSON"}},
      {"JSON trailing text",
       "{\"tensors\": [], \"ops\": []} x",
       GraphFormat::json,
       {"g.yaml:1:28", "unexpected text after the JSON value"}},
      {"JSON duplicate key",
       "{\"tensors\": [], \"tensors\": [], \"ops\": []}",
       GraphFormat::json,
       {"g.yaml:1:17", "duplicate key 'tensors'"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::string msg = error_of(c.text, c.format);
    CAPTURE(msg);
    for (const std::string& e : c.expect) CHECK(msg.find(e) != std::string::npos);
  }
}
