// Hex and standard base64 (with padding), as restic's JSON uses them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace stash {

std::string HexEncode(ByteView data);
std::optional<Bytes> HexDecode(std::string_view hex);

std::string Base64Encode(ByteView data);
// Strict standard base64 with padding; nullopt on any invalid character.
std::optional<Bytes> Base64Decode(std::string_view text);

}  // namespace stash
