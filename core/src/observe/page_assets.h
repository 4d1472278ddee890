// The status page's files (core/src/observe/page/), compiled into the binary
// by core/cmake/embed_page.cmake: served from memory, no file on disk.
#pragma once

#include <span>
#include <string_view>

namespace sluice {

struct PageAsset {
  std::string_view path;          // URL path: "/", "/static/app.js", …
  std::string_view content_type;  // with charset for text
  std::string_view body;
};

std::span<const PageAsset> page_assets();

}  // namespace sluice
