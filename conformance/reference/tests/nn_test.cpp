// Tests for the reference nn kernels.
#include <gtest/gtest.h>

#include "switchyard/reference.h"
#include "switchyard/reference_util.h"
