// Reference kernels: text_ml family.
#include "switchyard/reference.h"
#include "switchyard/reference_util.h"

namespace switchyard::reference {

void register_text_ml_kernels(KernelRegistry& r) { (void)r; }

}  // namespace switchyard::reference
