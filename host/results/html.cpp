// The HTML the reports share: base64 and escaping (declared in results/report.hpp), and the page,
// badge and value text of results/html.hpp, with the one style sheet every report carries.
#include "results/html.hpp"

#include <fmt/format.h>

#include <ctime>

#include "priorlab/version.hpp"
#include "results/compare.hpp"
#include "results/report.hpp"

using nlohmann::json;

namespace priorlab::host {

std::string base64_encode(std::string_view in) {
  static const char* const table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i < in.size()) {
    const bool two = i + 1 < in.size();
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (two ? static_cast<unsigned char>(in[i + 1]) << 8 : 0);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += two ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

const char* const kStyle = R"(<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:1220px;margin:0 auto;padding:20px 28px 40px}
h1{font-size:24px;margin:6px 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
.meta{color:#4a5263;font-size:14px;margin:4px 0}.desc{font-size:14px;max-width:900px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;font-weight:600;color:#fff;background:#6b7280}
.completed{background:#15803d}.failed{background:#b91c1c}.interrupted,.running,.created,.pending{background:#b45309}
.error{background:#fdecec;border:1px solid #f3b4b4;color:#7f1d1d;padding:8px 12px;border-radius:6px;font-size:13px;margin:8px 0;white-space:pre-wrap;word-break:break-word}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0}th,td{border:1px solid #d8dce3;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#eef1f5}th.num{text-align:right}.sub{font-weight:400;color:#5b6475;font-size:11px}
td.axis{white-space:nowrap}.wide{overflow-x:auto;max-width:100%}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.best{font-weight:700;background:#e7f6ea}
.cards{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.card{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px}
.chart{background:#fff;border:1px solid #d8dce3;border-radius:6px;max-width:100%;height:auto}
figure{display:inline-block;margin:0 14px 14px 0;background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:8px;vertical-align:top}
figure img{max-width:100%;height:auto;display:block;image-rendering:auto}figcaption{font-size:12px;color:#4a5263;margin-top:4px}
pre{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:10px;font-size:12px;overflow:auto;max-height:640px}
.note{font-size:12px;color:#4a5263;max-width:900px}footer{margin-top:30px;font-size:12px;color:#7a8292}
a{color:#1d4ed8}
</style>)";

}  // namespace

namespace detail {

std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
         "</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" + kStyle +
         "</head>\n<body><main>\n" + body +
         fmt::format("<footer>written by priorlab {} on {}</footer>\n</main></body></html>\n", PRIORLAB_VERSION_STRING,
                     now_text());
}

std::string badge(const std::string& status) {
  const std::string s = status.empty() ? "unknown" : status;
  return fmt::format(R"(<span class="badge {}">{}</span>)", html_escape(s), html_escape(s));
}

std::string value_text(const json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return format_number(v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace detail

}  // namespace priorlab::host
