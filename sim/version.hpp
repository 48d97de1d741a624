#pragma once
// The warpsim version a plugin is built against. WARPSIM_PLUGIN_ENTRY stamps it into the
// library and `--plugin` refuses a library stamped with another: the interfaces a plugin
// implements change between versions. Kept equal to meson.build's project version (checked by
// tests/sim/test_registry.cpp).
#define WARPSIM_PLUGIN_ABI "warpsim 0.1.0"
