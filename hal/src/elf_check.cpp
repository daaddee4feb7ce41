#include "elf_check.h"

#include <elf.h>

#include <cstring>
#include <string>

#include "switchyard/hal/mapped_file.h"

namespace switchyard {

namespace {
#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#else
#error "add this machine's ELF e_machine"
#endif

// True when [offset, offset + size) lies inside a file of `file_size` bytes (no overflow).
bool inside(uint64_t offset, uint64_t size, uint64_t file_size) { return offset <= file_size && size <= file_size - offset; }

std::string header_problem(const Elf64_Ehdr& h, uint64_t file_size) {
  if (h.e_ident[EI_CLASS] != ELFCLASS64) return "is not a 64-bit ELF file";
  if (h.e_ident[EI_DATA] != ELFDATA2LSB) return "is not little-endian";
  if (h.e_type != ET_DYN) return "is not a shared object (ELF type " + std::to_string(h.e_type) + ")";
  if (h.e_machine != kHostMachine) return "is built for another machine (ELF machine " + std::to_string(h.e_machine) + ")";
  if (h.e_phentsize != sizeof(Elf64_Phdr) || h.e_phnum == 0) return "has no valid program headers";
  if (!inside(h.e_phoff, uint64_t{h.e_phnum} * sizeof(Elf64_Phdr), file_size))
    return "is truncated: its program headers end past the end of the file";
  if (h.e_shoff != 0 && !inside(h.e_shoff, uint64_t{h.e_shnum} * h.e_shentsize, file_size))
    return "is truncated: its section headers end past the end of the file";
  return {};
}
}  // namespace

Status check_elf_library(const std::filesystem::path& library) {
  SY_ASSIGN_OR_RETURN(auto file, MappedFile::open(library, "plugin library"));
  const uint64_t size = file->size();
  auto bad = [&](const std::string& what) {
    return Status(StatusCode::invalid_argument, "plugin library '" + library.string() + "' (" + std::to_string(size) +
                                                    " bytes) " + what + "; the dynamic loader was not asked to load it");
  };
  Elf64_Ehdr h;
  if (size < sizeof h || std::memcmp(file->data(), ELFMAG, SELFMAG) != 0) return bad("is not an ELF file");
  std::memcpy(&h, file->data(), sizeof h);
  if (auto problem = header_problem(h, size); !problem.empty()) return bad(problem);
  for (uint16_t i = 0; i < h.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, file->data() + h.e_phoff + uint64_t{i} * sizeof ph, sizeof ph);
    if (ph.p_type == PT_NULL || ph.p_filesz == 0) continue;
    if (!inside(ph.p_offset, ph.p_filesz, size))
      return bad("is truncated: segment " + std::to_string(i) + " (type " + std::to_string(ph.p_type) + ") needs bytes up to " +
                 std::to_string(ph.p_offset + ph.p_filesz));
  }
  return {};
}

}  // namespace switchyard
