// The architectures by torchvision's name: each builds its module tree and
// says where its classifier layer lives. Adding one is a file under models/
// and a line in registry.cc.
#pragma once
#include "torch_pch.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers.h"

namespace tt {

// A builder's options, as the JavaScript caller gave them (numbers and booleans).
struct ArchOptions {
  std::map<std::string, double> values;
  double Number(const std::string& name, double fallback) const;
  int64_t Int(const std::string& name, int64_t fallback) const;
  bool Flag(const std::string& name, bool fallback) const;
};

struct Arch {
  std::shared_ptr<Layer> module;
  std::string head;  // dotted path of the classifier Linear: fc, classifier.3, heads.head
};

using ArchBuilder = std::function<Arch(const ArchOptions&)>;

Arch CreateArch(const std::string& name, const ArchOptions& options);
std::vector<std::string> ArchNames();

}  // namespace tt
