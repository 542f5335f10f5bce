#include "storage/key_file.h"

#include <algorithm>

#include "base/go_json.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "base/json_util.h"

namespace stash {
namespace {

constexpr size_t kSaltSize = 64;

template <size_t N>
bool CopyBase64(const rapidjson::Value& obj, const char* key, std::array<uint8_t, N>& out) {
  auto text = json::String(obj, key);
  if (!text) return false;
  auto bytes = Base64Decode(*text);
  if (!bytes || bytes->size() != N) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

}  // namespace

std::string EncodeKeyFile(const KeyFile& key) {
  std::string out = "{\"created\":\"" + FormatRfc3339Nano(key.created) + "\",\"username\":";
  AppendGoJsonString(out, key.username);
  out += ",\"hostname\":";
  AppendGoJsonString(out, key.hostname);
  out += ",\"kdf\":";
  AppendGoJsonString(out, key.kdf);
  out += ",\"N\":" + std::to_string(key.params.n) + ",\"r\":" + std::to_string(key.params.r) +
         ",\"p\":" + std::to_string(key.params.p) + ",\"salt\":\"" + Base64Encode(key.salt) +
         "\",\"data\":\"" + Base64Encode(key.data) + "\"}";
  return out;
}

Result<KeyFile> DecodeKeyFile(ByteView bytes) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(AsString(bytes), "key file"));
  KeyFile key;
  auto kdf = json::String(doc, "kdf");
  auto n = json::Uint(doc, "N");
  auto r = json::Uint(doc, "r");
  auto p = json::Uint(doc, "p");
  auto salt = json::String(doc, "salt");
  auto data = json::String(doc, "data");
  if (!kdf || !n || !r || !p || !salt || !data) {
    return Corrupt("key file: missing kdf, N, r, p, salt or data");
  }
  if (*kdf != "scrypt") return Unsupported("key file: unknown kdf \"" + *kdf + "\"");
  if (*r > UINT32_MAX || *p > UINT32_MAX) return Corrupt("key file: scrypt parameters out of range");
  key.params = {*n, static_cast<uint32_t>(*r), static_cast<uint32_t>(*p)};
  auto salt_bytes = Base64Decode(*salt);
  auto data_bytes = Base64Decode(*data);
  if (!salt_bytes || !data_bytes) return Corrupt("key file: invalid base64 in salt or data");
  key.salt = std::move(*salt_bytes);
  key.data = std::move(*data_bytes);
  key.username = json::String(doc, "username").value_or("");
  key.hostname = json::String(doc, "hostname").value_or("");
  if (auto created = json::String(doc, "created")) {
    key.created = ParseRfc3339(*created).value_or(Timestamp{});
  }
  return key;
}

Result<CryptoKey> OpenKeyFile(const KeyFile& key, std::string_view password) {
  if (key.salt.size() != kSaltSize) return Corrupt("key file: salt is not 64 bytes");
  STASH_RETURN_IF_ERROR(ValidateScryptParams(key.params));
  STASH_ASSIGN_OR_RETURN(CryptoKey user, DeriveUserKey(password, key.salt, key.params));
  auto plain = Open(user, key.data);
  if (!plain.ok()) return AuthError("wrong password or no key found");
  return DecodeMasterKey(*plain);
}

Result<KeyFile> NewKeyFile(const CryptoKey& master, std::string_view password,
                           const ScryptParams& params, std::string username,
                           std::string hostname) {
  KeyFile key;
  key.created = Timestamp::Now();
  key.username = std::move(username);
  key.hostname = std::move(hostname);
  key.params = params;
  key.salt = RandomBytes(kSaltSize);
  STASH_ASSIGN_OR_RETURN(CryptoKey user, DeriveUserKey(password, key.salt, params));
  key.data = Seal(user, AsBytes(EncodeMasterKey(master)));
  return key;
}

std::string EncodeMasterKey(const CryptoKey& key) {
  return "{\"mac\":{\"k\":\"" + Base64Encode(key.mac_k) + "\",\"r\":\"" +
         Base64Encode(key.mac_r) + "\"},\"encrypt\":\"" + Base64Encode(key.encrypt) + "\"}";
}

Result<CryptoKey> DecodeMasterKey(ByteView bytes) {
  STASH_ASSIGN_OR_RETURN(auto doc, json::Parse(AsString(bytes), "master key"));
  CryptoKey key;
  const auto* mac = json::Member(doc, "mac");
  if (!mac || !CopyBase64(*mac, "k", key.mac_k) || !CopyBase64(*mac, "r", key.mac_r) ||
      !CopyBase64(doc, "encrypt", key.encrypt) || !key.Valid()) {
    return Corrupt("master key: invalid or incomplete key material");
  }
  return key;
}

}  // namespace stash
