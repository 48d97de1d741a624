// NASNet-A follows Keras applications (itself a port of TF-slim): the published 5.3 M / 88.9 M
// parameters are that implementation's.
#include <optional>
#include <string>

#include "workloads/zoo/zoo.hpp"

namespace workloads::zoo {

namespace {

// Separable conv = depthwise kxk + pointwise 1x1, no bias. NASNet applies two in a row, each
// preceded by ReLU and followed by batch norm; only the first carries the stride.
TensorId separable_block(GraphBuilder& b, TensorId x, std::int64_t filters, int kernel,
                         int stride = 1) {
  auto s = b.scope(std::to_string(kernel) + "x" + std::to_string(kernel));
  TensorId y = b.activation(x, "relu");
  y = b.batch_norm(b.conv(b.depthwise_conv(y, kernel, stride), filters, 1));
  y = b.activation(y, "relu");
  return b.batch_norm(b.conv(b.depthwise_conv(y, kernel), filters, 1));
}

// Brings the previous cell's output `p` to the current cell's grid and width: a factorised
// reduction (two strided 1x1 paths, concatenated) when the grid halved, a 1x1 projection when
// only the width differs. (The second path of the factorised reduction reads `p` shifted by one
// pixel; the shift changes no shape or cost and is not modelled.)
TensorId adjust(GraphBuilder& b, std::optional<TensorId> p, TensorId ip, std::int64_t filters) {
  if (!p) return ip;
  auto s = b.scope("adjust");
  if (b.shape(*p)[2] != b.shape(ip)[2]) {
    const TensorId r = b.activation(*p, "relu");
    const TensorId p1 = b.conv(b.avg_pool(r, 1, 2), filters / 2, 1);
    const TensorId p2 = b.conv(b.avg_pool(r, 1, 2), filters / 2, 1);
    return b.batch_norm(b.concat({p1, p2}));
  }
  if (b.channels(*p) != filters) return b.conv_bn(b.activation(*p, "relu"), filters, 1);
  return *p;
}

// relu + 1x1 conv + bn on the cell's main input.
TensorId squeeze(GraphBuilder& b, TensorId ip, std::int64_t filters) {
  auto s = b.scope("squeeze");
  return b.conv_bn(b.activation(ip, "relu"), filters, 1);
}

struct CellOut {
  TensorId out;
  TensorId in;  // the cell's input: the next cell's "previous" input
};

// Normal cell (Fig. 4 left): five combinations of the two inputs, concatenated with p.
CellOut normal_cell(GraphBuilder& b, TensorId ip, std::optional<TensorId> prev,
                    std::int64_t filters) {
  const TensorId p = adjust(b, prev, ip, filters);
  const TensorId h = squeeze(b, ip, filters);
  // Each branch is built before the add, in this order: as arguments of one call their order
  // would be the compiler's (unspecified in C++), and so would the graph's op order.
  const TensorId x1a = separable_block(b, h, filters, 5), x1b = separable_block(b, p, filters, 3);
  const TensorId x1 = b.add(x1a, x1b);
  const TensorId x2a = separable_block(b, p, filters, 5), x2b = separable_block(b, p, filters, 3);
  const TensorId x2 = b.add(x2a, x2b);
  const TensorId x3 = b.add(b.avg_pool(h, 3, 1, 1), p);
  const TensorId x4a = b.avg_pool(p, 3, 1, 1), x4b = b.avg_pool(p, 3, 1, 1);
  const TensorId x4 = b.add(x4a, x4b);
  const TensorId x5 = b.add(separable_block(b, h, filters, 3), h);
  return {b.concat({p, x1, x2, x3, x4, x5}), ip};
}

// Reduction cell (Fig. 4 right): halves the grid.
CellOut reduction_cell(GraphBuilder& b, TensorId ip, std::optional<TensorId> prev,
                       std::int64_t filters) {
  const TensorId p = adjust(b, prev, ip, filters);
  const TensorId h = squeeze(b, ip, filters);
  const TensorId x1a = separable_block(b, h, filters, 5, 2),
                 x1b = separable_block(b, p, filters, 7, 2);
  const TensorId x1 = b.add(x1a, x1b);
  const TensorId x2a = b.max_pool(h, 3, 2, 1), x2b = separable_block(b, p, filters, 7, 2);
  const TensorId x2 = b.add(x2a, x2b);
  const TensorId x3a = b.avg_pool(h, 3, 2, 1), x3b = separable_block(b, p, filters, 5, 2);
  const TensorId x3 = b.add(x3a, x3b);
  const TensorId x4 = b.add(b.avg_pool(x1, 3, 1, 1), x2);
  const TensorId x5a = separable_block(b, x1, filters, 3), x5b = b.max_pool(h, 3, 2, 1);
  const TensorId x5 = b.add(x5a, x5b);
  return {b.concat({x2, x3, x4, x5}), ip};
}

}  // namespace

TensorId nasnet_a(GraphBuilder& b, TensorId image, const NasnetConfig& cfg,
                  std::int64_t num_classes) {
  const std::int64_t filters = cfg.penultimate_filters / 24;  // 6 branches x 4x width growth
  TensorId x;
  {
    auto s = b.scope("stem");
    x = b.conv_bn(image, cfg.stem_filters, 3, 2, 0);
  }
  CellOut c;
  {
    auto s = b.scope("stem_1");
    c = reduction_cell(b, x, std::nullopt, filters / 4);
  }
  {
    auto s = b.scope("stem_2");
    c = reduction_cell(b, c.out, c.in, filters / 2);
  }
  int cell = 0;
  for (int stack = 0; stack < 3; ++stack) {
    const std::int64_t f = filters << stack;
    if (stack > 0) {
      auto s = b.scope("reduce_" + std::to_string(cell));
      const CellOut r = reduction_cell(b, c.out, c.in, f);
      // Without skip_reduction the next cell's previous input is the reduction's input;
      // with it, the input of the cell before that.
      c = {r.out, cfg.skip_reduction ? c.in : r.in};
    }
    for (int i = 0; i < cfg.num_cells; ++i, ++cell) {
      auto s = b.scope("cell_" + std::to_string(cell));
      c = normal_cell(b, c.out, c.in, f);
    }
  }
  auto s = b.scope("head");
  return b.linear(b.global_avg_pool(b.activation(c.out, "relu")), num_classes);
}

}  // namespace workloads::zoo
