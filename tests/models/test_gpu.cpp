#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "models/gpu.hpp"
#include "models/host_runtime.hpp"
#include "models/kernel_cost.hpp"
#include "models/kernel_pricer.hpp"
#include "sim/config.hpp"
#include "../support/toy_gpu.hpp"

using models::Gpu;
using models::GpuSpec;
using sim::Time;
using workloads::KernelDesc;

namespace {

GpuSpec toy_gpu() { return testing::toy_gpu(4); }

sim::Config params(const char* yaml = "{}") { return sim::Config(sim::parse_yaml(yaml, "t"), ""); }

// A compute-bound kernel: `ctas` CTAs of 256 threads (8 warps), each 250 MFLOP (1 ms on an SM
// alone), with shared memory that allows `per_sm` CTAs per SM.
KernelDesc compute_kernel(std::int64_t ctas, int per_sm = 1) {
  KernelDesc k;
  k.name = "compute";
  k.grid = {ctas, 1, 1};
  k.block = {256, 1, 1};
  k.shared_mem_per_cta = (96 << 10) / per_sm;
  k.flops = 250e6 * static_cast<double>(ctas);
  return k;
}

KernelDesc memory_kernel(double bytes, std::int64_t ctas = 64) {
  KernelDesc k;
  k.name = "stream";
  k.grid = {ctas, 1, 1};
  k.block = {256, 1, 1};
  k.dram_bytes = bytes;
  return k;
}

struct Fixture {
  sim::PluginCatalog catalog;
  std::unique_ptr<models::KernelCost> cost;
  sim::Simulator sim;
  std::unique_ptr<Gpu> gpu;
  explicit Fixture(GpuSpec spec = toy_gpu()) {
    models::register_roofline_cost(catalog);
    cost = models::kernel_costs(catalog).create("roofline", params());
    gpu = std::make_unique<Gpu>(sim, spec, *cost);
  }
  Time run_one(const KernelDesc& k, const models::SmMask* mask = nullptr) {
    Time done;
    gpu->launch(k, [&] { done = sim.now(); }, mask);
    sim.run();
    return done;
  }
};

}  // namespace

TEST_CASE("occupancy follows the tightest per-SM limit") {
  const GpuSpec g = toy_gpu();
  KernelDesc k = compute_kernel(1, 1);
  CHECK(models::ctas_per_sm(g, k) == 1);  // shared memory
  k.shared_mem_per_cta = 0;
  CHECK(models::ctas_per_sm(g, k) == 8);  // threads: 2048 / 256
  k.registers_per_thread = 128;           // 128 x 256 = 32768 registers per CTA
  CHECK(models::ctas_per_sm(g, k) == 2);
  k.block = {1024, 1, 1};
  k.registers_per_thread = 32;
  CHECK(models::ctas_per_sm(g, k) == 2);
  k.block = {2048, 1, 1};
  CHECK(models::ctas_per_sm(g, k) == 0);  // more than 1024 threads per CTA
}

TEST_CASE("wave quantization emerges from dispatch") {
  // 1 CTA per SM, 4 SMs: 4 CTAs take one CTA time, 5 take two.
  CHECK(Fixture().run_one(compute_kernel(4)) == Time::ms(1));
  CHECK(Fixture().run_one(compute_kernel(5)) == Time::ms(2));
  CHECK(Fixture().run_one(compute_kernel(8)) == Time::ms(2));
  // 2 CTAs per SM share the SM: 8 CTAs still take 2 ms.
  CHECK(Fixture().run_one(compute_kernel(8, 2)) == Time::ms(2));
}

TEST_CASE("many waves take one batch per SM, with the CTA-by-CTA answer") {
  // 401 CTAs on 4 SMs at 1 CTA per SM: 101 waves of 1 ms (the last holds one CTA). The SMs
  // reserve their waves in a few batches instead of one event per SM per wave.
  Fixture f;
  CHECK(f.run_one(compute_kernel(401)) == Time::ms(101));
  CHECK(f.gpu->ctas_executed() == 401);
  CHECK(f.sim.events_executed() < 100);
  // 2 CTAs per SM share the SM, so a wave of 8 CTAs takes 2 ms: 800 CTAs take 200 ms, and
  // twice as long on two SMs.
  CHECK(Fixture().run_one(compute_kernel(800, 2)) == Time::ms(200));
  const models::SmMask half{true, true, false, false};
  CHECK(Fixture().run_one(compute_kernel(800, 2), &half) == Time::ms(400));
}

TEST_CASE("an SM with one slot beside a long kernel takes its share of waves, not the tail") {
  // A long kernel holds 3/4 of SM 0's shared memory, so SM 0 has room for one CTA of the next
  // kernel and SMs 1-3 for four. 130 CTAs of 1 ms (alone on an SM): 130 CTA-ms over 3.5 SMs'
  // worth of compute (SM 0 shares with the long one) is at least 37 ms. Reserving waves as if
  // every SM had SM 0's room would queue 31 one-CTA waves of 2 ms there (62 ms).
  Fixture f;
  KernelDesc hog = compute_kernel(1);
  hog.shared_mem_per_cta = 72 << 10;
  hog.flops = 250e9;  // 1 s
  f.gpu->launch(hog, [] {});
  Time done;
  const KernelDesc many = compute_kernel(130, 4);  // a launched kernel must outlive its run
  f.gpu->launch(many, [&] { done = f.sim.now(); });
  f.sim.run_until(Time::ms(500));
  CHECK(done > Time::ms(37));
  CHECK(done < Time::ms(46));
}

TEST_CASE("an SM mask restricts a kernel to fewer SMs") {
  const models::SmMask half{true, true, false, false};
  CHECK(Fixture().run_one(compute_kernel(4), &half) == Time::ms(2));
}

TEST_CASE("kernels run concurrently when resources allow, up to the kernel limit") {
  {
    Fixture f;
    Time a, b;
    const KernelDesc k = compute_kernel(2);  // half the GPU each
    f.gpu->launch(k, [&] { a = f.sim.now(); });
    f.gpu->launch(k, [&] { b = f.sim.now(); });
    f.sim.run();
    CHECK(a == Time::ms(1));
    CHECK(b == Time::ms(1));
  }
  {
    GpuSpec one = toy_gpu();
    one.concurrent_kernels = 1;
    Fixture f(one);
    Time b;
    const KernelDesc k = compute_kernel(2);
    f.gpu->launch(k, [] {});
    f.gpu->launch(k, [&] { b = f.sim.now(); });
    f.sim.run();
    CHECK(b == Time::ms(2));
  }
}

TEST_CASE("co-running memory-bound kernels share DRAM bandwidth") {
  const KernelDesc k = memory_kernel(100e6);  // 1 ms alone at 100 GB/s
  CHECK(Fixture().run_one(k).seconds() == doctest::Approx(1e-3).epsilon(0.01));
  Fixture f;
  Time a, b;
  f.gpu->launch(k, [&] { a = f.sim.now(); });
  f.gpu->launch(k, [&] { b = f.sim.now(); });
  f.sim.run();
  CHECK(a.seconds() == doctest::Approx(2e-3).epsilon(0.05));
  CHECK(b.seconds() == doctest::Approx(2e-3).epsilon(0.05));
  CHECK(f.gpu->dram_utilization(f.sim.now()) > 0.9);
}

TEST_CASE("the kernel overhead is charged once per kernel, after its CTAs, with the SMs free") {
  GpuSpec spec = toy_gpu();
  spec.kernel_overhead = Time::us(3);
  Fixture f(spec);
  Time a, b, b_started;
  f.gpu->on_kernel([&](const KernelDesc& k, Time start, Time) {
    if (k.name == "late") b_started = start;
  });
  KernelDesc late = compute_kernel(4);  // the whole GPU, 1 ms
  late.name = "late";
  const KernelDesc first = compute_kernel(4);  // launched kernels must outlive their runs
  f.gpu->launch(first, [&] { a = f.sim.now(); });
  // Launched once the first kernel's CTAs are done: the SMs are free, its overhead still runs.
  f.sim.schedule(Time::ms(1) + Time::us(1), [&] { f.gpu->launch(late, [&] { b = f.sim.now(); }); });
  f.sim.run();
  CHECK(a == Time::ms(1) + Time::us(3));
  CHECK(b_started == Time::ms(1) + Time::us(1));
  CHECK(b == Time::ms(2) + Time::us(4));
}

TEST_CASE("a kernel starts when its first CTA reaches an SM, not when it is launched") {
  Fixture f;
  Time started;
  f.gpu->on_kernel([&](const KernelDesc& k, Time start, Time) {
    if (k.name == "second") started = start;
  });
  const KernelDesc filler = compute_kernel(4);  // fills all four SMs for 1 ms
  f.gpu->launch(filler, [] {});
  KernelDesc second = compute_kernel(4);
  second.name = "second";
  f.gpu->launch(second, [] {});
  f.sim.run();
  CHECK(started == Time::ms(1));
}

TEST_CASE("a CTA that reads DRAM takes at least one DRAM latency") {
  GpuSpec spec = toy_gpu();
  spec.dram_latency = Time::ns(500);
  CHECK(Fixture(spec).run_one(memory_kernel(1024, 1)) == Time::ns(500));
  CHECK(Fixture(toy_gpu()).run_one(memory_kernel(1024, 1)) < Time::ns(500));
}

TEST_CASE("copies run on a copy engine: no SM room needed, DRAM shared with kernels") {
  KernelDesc copy = memory_kernel(100e6, 1);  // 1 ms alone at 100 GB/s
  copy.name = "copy";
  copy.engine = workloads::Engine::copy;
  CHECK(Fixture().run_one(copy).seconds() == doctest::Approx(1e-3).epsilon(0.01));
  {  // every SM is held by a compute kernel: the copy does not wait for it
    Fixture f;
    Time c;
    const KernelDesc hold = compute_kernel(4);
    f.gpu->launch(hold, [] {});
    f.gpu->launch(copy, [&] { c = f.sim.now(); });
    f.sim.run();
    CHECK(c.seconds() == doctest::Approx(1e-3).epsilon(0.01));
  }
  {  // a DRAM-bound kernel and the copy split the bandwidth
    Fixture f;
    Time c, k;
    const KernelDesc stream = memory_kernel(100e6);
    f.gpu->launch(stream, [&] { k = f.sim.now(); });
    f.gpu->launch(copy, [&] { c = f.sim.now(); });
    f.sim.run();
    CHECK(c.seconds() > 1.2e-3);
    CHECK(k.seconds() > 1.05e-3);
    CHECK(std::max(c, k).seconds() == doctest::Approx(2e-3).epsilon(0.05));
  }
  {  // the copy pays the kernel overhead too, and is reported to the observer
    GpuSpec spec = toy_gpu();
    spec.kernel_overhead = Time::us(2);
    Fixture f(spec);
    int seen = 0;
    f.gpu->on_kernel([&](const KernelDesc& k, Time, Time) { seen += k.name == "copy"; });
    CHECK(f.run_one(copy).seconds() == doctest::Approx(1.002e-3).epsilon(0.001));
    CHECK(seen == 1);
    CHECK(f.gpu->kernels_completed() == 1);
  }
}

namespace {
// Pages of kernels named "faulting" arrive `delay` after their CTAs ask; the rest are resident.
struct SlowPages : models::PagingGate {
  sim::Simulator& sim;
  Time delay;
  SlowPages(sim::Simulator& s, Time d) : sim(s), delay(d) {}
  bool touch(const KernelDesc& k, std::int64_t, std::int64_t, std::function<void()> resume) override {
    if (k.name != "faulting") return true;
    sim.schedule_in(delay, std::move(resume));
    return false;
  }
};
}  // namespace

TEST_CASE("CTAs waiting for pages take no DRAM or compute share from the kernels beside them") {
  const KernelDesc streaming = memory_kernel(100e6, 32);  // 1 ms alone at 100 GB/s
  KernelDesc faulting = memory_kernel(100e6, 32);
  faulting.name = "faulting";
  Fixture f;
  SlowPages pages(f.sim, Time::ms(1));
  f.gpu->attach_paging(&pages);
  Time a, b;
  f.gpu->launch(streaming, [&] { a = f.sim.now(); });
  f.gpu->launch(faulting, [&] { b = f.sim.now(); });
  f.sim.run();
  // The faulting kernel's stalled CTAs leave all of DRAM to the other while they wait.
  CHECK(a.seconds() == doctest::Approx(1e-3).epsilon(0.02));
  CHECK(b.seconds() == doctest::Approx(2e-3).epsilon(0.02));
}

TEST_CASE("a kernel that cannot fit on an SM is refused with a clear message") {
  Fixture f;
  KernelDesc k = compute_kernel(1);
  k.shared_mem_per_cta = 200 << 10;
  CHECK_THROWS_WITH_AS(f.gpu->launch(k, [] {}),
                       doctest::Contains("does not fit on an SM"), std::invalid_argument);
}

TEST_CASE("host runtime: eager launches are host-bound for tiny kernels, graphs are not") {
  std::vector<KernelDesc> kernels(10, compute_kernel(4));
  for (auto& k : kernels) k.flops = 4 * 250e3;  // 1 us per kernel
  models::HostCosts costs;
  costs.per_op = Time::us(20);
  costs.per_launch = Time::us(5);
  costs.graph_launch = Time::us(10);
  costs.graph_node = Time::ns(500);

  models::HostProgram eager;
  for (int i = 0; i < 10; ++i) {
    models::HostCommand w;
    w.kind = models::HostCommand::Kind::work;
    w.duration = Time::us(20);
    eager.commands.push_back(w);
    models::HostCommand l;
    l.kind = models::HostCommand::Kind::launch;
    l.kernel = i;
    eager.commands.push_back(l);
  }
  models::HostProgram graph;
  graph.graphs.push_back({});
  for (int i = 0; i < 10; ++i) {
    graph.graphs[0].kernels.push_back(i);
    graph.graphs[0].deps.push_back(i ? std::vector<std::int32_t>{i - 1} : std::vector<std::int32_t>{});
  }
  models::HostCommand gl;
  gl.kind = models::HostCommand::Kind::graph_launch;
  gl.graph = 0;
  graph.commands.push_back(gl);

  auto run = [&](const models::HostProgram& p) {
    Fixture f;
    models::HostRuntime host(f.sim, *f.gpu, costs);
    Time done;
    host.run(p, kernels, [&] { done = f.sim.now(); });
    f.sim.run();
    CHECK(host.kernels_completed() == 10);
    return done;
  };
  // Eager: the host issues one op per 25 us; the last kernel reaches the GPU 5 us after its
  // launch call (at 245 us) and runs for 1 us.
  CHECK(run(eager) == Time::us(10 * 25 - 5 + 5 + 1));
  // Graph: reaches the device 5 us after the call starts (the 10 us call overlaps), then
  // 10 x (0.5 us node cost + 1 us kernel).
  CHECK(run(graph) == Time::us(5 + 15));
}

TEST_CASE("events order work across streams") {
  std::vector<KernelDesc> kernels{compute_kernel(4), compute_kernel(4)};
  models::HostProgram p;
  p.streams = 2;
  p.events = 1;
  using K = models::HostCommand::Kind;
  auto cmd = [](K kind, std::int32_t stream, std::int32_t kernel, std::int32_t event) {
    models::HostCommand c;
    c.kind = kind;
    c.stream = stream;
    c.kernel = kernel;
    c.event = event;
    return c;
  };
  p.commands = {cmd(K::launch, 0, 0, -1), cmd(K::record, 0, -1, 0), cmd(K::wait, 1, -1, 0),
                cmd(K::launch, 1, 1, -1)};
  Fixture f;
  models::HostRuntime host(f.sim, *f.gpu, models::HostCosts{});
  Time done;
  host.run(p, kernels, [&] { done = f.sim.now(); });
  f.sim.run();
  // Without the wait both would share the GPU and end at 5 us + 2 ms; with it, back to back.
  CHECK(done == Time::us(5) + Time::ms(2));
}

TEST_CASE("a stream synchronization waits for its stream only") {
  // Two CTAs each on the 4-SM toy GPU (one CTA per SM): the first two kernels run side by side.
  KernelDesc quick = compute_kernel(2);
  quick.flops /= 4;
  std::vector<KernelDesc> kernels{compute_kernel(2), quick, compute_kernel(2)};
  using K = models::HostCommand::Kind;
  auto program = [](K sync) {
    models::HostProgram p;
    p.streams = 2;
    auto cmd = [](K kind, std::int32_t stream, std::int32_t kernel) {
      models::HostCommand c;
      c.kind = kind;
      c.stream = stream;
      c.kernel = kernel;
      return c;
    };
    p.commands = {cmd(K::launch, 0, 0), cmd(K::launch, 1, 1), cmd(sync, 1, -1),
                  cmd(K::launch, 1, 2)};
    return p;
  };
  auto run = [&](const models::HostProgram& p) {
    Fixture f;
    models::HostRuntime host(f.sim, *f.gpu, models::HostCosts{});
    Time done;
    host.run(p, kernels, [&] { done = f.sim.now(); });
    f.sim.run();
    CHECK(host.kernels_completed() == 3);
    return done;
  };
  // After the stream sync the third kernel overlaps the first; after a device sync it follows
  // it: one kernel time (1 ms) later.
  const Time stream_sync = run(program(K::stream_synchronize));
  const Time device_sync = run(program(K::synchronize));
  CHECK(stream_sync + Time::us(500) < device_sync);
}

TEST_CASE("host runtime: streamed launches follow their stream, pay the host and meet programs") {
  // Four SMs, one CTA each: a 4-CTA kernel takes the whole GPU for 1 ms.
  const KernelDesc k = compute_kernel(4);
  SUBCASE("ideal host: each kernel starts one kernel gap after the one before on its stream") {
    Fixture f;
    models::HostRuntime host(f.sim, *f.gpu, models::HostCosts::ideal());
    std::vector<Time> starts, ends;
    for (int i = 0; i < 3; ++i)
      host.launch(0, k, [&](Time s) {
        starts.push_back(s);
        ends.push_back(f.sim.now());
      });
    f.sim.run();
    REQUIRE(starts.size() == 3);
    CHECK(starts[0] == Time::zero());  // no launch latency exposed
    CHECK(starts[1] == ends[0] + Time::us(1));
    CHECK(starts[2] == ends[1] + Time::us(1));
    CHECK(host.host_busy() == Time::zero());
  }
  SUBCASE("a costed host: launch latency and per-launch time; separate streams overlap") {
    Fixture f;
    models::HostCosts costs;
    costs.per_launch = Time::us(7);  // launch latency: the GPU's 5 us
    models::HostRuntime host(f.sim, *f.gpu, costs);
    KernelDesc half = compute_kernel(2);
    std::vector<Time> starts(2);
    host.launch(0, half, [&](Time s) { starts[0] = s; });
    host.launch(1, half, [&](Time s) { starts[1] = s; });
    f.sim.run();
    CHECK(starts[0] == Time::us(5));
    CHECK(starts[1] == Time::us(7 + 5));  // issued after the first call's host time
    CHECK(host.host_busy() == Time::us(14));
    CHECK(host.kernels_completed() == 2);
  }
  SUBCASE("a program and streamed work share the host thread in issue order") {
    Fixture f;
    models::HostRuntime host(f.sim, *f.gpu, models::HostCosts::ideal());
    std::vector<KernelDesc> table{k};
    models::HostProgram p;
    models::HostCommand w;
    w.duration = Time::us(30);
    p.commands.push_back(w);
    models::HostCommand l;
    l.kind = models::HostCommand::Kind::launch;
    l.kernel = 0;
    p.commands.push_back(l);
    Time program_done, streamed_start;
    host.run(p, table, [&] { program_done = f.sim.now(); });
    host.launch(0, k, [&](Time s) { streamed_start = s; });
    std::vector<std::string> seen;
    host.on_kernel([&](const KernelDesc& d, Time, Time) { seen.push_back(d.name); });
    f.sim.run();
    // The streamed kernel was issued after the program's 30 us of host work and its launch, and
    // follows the program's kernel on stream 0 (1 ms + the 1 us gap).
    CHECK(streamed_start == Time::us(30) + Time::ms(1) + Time::us(1));
    CHECK(program_done == Time::us(30) + 2 * Time::ms(1) + Time::us(1));  // device idle
    CHECK(seen.size() == 2);
  }
}

TEST_CASE("every GPU preset loads and validates") {
  const char* env = std::getenv("WARPSIM_CONFIG_PATH");  // set by meson test
  REQUIRE(env != nullptr);
  const std::filesystem::path dir = env;
  sim::ConfigLoader loader({dir});
  for (const auto& name : loader.names("gpus")) {
    CAPTURE(name);
    auto root = loader.load(dir / "gpus" / (name + ".yaml"));
    const GpuSpec g = GpuSpec::from_config(sim::Config(root, ""));
    CHECK_NOTHROW(sim::check_unused(root));
    CHECK(g.sm_count > 0);
    CHECK(g.fp32 > 0);
    CHECK(g.dram_bandwidth > 0);
    CHECK(g.peak(workloads::MathUnit::tensor_core, workloads::DType::fp16) > g.fp32);
  }
}

TEST_CASE("kernel pricer: a kernel's time alone on the GPU model, priced once per shape") {
  sim::PluginCatalog catalog;
  models::register_roofline_cost(catalog);
  const auto cost = models::kernel_costs(catalog).create(
      "roofline", sim::Config(sim::parse_yaml("{}", "t"), ""));
  const models::GpuSpec gpu = testing::toy_gpu(4);
  workloads::KernelDesc k;
  k.name = "k";
  k.grid = {10, 1, 1};
  k.block = {256, 1, 1};
  k.flops = 10 * 250e6;
  k.dram_bytes = 1e6;
  // The same kernel on a fresh simulator and GPU.
  sim::Simulator sim;
  models::Gpu g(sim, gpu, *cost);
  sim::Time end;
  g.launch(k, [&] { end = sim.now(); });
  sim.run();
  models::KernelPricer pricer(gpu, *cost);
  CHECK(pricer.price(k) == end);
  CHECK(pricer.price(k) == end);
  CHECK(pricer.shapes_priced() == 1);
  k.name = "renamed";  // names do not change the work
  CHECK(pricer.price(k) == end);
  CHECK(pricer.shapes_priced() == 1);
  k.flops *= 4;  // another shape: priced anew
  CHECK(pricer.price(k) > end);
  CHECK(pricer.shapes_priced() == 2);
}
