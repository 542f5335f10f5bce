#include "storage/backends/xml.h"

#include <charconv>
#include <cstdint>

namespace stash::http {
namespace {

bool IsNameEnd(char c) { return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Appends `code` as UTF-8; false for values outside Unicode.
bool AppendUtf8(uint32_t code, std::string& out) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x110000) {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    return false;
  }
  return true;
}

// Decodes the entity `name` (between '&' and ';'); false if unknown.
bool AppendEntity(std::string_view name, std::string& out) {
  if (name == "amp") return out += '&', true;
  if (name == "lt") return out += '<', true;
  if (name == "gt") return out += '>', true;
  if (name == "quot") return out += '"', true;
  if (name == "apos") return out += '\'', true;
  if (name.size() < 2 || name[0] != '#') return false;
  int base = 10;
  name.remove_prefix(1);
  if (name[0] == 'x' || name[0] == 'X') {
    base = 16;
    name.remove_prefix(1);
  }
  uint32_t code = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), code, base);
  if (ec != std::errc() || end != name.data() + name.size()) return false;
  return AppendUtf8(code, out);
}

Result<uint64_t> ParseSize(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Corrupt("bad <Size> \"" + std::string(text.substr(0, 40)) + "\"");
  }
  return v;
}

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  // Built by appending: GCC 12 warns (-Wrestrict, falsely) on "<" + string.
  std::string open("<"), close("</");
  open.append(tag);
  close.append(tag).append(">");
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t after = pos + open.size();
    if (after >= xml.size() || !IsNameEnd(xml[after])) {
      pos = after;
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <tag/>
      out.push_back(std::string_view());
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

std::optional<std::string> XmlText(std::string_view xml, std::string_view tag) {
  auto found = XmlElements(xml, tag);
  if (found.empty()) return std::nullopt;
  return XmlUnescape(found[0]);
}

std::string XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 9) == "<![CDATA[") {
      size_t end = text.find("]]>", i + 9);
      if (end == std::string_view::npos) end = text.size();
      out.append(text.substr(i + 9, end - i - 9));
      i = end == text.size() ? end : end + 2;
      continue;
    }
    if (text[i] == '&') {
      size_t semi = text.find(';', i + 1);
      if (semi != std::string_view::npos && semi - i <= 12 &&
          AppendEntity(text.substr(i + 1, semi - i - 1), out)) {
        i = semi;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

Result<ListPage> ParseListPage(std::string_view xml) {
  if (xml.find("<ListBucketResult") == std::string_view::npos) {
    return Corrupt("not a ListObjectsV2 result: \"" + std::string(xml.substr(0, 80)) + "\"");
  }
  ListPage page;
  for (std::string_view contents : XmlElements(xml, "Contents")) {
    auto key = XmlText(contents, "Key");
    auto size = XmlText(contents, "Size");
    if (!key || !size) return Corrupt("list entry without <Key> or <Size>");
    STASH_ASSIGN_OR_RETURN(uint64_t bytes, ParseSize(*size));
    page.objects.push_back({*key, bytes});
  }
  page.truncated = XmlText(xml, "IsTruncated").value_or("false") == "true";
  page.next_token = XmlText(xml, "NextContinuationToken").value_or("");
  std::string last = page.objects.empty() ? "" : page.objects.back().key;
  page.next_marker = XmlText(xml, "NextMarker").value_or(last);
  if (page.truncated && page.next_token.empty() && page.next_marker.empty()) {
    return Corrupt("truncated list page without a NextContinuationToken or marker");
  }
  return page;
}

}  // namespace stash::http
