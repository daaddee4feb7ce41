// Tests for the reference text_ml kernels.
#include <gtest/gtest.h>

#include "switchyard/reference.h"
#include "switchyard/reference_util.h"
