#include <doctest/doctest.h>

#include "systems.hpp"

using interconnect::NodeFabric;
using testing::preset;

TEST_CASE("every system preset loads, with its GPU") {
  for (const char* name : {"dgx-v100", "dgx-a100", "dgx-h100", "pcie-4gpu", "superpod-h100"}) {
    CAPTURE(name);
    const auto s = preset(name);
    CHECK(s.gpus() >= 4);
    CHECK(s.gpu.sm_count > 0);
    CHECK(s.gpu_link.bandwidth > 0);
  }
  const auto v = preset("dgx-v100");
  CHECK(v.fabric == NodeFabric::mesh);
  CHECK(v.mesh.size() == 16);
  CHECK(preset("dgx-h100").node_reduction.present);
  CHECK_FALSE(preset("dgx-a100").node_reduction.present);
  CHECK(preset("superpod-h100").gpus() == 512);
  CHECK(preset("dgx-h100", {"nodes=128"}).gpus() == 1024);
}

TEST_CASE("bad system input names the place") {
  CHECK_THROWS_WITH_AS(preset("dgx-h1000"), doctest::Contains("did you mean 'dgx-h100'"),
                       sim::InputError);
  CHECK_THROWS_WITH_AS(preset("dgx-h100", {"node.link.bandwith=1 GB/s"}),
                       doctest::Contains("bandwidth"), sim::InputError);
  CHECK_THROWS_AS(preset("dgx-h100", {"nodes=0"}), sim::InputError);
  CHECK_THROWS_AS(preset("dgx-v100", {"node.mesh=[[0, 9, 1]]"}), sim::InputError);
  CHECK_THROWS_AS(preset("dgx-v100", {"node.rings=[[0, 1, 2]]"}), sim::InputError);
}

TEST_CASE("routes: through the node switch, the mesh, and the leaf-spine") {
  sim::Simulator sim;
  {
    sim::FlowNetwork net(sim);
    const auto spec = preset("dgx-h100");
    interconnect::Topology t(spec, net);
    std::vector<interconnect::Topology::Res> hops;
    t.route(0, 5, hops);
    REQUIRE(hops.size() == 2);
    CHECK(t.name(hops[0]) == "gpu[0]->switch[0]");
    CHECK(t.name(hops[1]) == "switch[0]->gpu[5]");
  }
  {
    sim::FlowNetwork net(sim);
    const auto spec = preset("dgx-v100");
    interconnect::Topology t(spec, net);
    std::vector<interconnect::Topology::Res> hops;
    t.route(0, 3, hops);
    CHECK(hops.size() == 1);
    CHECK(net.capacity(hops[0]) == doctest::Approx(50e9 * spec.gpu_link.efficiency));  // two NVLinks
    hops.clear();
    t.route(0, 5, hops);  // no direct link: two hops
    CHECK(hops.size() == 2);
  }
  {
    sim::FlowNetwork net(sim);
    const auto spec = preset("superpod-h100");  // 64 nodes, 2 leaf groups
    interconnect::Topology t(spec, net);
    std::vector<interconnect::Topology::Res> hops;
    t.route(0, 8, hops);  // rail 0, same leaf
    CHECK(hops.size() == 2);
    hops.clear();
    t.route(0, 8 * 40, hops);  // rail 0, other leaf group: through a spine
    CHECK(hops.size() == 4);
    // Linear in GPUs: 4 resources per GPU, 2 per leaf-spine link, engines.
    CHECK(t.resources() < 512 * 4 + 16 * 32 * 2 + 64 + 16 + 32 + 1);
  }
}
