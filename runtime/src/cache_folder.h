// What lies in a plan-cache folder, as the cache's maintenance sees it: entries (regular files
// named <digest>.syc), things at an entry's name that are not regular files (a directory, a FIFO,
// a link: never opened, bypassed by loads, removed by clear and prune), and the temporary files
// of entry writes (.tmp-*.syc; orphaned when no writer has touched them for kOrphanAge, as a
// write killed midway leaves them).
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "switchyard/hal/status.h"

namespace switchyard::cache_folder {

inline constexpr const char* kExtension = ".syc";
inline constexpr std::chrono::minutes kOrphanAge{5};

enum class ItemKind { entry, not_a_file, temporary };

struct Item {
  std::filesystem::path path;
  ItemKind kind = ItemKind::entry;
  std::string file_type;  // "regular file", "directory", "FIFO", "symbolic link", ...
  uint64_t bytes = 0;     // regular files only
  std::filesystem::file_time_type modified{};
  bool orphaned = false;  // temporary, and untouched for kOrphanAge
};

// Every .syc item in `dir` (none if `dir` does not exist), without following links.
std::vector<Item> scan(const std::filesystem::path& dir);
// "a directory", "a FIFO", ... for messages; "missing" if nothing is there.
std::string describe_file_type(const std::filesystem::path& path);
// Removes one item (a directory with what it holds); the error names the item and the reason.
Status remove_item(const std::filesystem::path& path);
// Removes orphaned temporaries; returns how many. Failures are ignored (the next writer retries).
int remove_orphaned_temporaries(const std::filesystem::path& dir);

}  // namespace switchyard::cache_folder
