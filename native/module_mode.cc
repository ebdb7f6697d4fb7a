#include "module_mode.h"

#include <map>

namespace tt {

namespace {

// Keyed by the module's control block, not its address: a new module built
// where a freed one lived must not inherit its mode.
using ModeTable = std::map<std::weak_ptr<torch::nn::Module>, bool, std::owner_less<std::weak_ptr<torch::nn::Module>>>;

ModeTable& Modes() {
  static ModeTable table;
  return table;
}

}  // namespace

void RecordMode(const std::shared_ptr<torch::nn::Module>& module, bool on) {
  ModeTable& table = Modes();
  for (auto it = table.begin(); it != table.end();) it = it->first.expired() ? table.erase(it) : std::next(it);
  for (const auto& m : module->modules(/*include_self=*/true)) table[m] = on;
}

bool RecordedMode(const std::shared_ptr<torch::nn::Module>& module) {
  const ModeTable& table = Modes();
  auto it = table.find(module);
  return it == table.end() ? module->is_training() : it->second;
}

}  // namespace tt
