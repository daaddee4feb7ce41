// Reference kernels: sequence family.
#include "switchyard/reference.h"
#include "switchyard/reference_util.h"

namespace switchyard::reference {

void register_sequence_kernels(KernelRegistry& r) { (void)r; }

}  // namespace switchyard::reference
