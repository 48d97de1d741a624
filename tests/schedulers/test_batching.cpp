// The batching policies' decisions on hand-made replica states: what each admits, runs and
// preempts, as their papers describe.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "schedulers/batching/batching_policy.hpp"
#include "schedulers/plugins.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"

using namespace schedulers::batching;

namespace {

std::unique_ptr<BatchingPolicy> policy(const char* name, const char* yaml = "{}") {
  sim::PluginCatalog catalog;
  schedulers::register_schedulers_plugins(catalog);
  return batching_policies(catalog).create(name, sim::Config(sim::parse_yaml(yaml, "t"), ""));
}

ServingRequest waiting(std::int64_t id, std::int64_t prompt, std::int64_t output = 10) {
  return {id, prompt, output, 0, 0, 0};
}

ServingRequest decoding(std::int64_t id, std::int64_t prompt, std::int64_t generated,
                        std::int64_t blocks, std::int64_t output = 100) {
  return {id, prompt, output, prompt, generated, blocks};
}

std::vector<std::int64_t> ids(const std::vector<BatchItem>& items) {
  std::vector<std::int64_t> out;
  for (const auto& i : items) out.push_back(i.id);
  return out;
}

}  // namespace

TEST_CASE("request-level: a new batch only when the last is done; KV for 2048 tokens each") {
  const auto p = policy("request-level", "{max_batch: 2}");
  const std::vector<ServingRequest> queue = {waiting(1, 100), waiting(2, 50), waiting(3, 10)};
  const std::vector<ServingRequest> none;
  // 300 blocks of 16 tokens: 128 blocks per request (2048 tokens) fit twice.
  BatchPlan plan = p->next_iteration({queue, none, 300, 16});
  CHECK(plan.admit == std::vector<std::int64_t>{1, 2});
  REQUIRE(plan.items.size() == 2);
  CHECK(plan.items[0].tokens == 100);  // the whole prompt
  CHECK(plan.items[0].reserve_tokens == 2048);
  // No selective batching: the 50-token prompt is computed padded to the batch's longest.
  CHECK(plan.items[0].padding == 0);
  CHECK(plan.items[1].padding == 50);
  // Too little memory for a second reservation: one request.
  CHECK(p->next_iteration({queue, none, 200, 16}).admit.size() == 1);
  // While a batch runs, nobody joins, and a request that has finished waits for the others.
  const std::vector<ServingRequest> batch = {decoding(1, 100, 10, 128, 10), decoding(2, 50, 3, 128)};
  plan = p->next_iteration({queue, batch, 1000, 16});
  CHECK(plan.admit.empty());
  CHECK(ids(plan.items) == std::vector<std::int64_t>{2});
  CHECK(plan.items[0].tokens == 1);
}

TEST_CASE("orca: iteration-level admission that stops, not skips, at the first that does not fit") {
  const auto p = policy("orca", "{max_batch: 3, max_output_tokens: 128}");
  // Request 1 needs (100 + 128) / 16 = 15 blocks, 2 needs (1000 + 128) / 16 = 71, 3 needs 9.
  const std::vector<ServingRequest> queue = {waiting(1, 100), waiting(2, 1000), waiting(3, 10)};
  const std::vector<ServingRequest> running = {decoding(9, 20, 5, 2)};
  BatchPlan plan = p->next_iteration({queue, running, 40, 16});
  CHECK(plan.admit == std::vector<std::int64_t>{1});  // 2 does not fit, so 3 is not tried
  CHECK(ids(plan.items) == std::vector<std::int64_t>{9, 1});
  CHECK(plan.items[1].reserve_tokens == 228);
  // With room, it fills the batch to max_batch (the running one counts).
  plan = p->next_iteration({queue, running, 1000, 16});
  CHECK(plan.admit == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("vllm: admit while the prompt's blocks last; a block short preempts the newest") {
  const auto p = policy("vllm", "{max_batch: 8, max_tokens: 4096}");
  const std::vector<ServingRequest> queue = {waiting(1, 64), waiting(2, 64)};
  const std::vector<ServingRequest> none;
  // 64 + 1 tokens: 5 blocks each; 9 free blocks admit one.
  BatchPlan plan = p->next_iteration({queue, none, 9, 16});
  CHECK(plan.admit == std::vector<std::int64_t>{1});
  // Three decoding requests, each at a block boundary (32 tokens in 2 blocks), no block free:
  // the oldest must grow, so the newest is preempted and its blocks reused.
  const std::vector<ServingRequest> full = {decoding(1, 16, 16, 2), decoding(2, 16, 16, 2),
                                            decoding(3, 16, 16, 2)};
  plan = p->next_iteration({queue, full, 0, 16});
  CHECK(plan.preempt == std::vector<std::int64_t>{3});
  CHECK(ids(plan.items) == std::vector<std::int64_t>{1, 2});  // 3's two blocks serve both
  CHECK(plan.admit.empty());  // under pressure nobody is admitted
  // A block free for each: everybody decodes, nobody is preempted.
  plan = p->next_iteration({queue, full, 3, 16});
  CHECK(plan.preempt.empty());
  CHECK(ids(plan.items) == std::vector<std::int64_t>{1, 2, 3});
}

TEST_CASE("sarathi: decodes first, then prompt chunks up to the token budget") {
  const auto p = policy("sarathi", "{token_budget: 100}");
  const std::vector<ServingRequest> queue = {waiting(5, 300), waiting(6, 50)};
  const std::vector<ServingRequest> running = {decoding(1, 40, 3, 3), decoding(2, 40, 3, 3)};
  const BatchPlan plan = p->next_iteration({queue, running, 1000, 16});
  REQUIRE(plan.items.size() == 3);
  CHECK(plan.items[0].tokens == 1);
  CHECK(plan.items[1].tokens == 1);
  CHECK(plan.items[2].id == 5);
  CHECK(plan.items[2].tokens == 98);  // the budget's rest: a chunk of the long prompt
  CHECK(plan.admit == std::vector<std::int64_t>{5});  // 6 waits: the budget is spent
}

TEST_CASE("batching: the family lists its policies; bad parameters are input errors") {
  sim::PluginCatalog catalog;
  schedulers::register_schedulers_plugins(catalog);
  for (const char* name : {"request-level", "orca", "vllm", "sarathi"}) CHECK(batching_policies(catalog).contains(name));
  CHECK_THROWS_AS(policy("orca", "{max_batch: 0}"), sim::InputError);
  CHECK_THROWS_AS(policy("sarathi", "{token_budget: -5}"), sim::InputError);
}
