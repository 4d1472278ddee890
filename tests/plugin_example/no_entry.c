/* A shared object that is not a sluice plugin: no entry point. */
int not_a_plugin(void) { return 42; }
