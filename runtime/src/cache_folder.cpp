#include "cache_folder.h"

#include <system_error>

namespace switchyard::cache_folder {

namespace fs = std::filesystem;

namespace {
std::string type_name(fs::file_type t) {
  switch (t) {
    case fs::file_type::regular: return "regular file";
    case fs::file_type::directory: return "directory";
    case fs::file_type::symlink: return "symbolic link";
    case fs::file_type::fifo: return "FIFO";
    case fs::file_type::socket: return "socket";
    case fs::file_type::block: return "block device";
    case fs::file_type::character: return "character device";
    case fs::file_type::not_found: return "missing";
    default: return "special file";
  }
}

bool is_temporary(const fs::path& p) { return p.filename().string().rfind(".tmp-", 0) == 0; }
}  // namespace

std::string describe_file_type(const fs::path& path) {
  std::error_code ec;
  const std::string name = type_name(fs::symlink_status(path, ec).type());
  return name == "missing" ? name : "a " + name;
}

std::vector<Item> scan(const fs::path& dir) {
  std::vector<Item> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != kExtension) continue;
    Item item;
    item.path = e.path();
    const fs::file_type type = e.symlink_status(ec).type();
    item.file_type = type_name(type);
    item.modified = fs::symlink_status(e.path(), ec).type() == fs::file_type::symlink ? fs::file_time_type{} : e.last_write_time(ec);
    if (type == fs::file_type::regular) item.bytes = e.file_size(ec);
    if (is_temporary(e.path())) {
      item.kind = ItemKind::temporary;
      item.orphaned = fs::file_time_type::clock::now() - item.modified > kOrphanAge;
    } else if (e.path().filename().string()[0] == '.') {
      continue;  // not something the cache writes
    } else {
      item.kind = type == fs::file_type::regular ? ItemKind::entry : ItemKind::not_a_file;
    }
    out.push_back(std::move(item));
  }
  return out;
}

Status remove_item(const fs::path& path) {
  std::error_code ec;
  const bool directory = fs::symlink_status(path, ec).type() == fs::file_type::directory;
  if (directory) fs::remove_all(path, ec);
  else fs::remove(path, ec);
  if (ec) return Status(StatusCode::io_error, "could not remove " + path.string() + ": " + ec.message());
  return {};
}

int remove_orphaned_temporaries(const fs::path& dir) {
  int removed = 0;
  for (const auto& item : scan(dir))
    if (item.orphaned && remove_item(item.path).ok()) ++removed;
  return removed;
}

}  // namespace switchyard::cache_folder
