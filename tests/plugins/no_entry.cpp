// A shared library that is not a priorlab plugin: it exports no handshake.
extern "C" int some_unrelated_function() { return 42; }
