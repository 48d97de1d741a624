// A plugin that takes a name another library already registered ("hello"): loading both is
// bad input naming both libraries.
#include "app/experiment.hpp"

WARPSIM_PLUGIN_ENTRY {
  app::experiments(catalog).add("hello", "a second 'hello' (a name clash)", {},
                                [](const sim::Config&) -> std::unique_ptr<app::Experiment> {
                                  return nullptr;
                                });
}
