#include "pipeline/safety.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>

#include <boost/crc.hpp>
#include <zlib.h>
#include <fmt/format.h>

#include "priorlab/error.hpp"
#include "priorlab/io.hpp"

namespace fs = std::filesystem;

namespace priorlab::host {

std::uint32_t crc32c(const void* data, std::size_t size) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

std::string check_zip_container(const std::string& bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::uint64_t n = bytes.size();
  auto u16 = [&](std::uint64_t at) -> std::uint64_t { return b[at] | b[at + 1] << 8; };
  auto u32 = [&](std::uint64_t at) -> std::uint64_t { return u16(at) | u16(at + 2) << 16; };
  auto u64 = [&](std::uint64_t at) -> std::uint64_t { return u32(at) | u32(at + 4) << 32; };
  auto fits = [&](std::uint64_t at, std::uint64_t len) { return at <= n && len <= n - at; };  // no overflow
  // The end-of-central-directory record: the last "PK\5\6" within 22 + 65,535 bytes of the end.
  if (n < 22) return fmt::format("{} bytes, too short for a ZIP archive", n);
  std::uint64_t eocd = n - 22;
  while (!(b[eocd] == 'P' && b[eocd + 1] == 'K' && b[eocd + 2] == 5 && b[eocd + 3] == 6)) {
    if (eocd == 0 || n - eocd > 22 + 65535) return "no ZIP end-of-directory record (not a checkpoint, or cut short)";
    --eocd;
  }
  std::uint64_t entries = u16(eocd + 10), dir_size = u32(eocd + 12), dir_at = u32(eocd + 16);
  // zip64: the locator just before points at the zip64 end record, which holds 64-bit values.
  if (eocd >= 20 && u32(eocd - 20) == 0x07064b50) {
    const std::uint64_t z = u64(eocd - 20 + 8);
    if (!fits(z, 56) || u32(z) != 0x06064b50) return "damaged zip64 end-of-directory record";
    entries = u64(z + 32), dir_size = u64(z + 40), dir_at = u64(z + 48);
  }
  if (!fits(dir_at, dir_size)) return "the ZIP directory lies outside the file";
  std::uint64_t at = dir_at;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (!fits(at, 46) || u32(at) != 0x02014b50) return fmt::format("ZIP directory entry {} is damaged", e);
    const std::uint64_t method = u16(at + 10), crc = u32(at + 16), name_len = u16(at + 28), extra_len = u16(at + 30),
                        comment_len = u16(at + 32);
    std::uint64_t size = u32(at + 20), local = u32(at + 42);
    if (!fits(at, 46 + name_len + extra_len + comment_len)) return fmt::format("ZIP directory entry {} is cut short", e);
    const std::string name(bytes, at + 46, name_len);
    // zip64 extra field (id 1): 64-bit sizes and offset, for those fields that read 0xFFFFFFFF.
    for (std::uint64_t x = at + 46 + name_len; x + 4 <= at + 46 + name_len + extra_len;) {
      const std::uint64_t id = u16(x), len = u16(x + 2);
      if (x + 4 + len > at + 46 + name_len + extra_len) break;
      if (id == 1) {
        std::uint64_t f = x + 4;
        if (u32(at + 24) == 0xFFFFFFFF && f + 8 <= x + 4 + len) f += 8;  // uncompressed size
        if (size == 0xFFFFFFFF && f + 8 <= x + 4 + len) size = u64(f), f += 8;
        if (local == 0xFFFFFFFF && f + 8 <= x + 4 + len) local = u64(f);
      }
      x += 4 + len;
    }
    if (method != 0 && method != 8) return fmt::format("entry {}: compression method {} (expected stored or deflate)", name, method);
    if (!fits(local, 30) || u32(local) != 0x04034b50) return fmt::format("entry {}: its local header is damaged", name);
    const std::uint64_t data = local + 30 + u16(local + 26) + u16(local + 28);
    if (!fits(data, size)) return fmt::format("entry {} runs past the end of the file", name);
    std::uint64_t sum = 0;
    if (method == 0) {
      boost::crc_32_type c;
      c.process_bytes(b + data, size);
      sum = c.checksum();
    } else {
      // Raw deflate, inflated in chunks (never more than the directory's uncompressed size).
      z_stream z{};
      if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return "zlib could not start";
      z.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(b + data));
      z.avail_in = static_cast<uInt>(std::min<std::uint64_t>(size, 0x7fffffff));
      unsigned char chunk[1 << 15];
      uLong c = crc32(0L, Z_NULL, 0);
      int rc = Z_OK;
      std::uint64_t out = 0;
      while (rc == Z_OK) {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        const std::uint64_t got = sizeof chunk - z.avail_out;
        c = crc32(c, chunk, static_cast<uInt>(got));
        out += got;
        if (out > u32(at + 24) && u32(at + 24) != 0xFFFFFFFF) rc = Z_DATA_ERROR;  // larger than declared
        if (rc == Z_OK && got == 0 && z.avail_in == 0) rc = Z_BUF_ERROR;         // input ended early
      }
      inflateEnd(&z);
      if (rc != Z_STREAM_END) return fmt::format("entry {}: its compressed data are damaged", name);
      sum = c;
    }
    if (sum != crc) return fmt::format("entry {}: CRC-32 {:08x}, the directory records {:08x}", name, sum, crc);
    at += 46 + name_len + extra_len + comment_len;
  }
  return {};
}

namespace {

std::string human_bytes(std::uintmax_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.1f} GiB", static_cast<double>(b) / (1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1ull << 20));
  if (b >= (1ull << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(b) / (1ull << 10));
  return fmt::format("{} bytes", b);
}

std::string lock_text(const fs::path& run_dir) {
  std::error_code ec;
  const auto path = run_dir / ".lock";
  if (!fs::is_regular_file(path, ec)) return {};
  try {
    return read_file(path.string());
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace

RunLock RunLock::acquire(const fs::path& run_dir, const std::string& what) {
  const auto path = (run_dir / ".lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path, std::string("cannot open the run's lock file: ") + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      const long pid = holder(run_dir);
      // The record is "<pid> priorlab <command>".
      const std::string text = one_line(lock_text(run_dir));
      const auto space = text.find(' ');
      const std::string command = space == std::string::npos ? std::string() : text.substr(space + 1);
      throw Error(run_dir.string(),
                  fmt::format("in use: {} holds the run folder's lock; wait for it to end, or stop it",
                              pid > 0 ? fmt::format("priorlab process {} ({})", pid, command)
                                      : std::string("another process")));
    }
    throw Error(path, std::string("cannot lock the run folder: ") + std::strerror(err));
  }
  const std::string record = fmt::format("{} priorlab {}\n", ::getpid(), what);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) {
    // The lock holds without the record; only the message naming the holder would lose its pid.
  }
  return RunLock(fd);
}

long RunLock::holder(const fs::path& run_dir) {
  const std::string text = lock_text(run_dir);
  try {
    return text.empty() ? 0 : std::stol(text);
  } catch (const std::exception&) {
    return 0;
  }
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

void check_free_space(const fs::path& dir, std::uintmax_t bytes, const std::string& what) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return;  // unknown: the write itself will say
  const std::uintmax_t available = static_cast<std::uintmax_t>(s.f_bavail) * s.f_frsize;
  if (available >= bytes) return;
  throw Error(dir.string(), fmt::format("needs {} for {}, {} free on its file system ({} missing)", human_bytes(bytes),
                                        what, human_bytes(available), human_bytes(bytes - available)));
}

int remove_stale_temporaries(const fs::path& run_dir) {
  // write_file_atomic's temporaries: "<stem>.tmp<pid><ext>" (io.cpp, temporary_for).
  static const std::regex pattern(R"(.+\.tmp[0-9]+(\.[A-Za-z0-9]+)?)");
  int removed = 0;
  for (const auto& sub : {run_dir, run_dir / "checkpoints", run_dir / "artefacts"}) {
    std::error_code ec;
    if (!fs::is_directory(sub, ec)) continue;
    for (const auto& e : fs::directory_iterator(sub, ec)) {
      const auto name = e.path().filename().string();
      if (e.is_regular_file(ec) && std::regex_match(name, pattern) && fs::remove(e.path(), ec)) ++removed;
    }
  }
  return removed;
}

std::string checksum_path(const std::string& checkpoint_path) { return checkpoint_path + ".sum"; }

nlohmann::json checksum_record(const std::string& bytes) {
  return {{"bytes", bytes.size()}, {"crc32c", fmt::format("{:08x}", crc32c(bytes.data(), bytes.size()))}};
}

std::string verify_checksum(const std::string& path, const std::string& bytes, bool* unverified) {
  const auto sum = checksum_path(path);
  std::error_code ec;
  if (unverified) *unverified = false;
  if (!fs::exists(sum, ec)) {
    if (unverified) *unverified = true;
    return {};
  }
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(read_file(sum));
  } catch (const std::exception& e) {
    return fmt::format("its checksum record {} is unreadable ({})", sum, one_line(e.what()));
  }
  const auto want = checksum_record(bytes);
  if (record.value("bytes", std::uint64_t{0}) != bytes.size())
    return fmt::format("{} bytes, its checksum record says {}", bytes.size(), record.value("bytes", std::uint64_t{0}));
  if (record.value("crc32c", std::string()) != want["crc32c"].get<std::string>())
    return fmt::format("CRC-32C {}, its checksum record says {}", want["crc32c"].get<std::string>(),
                       record.value("crc32c", std::string()));
  return {};
}

const std::vector<std::string>& resumable_training_options() {
  static const std::vector<std::string> names = {"iterations",        "log_every",           "checkpoint_every",
                                                 "keep_checkpoints",  "threads",             "diagnostics_examples",
                                                 "active_threshold",  "collapse_patience"};
  return names;
}

nlohmann::json run_identity(const nlohmann::json& config) {
  nlohmann::json id = config;
  if (!id.is_object()) return id;
  // How many processes computed a step, and over which backend, changes only how a batch is
  // split (docs/distributed.md): a run may resume under another world size.
  for (const char* key : {"name", "description", "evaluators", "tensorboard", "distributed"}) id.erase(key);
  if (id.contains("training") && id["training"].is_object())
    for (const auto& key : resumable_training_options()) id["training"].erase(key);
  return id;
}

std::string first_difference(const nlohmann::json& checkpoint, const nlohmann::json& pipeline) {
  for (const auto& op : nlohmann::json::diff(checkpoint, pipeline)) {
    const nlohmann::json::json_pointer at(op.at("path").get<std::string>());
    const std::string kind = op.at("op");
    // A key the checkpoint's record lacks inside an object it has is an option added to
    // priorlab after the checkpoint was written; its default keeps the old behaviour.
    if (kind == "add" && !at.empty() && checkpoint.contains(at.parent_pointer())) continue;
    const auto shown = [](const nlohmann::json& j, const nlohmann::json::json_pointer& p) {
      return j.contains(p) ? j.at(p).dump() : std::string("nothing");
    };
    return fmt::format("{}: the checkpoint was written by a pipeline with {}, this one has {}", at.to_string(),
                       shown(checkpoint, at), shown(pipeline, at));
  }
  return {};
}

namespace {

std::string sizes_string(const torch::Tensor& t) {
  std::string s = "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

void check_archive(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& what,
                   const std::string& prefix) {
  auto check = [&](const std::string& key, const torch::Tensor& mine, bool is_buffer) {
    torch::Tensor theirs;
    if (!archive.try_read(key, theirs, is_buffer))
      throw Error(what, fmt::format("{} {}{} of this pipeline is not in the checkpoint (another model?)",
                                    is_buffer ? "buffer" : "parameter", prefix, key));
    if (theirs.sizes() != mine.sizes() || theirs.scalar_type() != mine.scalar_type())
      throw Error(what, fmt::format("{}{}: the checkpoint holds {} {}, this pipeline {} {} (another model?)", prefix,
                                    key, c10::toString(theirs.scalar_type()), sizes_string(theirs),
                                    c10::toString(mine.scalar_type()), sizes_string(mine)));
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false)) check(p.key(), p.value(), false);
  for (const auto& b : module.named_buffers(/*recurse=*/false)) check(b.key(), b.value(), true);
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive sub;
    if (!archive.try_read(child.key(), sub))
      throw Error(what, fmt::format("module {}{} of this pipeline is not in the checkpoint (another model?)", prefix,
                                    child.key()));
    check_archive(*child.value(), sub, what, prefix + child.key() + ".");
  }
}

}  // namespace

void check_module_archive(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& what) {
  check_archive(module, archive, what, "");
}

}  // namespace priorlab::host
