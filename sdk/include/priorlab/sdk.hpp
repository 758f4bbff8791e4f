// Everything a plugin author needs.
#pragma once

#include "priorlab/constraint.hpp"
#include "priorlab/diagnostics.hpp"
#include "priorlab/io.hpp"
#include "priorlab/layers.hpp"
#include "priorlab/likelihood.hpp"
#include "priorlab/math.hpp"
#include "priorlab/plot.hpp"
#include "priorlab/plugin.hpp"
#include "priorlab/tensor_dataset.hpp"
#include "priorlab/evaluation.hpp"
#include "priorlab/graph.hpp"
