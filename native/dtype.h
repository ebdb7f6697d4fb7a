// Names of dtypes as PyTorch spells them, without the "torch." prefix.
#pragma once
#include "torch_pch.h"

#include <string>

namespace tt {

std::string DtypeName(c10::ScalarType type);
// Throws std::invalid_argument naming the dtype when it is not one we bind.
c10::ScalarType DtypeFromName(const std::string& name);

}  // namespace tt
