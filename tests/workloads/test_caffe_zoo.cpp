// The Caffe models of the multi-tenant inference experiments: published parameter counts and
// output shapes; task sets and their input errors.
#include <doctest/doctest.h>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/task_set.hpp"

using workloads::make_model;

TEST_CASE("Caffe zoo: parameter counts match the published models") {
  struct Case {
    const char* model;
    std::int64_t params;  // with biases (and batch-norm gamma/beta for ResNet-18)
  };
  const Case cases[] = {
      {"lenet", 431'080},          // Caffe examples/mnist/lenet.prototxt
      {"caffenet", 60'965'224},    // bvlc_reference_caffenet
      {"googlenet", 6'998'552},    // bvlc_googlenet (deploy, no auxiliary heads)
      {"vgg16", 138'357'544},      // VGG_ILSVRC_16_layers (Simonyan & Zisserman, config D)
      {"squeezenet", 1'248'424},   // SqueezeNet v1.0 (DeepScale; torchvision squeezenet1_0)
      {"resnet18", 11'689'512},    // torchvision resnet18
  };
  for (const auto& c : cases) {
    CAPTURE(c.model);
    const auto g = make_model(c.model, {.batch = 2});
    g.validate();
    CHECK(g.parameter_count() == c.params);
    const auto& out = g.tensor(g.ops().back().outputs.at(0)).shape;
    CHECK(out == std::vector<std::int64_t>{2, std::string(c.model) == "lenet" ? 10 : 1000});
  }
  // Published input sizes: LeNet 1x28x28, CaffeNet and SqueezeNet v1.0 227, the rest 224.
  CHECK(workloads::default_image_size("lenet") == 28);
  CHECK(workloads::default_image_size("caffenet") == 227);
  CHECK(workloads::default_image_size("vgg16") == 224);
  CHECK(make_model("lenet").tensor(0).shape == std::vector<std::int64_t>{1, 1, 28, 28});
}

namespace {
// As the program reads a config: the reader, then the unknown-key check.
workloads::TaskSet parse(const char* yaml) {
  const auto root = sim::parse_yaml(yaml, "set.yaml");
  auto set = workloads::read_task_set("t", sim::Config(root, ""));
  sim::check_unused(root);
  return set;
}
}  // namespace

TEST_CASE("task sets: periodic releases, defaults, errors at the item") {
  const auto set = parse(
      "tasks:\n"
      "  - {model: vgg16, period: 100 ms, jobs: 3}\n"
      "  - {model: lenet, batch: 4, arrival: 5 ms, period: 20 ms, deadline: 10 ms, jobs: 2,\n"
      "     priority: 3}\n");
  REQUIRE(set.tasks.size() == 2);
  CHECK(set.tasks[0].deadline == sim::Time::ms(100));
  CHECK(set.tasks[0].priority == 0);
  CHECK(set.tasks[1].priority == 3);
  const auto r = workloads::releases(set);
  REQUIRE(r.size() == 5);
  CHECK(r[0].task == 0);
  CHECK(r[1].task == 1);
  CHECK(r[1].release == sim::Time::ms(5));
  CHECK(r[1].deadline == sim::Time::ms(15));
  CHECK(r[2].release == sim::Time::ms(25));
  CHECK(r.back().release == sim::Time::ms(200));
  CHECK_THROWS_WITH_AS(parse("tasks:\n  - {model: vgg61, period: 1 ms}\n"),
                       doctest::Contains("set.yaml:2"), sim::InputError);
  CHECK_THROWS_WITH_AS(parse("tasks:\n  - {model: vgg16, period: 0 ms}\n"),
                       doctest::Contains("must be positive"), sim::InputError);
  CHECK_THROWS_WITH_AS(parse("tasks:\n  - {model: vgg16, period: 1 ms, jobz: 2}\n"),
                       doctest::Contains("jobz"), sim::InputError);
}
