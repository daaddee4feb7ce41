// Tests for the reference signal kernels.
#include <gtest/gtest.h>

#include "switchyard/reference.h"
#include "switchyard/reference_util.h"
