#include "engine/tensorboard.hpp"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

#include "pipeline/safety.hpp"
#include "priorlab/error.hpp"
#include "priorlab/io.hpp"

#if PRIORLAB_WITH_TENSORBOARD
#include "proto/tensorboard_event.pb.h"
#endif

namespace fs = std::filesystem;

namespace priorlab::host {

std::uint32_t masked_crc32c(const void* data, size_t size) {
  const std::uint32_t c = crc32c(data, size);  // safety.hpp: CRC-32C (Castagnoli), Boost.CRC
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

bool tensorboard_enabled() { return PRIORLAB_WITH_TENSORBOARD; }

std::vector<std::pair<std::string, double>> train_scalars(const nlohmann::json& record) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [k, v] : record.items()) {
    if (k == "step") continue;
    if (v.is_number()) out.emplace_back("train/" + k, v.get<double>());
    else if (v.is_boolean()) out.emplace_back("train/" + k, v.get<bool>() ? 1.0 : 0.0);
    else if (v.is_string()) out.emplace_back("train/" + k + "=" + v.get<std::string>(), 1.0);
  }
  return out;
}

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint64_t get_le(const std::string& s, size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

}  // namespace

#if PRIORLAB_WITH_TENSORBOARD

EventWriter::EventWriter(fs::path path, std::FILE* file) : path_(std::move(path)), file_(file) {}

EventWriter::~EventWriter() {
  if (file_) std::fclose(file_);
}

std::unique_ptr<EventWriter> EventWriter::open(const fs::path& run_dir, std::int64_t keep_through_step) {
  const fs::path dir = run_dir / "tensorboard";
  fs::create_directories(dir);
  fs::path existing;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0 && (existing.empty() || e.path() < existing))
      existing = e.path();
  if (existing.empty()) {
    char host[256] = "localhost";
    ::gethostname(host, sizeof host - 1);
    const fs::path path = dir / fmt::format("events.out.tfevents.{}.{}", static_cast<std::int64_t>(now_seconds()), host);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error(path.string(), std::string("cannot write the TensorBoard event file: ") + std::strerror(errno));
    std::unique_ptr<EventWriter> w(new EventWriter(path, f));
    tensorflow::Event event;
    event.set_wall_time(now_seconds());
    event.set_file_version("brain.Event:2");
    w->write_record(event.SerializeAsString());
    return w;
  }
  // Keep the whole records of the steps the run still has; drop the rest (and a torn tail).
  const std::string bytes = read_file(existing.string());
  size_t at = 0, keep = 0;
  while (at + 12 <= bytes.size()) {
    const std::uint64_t len = get_le(bytes, at, 8);
    if (static_cast<std::uint32_t>(get_le(bytes, at + 8, 4)) != masked_crc32c(bytes.data() + at, 8)) break;
    if (len > bytes.size() || at + 12 + len + 4 > bytes.size()) break;
    const std::string data = bytes.substr(at + 12, len);
    if (static_cast<std::uint32_t>(get_le(bytes, at + 12 + len, 4)) != masked_crc32c(data.data(), data.size())) break;
    tensorflow::Event event;
    if (!event.ParseFromString(data)) break;
    if (keep_through_step >= 0 && !event.has_file_version() && event.step() > keep_through_step) break;
    at += 12 + len + 4;
    keep = at;
  }
  if (keep != bytes.size()) write_file_atomic(existing.string(), bytes.substr(0, keep));
  std::FILE* f = std::fopen(existing.c_str(), "ab");
  if (!f) throw Error(existing.string(), std::string("cannot append to the TensorBoard event file: ") + std::strerror(errno));
  return std::unique_ptr<EventWriter>(new EventWriter(existing, f));
}

void EventWriter::write_record(const std::string& data) {
  std::string header;
  put_u64(header, data.size());
  put_u32(header, masked_crc32c(header.data(), 8));
  std::string footer;
  put_u32(footer, masked_crc32c(data.data(), data.size()));
  const std::string record = header + data + footer;
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() || std::fflush(file_) != 0)
    throw Error(path_.string(), std::string("cannot write the TensorBoard event file: ") + std::strerror(errno));
}

void EventWriter::scalars(std::int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  tensorflow::Event event;
  event.set_wall_time(now_seconds());
  event.set_step(step);
  for (const auto& [tag, v] : values) {
    auto* value = event.mutable_summary()->add_value();
    value->set_tag(tag);
    value->set_simple_value(static_cast<float>(v));
  }
  write_record(event.SerializeAsString());
}

bool EventWriter::image(std::int64_t step, const std::string& tag, const std::string& png) {
  // The PNG signature, then IHDR: width and height big-endian at bytes 16 and 20, colour type at 25.
  static const char signature[] = "\x89PNG\r\n\x1a\n";
  if (png.size() < 26 || png.compare(0, 8, signature, 8) != 0 || png.compare(12, 4, "IHDR") != 0) return false;
  auto be32 = [&](size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return static_cast<std::int32_t>(v);
  };
  const int colour = static_cast<unsigned char>(png[25]);
  const int colorspace = colour == 0 ? 1 : colour == 4 ? 2 : colour == 6 ? 4 : 3;  // 2 (RGB), 3 (palette): RGB
  tensorflow::Event event;
  event.set_wall_time(now_seconds());
  event.set_step(step);
  auto* value = event.mutable_summary()->add_value();
  value->set_tag(tag);
  auto* image = value->mutable_image();
  image->set_width(be32(16));
  image->set_height(be32(20));
  image->set_colorspace(colorspace);
  image->set_encoded_image_string(png);
  write_record(event.SerializeAsString());
  return true;
}

#else  // a build without protobuf: no event files

EventWriter::EventWriter(fs::path path, std::FILE* file) : path_(std::move(path)), file_(file) {}
EventWriter::~EventWriter() = default;
std::unique_ptr<EventWriter> EventWriter::open(const fs::path&, std::int64_t) { return nullptr; }
void EventWriter::write_record(const std::string&) {}
void EventWriter::scalars(std::int64_t, const std::vector<std::pair<std::string, double>>&) {}
bool EventWriter::image(std::int64_t, const std::string&, const std::string&) { return false; }

#endif

void write_evaluation_events(const fs::path& run_dir, bool enabled, std::int64_t step, const nlohmann::json& evaluators,
                             const std::vector<std::string>& artefacts) {
  if (!enabled || !tensorboard_enabled()) return;
  try {
    auto w = EventWriter::open(run_dir);
    std::vector<std::pair<std::string, double>> values;
    for (const auto& [name, metrics] : evaluators.items())
      for (const auto& [k, v] : metrics.items())
        if (v.is_number()) values.emplace_back("eval/" + name + "/" + k, v.get<double>());
    if (!values.empty()) w->scalars(step, values);
    for (const auto& a : artefacts) {
      const fs::path p(a);
      if (p.extension() != ".png") continue;
      std::string tag = a.rfind("artefacts/", 0) == 0 ? a.substr(10) : a;
      tag = "eval/" + tag.substr(0, tag.size() - 4);
      w->image(step, tag, read_file((run_dir / p).string()));
    }
  } catch (const std::exception& e) {
    std::cerr << "priorlab: warning: TensorBoard events of the evaluation: " << one_line(e.what()) << std::endl;
  }
}

}  // namespace priorlab::host
