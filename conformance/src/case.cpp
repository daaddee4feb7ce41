// Names of case outcomes, as reports write them.
#include "switchyard/conformance/case.h"

namespace switchyard::conformance {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::passed: return "passed";
    case Outcome::failed: return "failed";
    case Outcome::skipped: return "skipped";
  }
  return "failed";
}

}  // namespace switchyard::conformance
