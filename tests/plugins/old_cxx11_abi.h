// Forced before everything else (-include) by the test_bad_oldabi plugin: the pre-C++11 string
// ABI, whatever -D_GLIBCXX_USE_CXX11_ABI=1 Torch's CMake appends to the command line.
#undef _GLIBCXX_USE_CXX11_ABI
#define _GLIBCXX_USE_CXX11_ABI 0
