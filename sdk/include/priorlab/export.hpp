// Symbol visibility. Everything priorlab builds uses -fvisibility=hidden; what crosses a
// library boundary (SDK functions, interface classes for RTTI and exceptions) is marked here.
#pragma once

#define PRIORLAB_API __attribute__((visibility("default")))
#define PRIORLAB_HIDDEN __attribute__((visibility("hidden")))
