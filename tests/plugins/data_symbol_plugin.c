/* tests/plugins/data_symbol_plugin.c — a shared object whose hl_plugin_v1 is data, not a function: the loader must
 * refuse it instead of calling into its bytes (tests/lab/test_plugin.c). */
const char hl_plugin_v1[64] = "this is data, not the plugin entry point";
