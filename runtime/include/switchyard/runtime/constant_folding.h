// Constant folding: the graph preparation every load does before planning.
#pragma once

#include <cstddef>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"

namespace switchyard {

// Folds nodes whose inputs are all constants into initializers, using the reference.
// Skips nondeterministic operators and results over `max_bytes`. Returns the count folded.
Result<int> fold_constants(Graph& graph, size_t max_bytes = size_t{256} << 20);

}  // namespace switchyard
