// Tests for the reference shape kernels.
#include <gtest/gtest.h>

#include "switchyard/reference.h"
#include "switchyard/reference_util.h"
