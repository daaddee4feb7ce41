// Tests for the reference sequence kernels.
#include <gtest/gtest.h>

#include "switchyard/reference.h"
#include "switchyard/reference_util.h"
