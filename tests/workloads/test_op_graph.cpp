#include <doctest/doctest.h>

#include <string>

#include "sim/error.hpp"
#include "workloads/graph_builder.hpp"
#include "workloads/op_graph.hpp"

using namespace workloads;
using Shape = std::vector<std::int64_t>;

TEST_CASE("dtypes") {
  CHECK(dtype_size(DType::fp32) == 4);
  CHECK(dtype_size(DType::tf32) == 4);  // a compute mode over fp32 storage
  CHECK(dtype_size(DType::fp16) == 2);
  CHECK(dtype_size(DType::bf16) == 2);
  CHECK(dtype_size(DType::int8) == 1);
  CHECK(dtype_size(DType::int64) == 8);  // indices
  for (const std::string& n : dtype_names()) CHECK(dtype_name(parse_dtype(n)) == n);
  CHECK_THROWS_WITH_AS(parse_dtype("fp116"), doctest::Contains("did you mean 'fp16'?"),
                       sim::InputError);
  CHECK(Tensor{"t", {2, 3, 4}, DType::bf16, false}.bytes() == 48);
  CHECK(Tensor{"scalar", {}, DType::fp32, false}.elements() == 1);
}

TEST_CASE("names of kinds, phases and passes round-trip") {
  for (const std::string& n : op_kind_names()) CHECK(op_kind_name(parse_op_kind(n)) == n);
  CHECK(op_kind_names().size() == 14);
  CHECK(parse_phase("backward") == Phase::backward);
  CHECK(parse_pass("wgrad") == Pass::wgrad);
  CHECK_THROWS_WITH_AS(parse_op_kind("conv2d"), doctest::Contains("did you mean 'conv'?"),
                       sim::InputError);
}

TEST_CASE("shape helpers") {
  CHECK(window_output(224, 7, 2, 3, 1) == 112);
  CHECK(window_output(112, 3, 2, 1, 1) == 56);
  CHECK(window_output(299, 3, 2, 0, 1) == 149);
  CHECK(window_output(5, 3, 1, 0, 2) == 1);  // dilated 3x3 spans 5
  CHECK(window_output(2, 3, 1, 0, 1) < 1);
  CHECK(broadcast_shapes({8, 64, 7, 7}, {8, 64, 1, 1}) == Shape{8, 64, 7, 7});
  CHECK(broadcast_shapes({64, 1, 1}, {8, 64, 7, 7}) == Shape{8, 64, 7, 7});
  CHECK_FALSE(broadcast_shapes({8, 64}, {8, 32}));
  CHECK(shape_str({1, 3, 224, 224}) == "[1, 3, 224, 224]");
}

TEST_CASE("a conv layer: deps, FLOPs, bytes") {
  GraphBuilder b("tiny", DType::fp16);
  const TensorId x = b.input("x", {2, 3, 32, 32});
  const TensorId y = b.conv(x, 16, 3, 1, std::nullopt, 1, /*bias=*/true);
  const TensorId z = b.activation(y, "relu");
  const OpGraph& g = b.graph();
  REQUIRE(g.op_count() == 2);
  CHECK(g.tensor(y).shape == Shape{2, 16, 32, 32});
  CHECK(g.producer(x) == -1);
  CHECK(g.producer(z) == 1);
  CHECK(g.op(1).deps == std::vector<OpId>{0});
  CHECK(g.consumers(y) == std::vector<OpId>{1});
  CHECK(g.parameter_count() == 16 * 3 * 3 * 3 + 16);
  // 2 FLOPs per multiply-add over N*K*P*Q*C*R*S, plus the bias add.
  CHECK(g.flops(0) == 2LL * 2 * 16 * 32 * 32 * 3 * 3 * 3 + 2 * 16 * 32 * 32);
  CHECK(g.flops(1) == 2 * 16 * 32 * 32);
  CHECK(g.bytes_read(0) == 2 * (2 * 3 * 32 * 32 + 16 * 27 + 16));
  CHECK(g.bytes_written(0) == 2 * (2 * 16 * 32 * 32));
  CHECK(g.count_ops(OpKind::conv) == 1);
  CHECK(g.count_ops(OpKind::conv, Phase::backward) == 0);
  CHECK_NOTHROW(g.validate());
  CHECK(g.topological_order() == std::vector<OpId>{0, 1});
}

TEST_CASE("building rejects duplicates and tensors produced twice") {
  OpGraph g("dup");
  const TensorId a = g.add_tensor("a", {4}, DType::fp32);
  const TensorId c = g.add_tensor("c", {4}, DType::fp32);
  CHECK_THROWS_WITH_AS(g.add_tensor("a", {4}, DType::fp32),
                       doctest::Contains("duplicate tensor name 'a'"), sim::InputError);
  Op relu;
  relu.name = "relu";
  relu.kind = OpKind::activation;
  relu.inputs = {a};
  relu.outputs = {c};
  g.add_op(relu);
  CHECK(g.op(0).function == "relu");  // the kind's default function
  relu.name = "relu2";
  CHECK_THROWS_WITH_AS(g.add_op(relu), doctest::Contains("already produced by op 'relu'"),
                       sim::InputError);
  relu.name = "relu";
  CHECK_THROWS_WITH_AS(g.add_op(relu), doctest::Contains("duplicate op name"), sim::InputError);
}

TEST_CASE("validate finds inconsistent shapes and names the op") {
  OpGraph g("bad");
  const TensorId x = g.add_tensor("x", {1, 3, 8, 8}, DType::fp32);
  const TensorId w = g.add_tensor("w", {4, 3, 3, 3}, DType::fp32, true);
  const TensorId y = g.add_tensor("y", {1, 4, 7, 7}, DType::fp32);  // should be 8x8 with pad 1
  Op conv;
  conv.name = "conv1";
  conv.kind = OpKind::conv;
  conv.kernel = 3;
  conv.padding = 1;
  conv.inputs = {x, w};
  conv.outputs = {y};
  g.add_op(conv);
  const auto p = g.check();
  REQUIRE(p);
  CHECK(p->op == 0);
  CHECK(p->message.find("op 'conv1' (conv)") != std::string::npos);
  CHECK(p->message.find("expected [1, 4, 8, 8]") != std::string::npos);
  CHECK_THROWS_AS(g.validate(), sim::InputError);
}

TEST_CASE("validate: per-kind rules") {
  auto graph_with = [](OpKind kind, std::vector<Shape> in, std::vector<Shape> out, auto&& set) {
    OpGraph g("g");
    Op op;
    op.name = "op";
    op.kind = kind;
    for (std::size_t i = 0; i < in.size(); ++i)
      op.inputs.push_back(g.add_tensor("in" + std::to_string(i), in[i], DType::fp32));
    for (std::size_t i = 0; i < out.size(); ++i)
      op.outputs.push_back(g.add_tensor("out" + std::to_string(i), out[i], DType::fp32));
    set(op);
    g.add_op(op);
    return g.check();
  };
  auto none = [](Op&) {};
  // gemm with transposes: dW[10, 64] = dY^T[10, 8] X[8, 64]
  CHECK_FALSE(graph_with(OpKind::gemm, {{8, 10}, {8, 64}}, {{10, 64}},
                         [](Op& o) { o.transpose_a = true; }));
  CHECK(graph_with(OpKind::gemm, {{8, 10}, {8, 64}}, {{10, 64}}, none));  // inner dims differ
  // depthwise: groups implied by the input channels
  CHECK_FALSE(graph_with(OpKind::depthwise_conv, {{1, 32, 14, 14}, {32, 1, 3, 3}}, {{1, 32, 7, 7}},
                         [](Op& o) {
                           o.kernel = 3;
                           o.stride = 2;
                           o.padding = 1;
                         }));
  // conv dgrad: (dy, w) -> dx
  CHECK_FALSE(graph_with(OpKind::conv, {{1, 4, 8, 8}, {4, 3, 3, 3}}, {{1, 3, 8, 8}}, [](Op& o) {
    o.kernel = 3;
    o.padding = 1;
    o.pass = Pass::dgrad;
  }));
  // elementwise broadcast, and a function the kind does not have
  CHECK_FALSE(graph_with(OpKind::elementwise, {{2, 8, 4, 4}, {2, 8, 1, 1}}, {{2, 8, 4, 4}},
                         [](Op& o) { o.function = "mul"; }));
  const auto bad_fn =
      graph_with(OpKind::activation, {{4}}, {{4}}, [](Op& o) { o.function = "add"; });
  REQUIRE(bad_fn);
  CHECK(bad_fn->message.find("unknown function 'add'") != std::string::npos);
  // concat and its dgrad (split)
  CHECK_FALSE(graph_with(OpKind::concat, {{1, 2, 5, 5}, {1, 3, 5, 5}}, {{1, 5, 5, 5}}, none));
  CHECK_FALSE(graph_with(OpKind::concat, {{1, 5, 5, 5}}, {{1, 2, 5, 5}, {1, 3, 5, 5}},
                         [](Op& o) { o.pass = Pass::dgrad; }));
  CHECK(graph_with(OpKind::concat, {{1, 2, 5, 5}, {1, 3, 4, 5}}, {{1, 5, 5, 5}}, none));
  // reductions
  CHECK_FALSE(graph_with(OpKind::reduction, {{8, 64, 7, 7}}, {{64}}, [](Op& o) {
    o.function = "sum";
    o.axes = {0, 2, 3};
    o.keep_dims = false;
  }));
  CHECK(graph_with(OpKind::reduction, {{8, 64}}, {{64}}, [](Op& o) {
    o.function = "sum";
    o.axes = {0, 0};
    o.keep_dims = false;
  }));
  // optimizer groups
  CHECK_FALSE(graph_with(OpKind::optimizer_update, {{4}, {4}, {4}}, {{4}, {4}},
                         [](Op& o) { o.function = "sgd_momentum"; }));
  CHECK(graph_with(OpKind::optimizer_update, {{4}, {4}}, {{4}, {4}},
                   [](Op& o) { o.function = "sgd_momentum"; }));
  // a window that does not fit
  const auto no_fit =
      graph_with(OpKind::pool_max, {{1, 1, 2, 2}}, {{1, 1, 1, 1}}, [](Op& o) { o.kernel = 3; });
  REQUIRE(no_fit);
  CHECK(no_fit->message.find("does not fit") != std::string::npos);
}

TEST_CASE("a cycle is reported with an op on it") {
  OpGraph g("loop");
  const TensorId x = g.add_tensor("x", {4}, DType::fp32);
  const TensorId a = g.add_tensor("a", {4}, DType::fp32);
  const TensorId b = g.add_tensor("b", {4}, DType::fp32);
  const TensorId c = g.add_tensor("c", {4}, DType::fp32);
  auto add = [&](const char* name, std::vector<TensorId> in, TensorId out) {
    Op op;
    op.name = name;
    op.kind = OpKind::elementwise;
    op.function = "add";
    op.inputs = std::move(in);
    op.outputs = {out};
    return g.add_op(op);
  };
  add("start", {x, x}, a);
  add("first", {a, c}, b);  // reads c, which "second" produces from b
  add("second", {b, b}, c);
  CHECK(g.op(1).deps == std::vector<OpId>{0, 2});  // the later producer was linked back
  const auto p = g.check();
  REQUIRE(p);
  CHECK((p->op == 1 || p->op == 2));
  CHECK(p->message.find("dependency cycle") != std::string::npos);
  CHECK(p->message.find("second -> first -> second") != std::string::npos);
  CHECK_THROWS_WITH_AS(g.topological_order(), doctest::Contains("cycle"), sim::InputError);
}

TEST_CASE("topological order is deterministic: lowest ready id first") {
  OpGraph g("diamond");
  const TensorId x = g.add_tensor("x", {4}, DType::fp32);
  std::vector<TensorId> t;
  for (int i = 0; i < 4; ++i) t.push_back(g.add_tensor("t" + std::to_string(i), {4}, DType::fp32));
  auto relu = [&](const char* name, TensorId in, TensorId out) {
    Op op;
    op.name = name;
    op.kind = OpKind::activation;
    op.function = "relu";
    op.inputs = {in};
    op.outputs = {out};
    return g.add_op(op);
  };
  relu("d", t[2], t[3]);  // id 0, runs last: reads c's output
  relu("a", x, t[0]);     // id 1
  relu("b", x, t[1]);     // id 2
  relu("c", t[1], t[2]);  // id 3
  g.add_dep(0, 1);        // control dependency: d after a
  CHECK_NOTHROW(g.validate());
  CHECK(g.topological_order() == std::vector<OpId>{1, 2, 3, 0});
}
