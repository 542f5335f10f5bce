// Index files: the JSON that lists packs and the blobs in each.
//
// An index file is an object {"supersedes": [ids], "packs": [pack, ...]}
// (very old restic wrote the bare array of packs); a pack is {"id", "blobs"}
// and a blob {"id", "type", "offset", "length", "uncompressed_length"}.
// docs/repository-format.md has the details. Index files of 50,000 blobs
// are several MiB of text, so both directions work in pieces: the encoder
// hands out text a few KiB at a time, and the decoder reads it as a stream
// of events, never building a document tree of the whole file.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/id.h"
#include "storage/pack.h"

namespace stash {

// One pack and the blobs it holds, as an index file lists it.
struct IndexedPack {
  Id id;
  std::vector<PackedBlob> blobs;
};

struct IndexFile {
  std::vector<Id> supersedes;
  std::vector<IndexedPack> packs;
  bool old_format = false;  // a bare array of packs, from very old restic
};

// Compact JSON followed by "\n", as restic's index encoder writes it.
std::string EncodeIndexFile(const IndexFile& index);
// The same text handed to `sink` in pieces of some KiB, so a large index
// file can be compressed and sealed without ever being held whole as text.
void EncodeIndexFilePieces(const IndexFile& index, const std::function<void(std::string_view)>& sink);

// Reads both the current and the old (array) format. In a format 1
// repository compressed blobs are rejected, as restic rejects them.
// Members it does not know are skipped; of a member given twice the first
// counts. Errors are kCorrupt (kUnsupported for a compressed blob in
// format 1) and name the pack and blob at fault; invalid JSON is reported
// before anything else.
Result<IndexFile> DecodeIndexFile(ByteView json, int repo_version);

// The next piece of a text, valid until the next call; empty at the end.
using TextPieces = std::function<Result<ByteView>()>;
// The same for text that arrives in pieces (decompressed as it is parsed),
// so the text is never held whole. An error from `next` is returned as is.
Result<IndexFile> DecodeIndexFile(const TextPieces& next, int repo_version);

}  // namespace stash
