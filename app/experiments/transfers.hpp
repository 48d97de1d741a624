#pragma once
// `experiment: transfers` — bulk transfers sharing links through the fair-share solver.
// The foundation's demonstration scenario: fixed transfers plus optional random arrivals,
// reporting each transfer's finish time and throughput and each link's utilization.

#include "sim/registry.hpp"

namespace app {

void register_transfers_experiment(sim::PluginCatalog& catalog);

}  // namespace app
