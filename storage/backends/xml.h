// Just enough XML for S3's answers: ListObjectsV2 pages, bucket locations
// and <Error> bodies. These documents are flat and machine-written, so a
// scanner that finds elements by name replaces a full parser. The input is
// untrusted network bytes: every lookup is bounds-checked, malformed input
// yields nothing rather than anything undefined.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace stash::http {

// The raw inner text of every <tag>...</tag> (or <tag attr="...">) in
// `xml`, in order, not descending into a match. Self-closing <tag/> yields
// an empty string.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);

// The unescaped text of the first <tag> element, if any.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag);

// Resolves &amp; &lt; &gt; &quot; &apos; and numeric character references;
// strips <![CDATA[ ]]> wrappers.
std::string XmlUnescape(std::string_view text);

struct ListedObject {
  std::string key;
  uint64_t size = 0;
};

struct ListPage {
  std::vector<ListedObject> objects;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken, for the next request
  // In a ListObjects (v1) answer: where the next page starts (NextMarker,
  // else the page's last key).
  std::string next_marker;
};

// Parses one ListObjectsV2 (or V1) result page; kCorrupt on a missing or
// malformed <Key> or <Size>, or a truncated page that says nowhere where
// the next one starts.
Result<ListPage> ParseListPage(std::string_view xml);

}  // namespace stash::http
