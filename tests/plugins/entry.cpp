// The handshake of the test libraries built without priorlab_add_plugin().
#include <priorlab/plugin.hpp>

PRIORLAB_LIBRARY_ENTRY()
