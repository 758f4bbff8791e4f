// The HTML page kit the reports share (internal to the results room): the page around a body
// (head, style sheet, footer), a status badge, a JSON value as text. base64_encode and
// html_escape, also written in html.cpp, are public: results/report.hpp declares them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace priorlab::host::detail {

/// A whole self-contained page: the title escaped, the report's style sheet inline, the body as
/// given, and a footer naming the version and the time written.
std::string page(const std::string& title, const std::string& body);

/// A run's status as a coloured badge ("unknown" when empty).
std::string badge(const std::string& status);

/// A JSON value as a table shows it: integers whole, numbers by format_number, strings bare.
std::string value_text(const nlohmann::json& v);

}  // namespace priorlab::host::detail
