// Reference kernels: elementwise family.
#include "switchyard/reference.h"
#include "switchyard/reference_util.h"

namespace switchyard::reference {

void register_elementwise_kernels(KernelRegistry& r) { (void)r; }

}  // namespace switchyard::reference
